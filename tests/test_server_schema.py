"""Tests for codeact.server.schema: database URLs, the tables, SQLite connection settings."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import inspect, text

from codeact.server import schema
from codeact.server.store import Store


def test_urls_are_normalised() -> None:
    assert schema.normalize_db_url("postgres://u:p@h/db") == "postgresql+psycopg://u:p@h/db"
    assert schema.normalize_db_url("postgresql://h/db") == "postgresql+psycopg://h/db"
    assert schema.normalize_db_url("sqlite:///x.db") == "sqlite:///x.db"
    assert schema.normalize_db_url("") == schema.default_db_url()
    assert schema.default_db_url().endswith("/" + schema.DEFAULT_DB_NAME)


def test_plain_paths_become_absolute_sqlite_urls(tmp_path: Path) -> None:
    url = schema.normalize_db_url(tmp_path / "a.db")
    assert url == f"sqlite:///{(tmp_path / 'a.db').resolve()}"


def test_store_creates_every_table_with_sqlite_pragmas(tmp_path: Path) -> None:
    store = Store(tmp_path / "chat.db")
    try:
        names = set(inspect(store.engine).get_table_names())
        # plus the FTS5 search table and its shadow tables (see migrations.py)
        assert {n for n in names if not n.startswith("messages_fts")} == set(
            schema.Base.metadata.tables)
        assert {"conversations", "messages", "code_actions", "observations", "images",
                "files"} <= names
        with store.engine.connect() as conn:
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    finally:
        store.close()
