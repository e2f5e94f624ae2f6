"""Versioned, in-place upgrades of the chat app's database (SQLite and PostgreSQL).

The project has no Alembic: the schema is small and additive, so each version is one
function here. ``migrate(engine)`` reads the version from the ``schema_version`` table
(a database with the tables but without that table is version 1, the schema before
versions were recorded), runs every later step in one transaction, and creates what is
missing. A new database is created at the latest version directly.

Version 2: conversations gain ``pinned``, ``deleted_at`` (delete with undo), ``settings``
and ``branch``; messages and code actions gain ``branch``; new tables ``branches``,
``app_settings``; full-text search over message text (an FTS5 table kept by triggers on
SQLite, a GIN expression index on PostgreSQL).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import cast

from sqlalchemy import Connection, Table, delete, insert, inspect, text
from sqlalchemy.engine import Engine
from sqlalchemy.schema import CreateColumn

from codeact.server.schema import Base, SchemaVersion

__all__ = ["LATEST", "STEPS", "current_version", "migrate", "sqlite_has_fts5"]

log = logging.getLogger("codeact.server")

# the columns each version adds to tables that already existed (new tables are created
# from the ORM metadata by ``create_all``)
_V2_COLUMNS = {"conversations": ["pinned", "deleted_at", "settings", "branch"],
               "messages": ["branch"], "code_actions": ["branch"]}

_SQLITE_FTS = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS messages_fts USING fts5("
    "content, content='messages', content_rowid='id')",
    "CREATE TRIGGER IF NOT EXISTS messages_fts_ai AFTER INSERT ON messages BEGIN "
    "INSERT INTO messages_fts(rowid, content) VALUES (new.id, new.content); END",
    "CREATE TRIGGER IF NOT EXISTS messages_fts_ad AFTER DELETE ON messages BEGIN "
    "INSERT INTO messages_fts(messages_fts, rowid, content) "
    "VALUES ('delete', old.id, old.content); END",
    "CREATE TRIGGER IF NOT EXISTS messages_fts_au AFTER UPDATE OF content ON messages BEGIN "
    "INSERT INTO messages_fts(messages_fts, rowid, content) "
    "VALUES ('delete', old.id, old.content); "
    "INSERT INTO messages_fts(rowid, content) VALUES (new.id, new.content); END",
    "INSERT INTO messages_fts(messages_fts) VALUES ('rebuild')",  # index existing rows
]
_PG_FTS = ["CREATE INDEX IF NOT EXISTS messages_content_fts ON messages "
           "USING gin (to_tsvector('simple', content))"]


def sqlite_has_fts5(conn: Connection) -> bool:
    """Whether this SQLite build has FTS5 (search falls back to LIKE without it)."""
    try:
        conn.execute(text("CREATE VIRTUAL TABLE temp._fts5_probe USING fts5(x)"))
        conn.execute(text("DROP TABLE temp._fts5_probe"))
        return True
    except Exception:
        return False


def _search_index(conn: Connection) -> None:
    if conn.dialect.name == "sqlite":
        if not sqlite_has_fts5(conn):
            log.warning("SQLite without FTS5: conversation search uses LIKE")
            return
        statements = _SQLITE_FTS
    elif conn.dialect.name == "postgresql":
        statements = _PG_FTS
    else:  # pragma: no cover - only SQLite and PostgreSQL are supported
        return
    for sql in statements:
        conn.execute(text(sql))


def _add_columns(conn: Connection, columns: dict[str, list[str]]) -> None:
    """ALTER TABLE ... ADD COLUMN, rendered from the ORM column (type, default, NULL)."""
    have = {t: {c["name"] for c in inspect(conn).get_columns(t)} for t in columns}
    for table, names in columns.items():
        for name in names:
            if name in have[table]:
                continue
            column = Base.metadata.tables[table].c[name]
            ddl = CreateColumn(column).compile(dialect=conn.dialect)
            conn.execute(text(f"ALTER TABLE {table} ADD COLUMN {ddl}"))


def _v2(conn: Connection) -> None:
    _add_columns(conn, _V2_COLUMNS)
    Base.metadata.create_all(conn)  # branches, app_settings
    _search_index(conn)


STEPS: dict[int, Callable[[Connection], None]] = {2: _v2}
LATEST = max(STEPS)


def current_version(conn: Connection) -> int:
    """0: an empty database; 1: the tables without a version row; else the stored one."""
    tables = set(inspect(conn).get_table_names())
    if "schema_version" in tables:
        version = conn.execute(text("SELECT version FROM schema_version WHERE id = 1")
                               ).scalar()
        if version is not None:
            return int(version)
    return 1 if "conversations" in tables else 0


def _set_version(conn: Connection, version: int) -> None:
    conn.execute(delete(SchemaVersion))
    conn.execute(insert(SchemaVersion).values(id=1, version=version))


def migrate(engine: Engine) -> tuple[int, int]:
    """Bring the database to :data:`LATEST`; returns (version before, version after)."""
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":  # one migrating process at a time
            conn.execute(text("SELECT pg_advisory_xact_lock(7310523)"))
        before = current_version(conn)
        if before == 0:
            Base.metadata.create_all(conn)
            _search_index(conn)
        else:
            Base.metadata.create_all(conn, tables=[cast(Table, SchemaVersion.__table__)])
            for version in range(before + 1, LATEST + 1):
                log.info("upgrading the chat database to schema version %d", version)
                STEPS[version](conn)
        if before != LATEST:
            _set_version(conn, LATEST)
    return before, LATEST
