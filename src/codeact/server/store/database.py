"""What every topic of the store shares: the engine, sessions and ``@transaction``.

SQLAlchemy 2 on SQLite by default or PostgreSQL by URL; opening a database migrates it
(``migrations.py``). Each query is a method decorated with :func:`transaction`: it runs
in the caller's session when one is passed as ``s`` (the event recorder writes a batch
of events in one transaction), else in a short transaction of its own.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar, cast

from sqlalchemy import CursorResult, Result, create_engine, event, inspect
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from codeact.server.migrations import migrate
from codeact.server.schema import normalize_db_url, sqlite_pragmas

__all__ = ["OWN", "Database", "rowcount", "transaction"]

P = ParamSpec("P")
R = TypeVar("R")
D = TypeVar("D", bound="Database")


class _OwnTransaction:
    """The default of a query's ``s``: the query opens and commits its own transaction."""

    def __repr__(self) -> str:
        return "<a transaction of its own>"


# typed as a Session so a query's body uses ``s`` as one; @transaction replaces it
OWN = cast("Session", _OwnTransaction())


def transaction(query: Callable[Concatenate[D, P], R]) -> Callable[Concatenate[D, P], R]:
    """Run ``query`` in the session passed as ``s``, or (none, or None) in a new one."""

    @functools.wraps(query)
    def run(self: D, /, *args: P.args, **kwargs: P.kwargs) -> R:
        given = kwargs.get("s")
        if given is not None and given is not OWN:
            return query(self, *args, **kwargs)
        with self.session() as s:
            return query(self, *args, **{**kwargs, "s": s})

    return run


def rowcount(result: Result[Any]) -> int:
    """Rows matched by an UPDATE or DELETE (``Session.execute`` types it as a plain Result)."""
    return cast("CursorResult[Any]", result).rowcount


class Database:
    """An open database: the engine, thread-safe sessions, whether full-text search exists.

    All queries are synchronous and thread-safe (one short transaction each); the app
    calls them from worker threads.
    """

    def __init__(self, url: str | Path | None = None, *, echo: bool = False) -> None:
        self.url = normalize_db_url(url)
        kwargs: dict[str, Any] = {"echo": echo, "future": True}
        if self.is_sqlite:
            path = self.url.split("sqlite:///", 1)[-1]
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        else:
            kwargs["pool_pre_ping"] = True
            kwargs["pool_size"] = 10
            kwargs["max_overflow"] = 20
        self.engine: Engine = create_engine(self.url, **kwargs)
        if self.is_sqlite:
            event.listen(self.engine, "connect", sqlite_pragmas)
        migrate(self.engine)  # creates the tables, or upgrades an older database
        self.has_fts = self.is_sqlite and "messages_fts" in inspect(self.engine).get_table_names()
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return self.url.startswith("sqlite")

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session in a transaction, committed when the block ends without an error."""
        with self._sessions() as s, s.begin():
            yield s
