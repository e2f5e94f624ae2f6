"""Tests for codeact.server.store: one Store made of the topic modules, on a real file.

The topics have their own test modules (test_server_store_conversations.py, ...), each on
SQLite and on a throwaway PostgreSQL (``store_helpers.py``; the CLI and migration tests
import its PostgreSQL fixture from here).
"""

from __future__ import annotations

import inspect
from pathlib import Path

from store_helpers import _fresh_pg_db, postgres_url  # noqa: F401 (for other test modules)

from codeact.server import store as store_package
from codeact.server.store import Store
from codeact.server.store.database import Database


def test_data_survives_reopening(tmp_path: Path) -> None:
    s = Store(tmp_path / "r.db")
    cid = s.create_conversation("keep")["id"]
    s.add_message(cid, "user", "text", "remember me")
    s.close()
    s2 = Store(f"sqlite:///{tmp_path / 'r.db'}")
    assert s2.timeline(cid)[0]["content"] == "remember me"
    s2.close()


def test_each_method_is_defined_by_one_topic() -> None:
    """Store adds nothing of its own, and no topic re-declares another's method."""
    topics = [cls for cls in Store.__mro__[1:] if issubclass(cls, Database)
              and cls is not Database]
    assert {cls.__module__.rsplit(".", 1)[-1] for cls in topics} == {
        "conversations", "history", "timeline", "branches", "search", "files", "settings"}
    owners: dict[str, str] = {}
    for cls in topics:
        for name, _ in inspect.getmembers(cls, inspect.isfunction):
            if name in vars(cls) and not name.startswith("__"):
                assert name not in owners, f"{name}: {owners[name]} and {cls.__name__}"
                owners[name] = cls.__name__
    assert not [n for n in vars(Store) if not n.startswith("__")]
    assert {"create_conversation", "timeline", "fork", "search", "sync_files",
            "get_defaults", "save_agent_messages"} <= set(owners)


def test_the_package_exports_only_the_store() -> None:
    assert store_package.__all__ == ["Store"]
    for moved in ("NotFound", "Conversation", "default_data_dir", "normalize_db_url"):
        assert not hasattr(store_package, moved)
