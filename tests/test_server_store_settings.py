"""Tests for codeact.server.store.settings (the defaults of new conversations) on SQLite
and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from store_helpers import BACKENDS, open_store, postgres_url  # noqa: F401 (a fixture)

from codeact.server.store import Store


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    yield from open_store(request, tmp_path)


def test_default_settings(store: Store) -> None:
    assert store.get_defaults() == {}
    assert store.set_defaults({"temperature": 0.7, "approval": True, "x": None}) == {
        "temperature": 0.7, "approval": True}
    assert store.get_defaults() == {"temperature": 0.7, "approval": True}
    store.set_defaults({"max_turns": 4})
    assert store.get_defaults() == {"max_turns": 4}
