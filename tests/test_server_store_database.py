"""Tests for codeact.server.store.database: ``@transaction`` runs a query in the caller's
session or in its own, on a SQLite file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Result
from sqlalchemy import text as sql

from codeact.server.store import Store
from codeact.server.store.database import OWN, rowcount


@pytest.fixture()
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(tmp_path / "db.sqlite")
    yield s
    s.close()


def test_a_query_alone_commits_its_own_transaction(store: Store) -> None:
    cid = store.create_conversation("a")["id"]
    store.add_message(cid, "user", "text", "kept")
    assert [i["content"] for i in store.timeline(cid)] == ["kept"]


def test_queries_in_the_callers_session_commit_or_fail_together(store: Store) -> None:
    cid = store.create_conversation("a")["id"]
    with pytest.raises(RuntimeError), store.session() as s:
        store.add_message(cid, "user", "text", "one", s=s)
        store.add_message(cid, "user", "text", "two", s=s)
        assert len(store.timeline(cid, s=s)) == 2  # seen inside the transaction
        raise RuntimeError("the recorder failed halfway")
    assert store.timeline(cid) == []
    with store.session() as s:
        store.add_message(cid, "user", "text", "three", s=s)
    assert [i["content"] for i in store.timeline(cid)] == ["three"]


def test_s_none_means_a_transaction_of_its_own(store: Store) -> None:
    cid = store.create_conversation("a")["id"]
    store.add_message(cid, "user", "text", "x", s=None)  # type: ignore[arg-type]
    assert len(store.timeline(cid)) == 1
    assert "own" in repr(OWN)


def test_rowcount_and_backend_flags(store: Store) -> None:
    assert store.is_sqlite and store.url.startswith("sqlite:///")
    with store.session() as s:
        result: Result[object] = s.execute(sql("UPDATE conversations SET title = 'x'"))
        assert rowcount(result) == 0
