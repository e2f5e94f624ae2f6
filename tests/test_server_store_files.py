"""Tests for codeact.server.store.files (the files table of a workspace) on SQLite and
PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from store_helpers import BACKENDS, open_store, postgres_url  # noqa: F401 (a fixture)

from codeact.server.store import Store


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    yield from open_store(request, tmp_path)


def test_uploads_and_workspace_scans(store: Store) -> None:
    cid = store.create_conversation()["id"]
    assert store.list_files(cid) == []
    first = store.upsert_file(cid, "a.csv", 10)
    again = store.upsert_file(cid, "a.csv", 12)
    assert (first["size"], again["size"], again["source"]) == (10, 12, "upload")
    files = store.sync_files(cid, {"a.csv": 12, "out/b.txt": 3})
    assert [(f["name"], f["size"], f["source"]) for f in files] == [
        ("a.csv", 12, "upload"), ("out/b.txt", 3, "agent")]
    assert [f["name"] for f in store.sync_files(cid, {"out/b.txt": 3})] == ["out/b.txt"]
    assert store.list_files(cid) == store.sync_files(cid, {"out/b.txt": 3})


def test_files_are_per_conversation(store: Store) -> None:
    a, b = store.create_conversation()["id"], store.create_conversation()["id"]
    store.upsert_file(a, "x.txt", 1)
    store.sync_files(b, {"y.txt": 2})
    assert [f["name"] for f in store.list_files(a)] == ["x.txt"]
    assert [f["name"] for f in store.list_files(b)] == ["y.txt"]
