"""Tests for codeact.server.store.history (the model's messages as snapshots) on SQLite
and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from store_helpers import BACKENDS, open_store, postgres_url  # noqa: F401 (a fixture)

from codeact.server.errors import NotFound
from codeact.server.store import Store


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    yield from open_store(request, tmp_path)


def test_agent_messages_round_trip(store: Store) -> None:
    cid = store.create_conversation()["id"]
    assert store.agent_messages(cid) == []
    history = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]
    store.save_agent_messages(cid, history)
    assert store.agent_messages(cid) == history


def test_a_snapshot_records_the_timeline_position_and_the_open_code(store: Store) -> None:
    cid = store.create_conversation()["id"]
    store.add_message(cid, "user", "text", "go")
    item, _ = store.add_code_action(cid, "x = 1")
    with store.session() as s:  # as the recorder saves it, with the items before it
        store.save_agent_messages(cid, [{"role": "user", "content": "go"}],
                                  open_code=item["id"], s=s)
    assert store.agent_snapshot(cid) == {"messages": [{"role": "user", "content": "go"}],
                                         "seq": 3, "open_code": item["id"]}


def test_unknown_conversation(store: Store) -> None:
    with pytest.raises(NotFound):
        store.agent_snapshot("0" * 32)
    with pytest.raises(NotFound):
        store.save_agent_messages("0" * 32, [])
