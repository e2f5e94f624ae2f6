"""Tests for codeact.server.store.branches (fork, switch, a branch's view) on SQLite and
PostgreSQL."""

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


def test_a_conversation_without_forks_lists_its_root_branch(store: Store) -> None:
    cid = store.create_conversation()["id"]
    assert store.branches(cid) == [{"number": 0, "parent": None, "anchor_seq": None,
                                    "fork_seq": None, "kind": "root", "created_at": None}]


def test_fork_keeps_the_old_branch_and_switches_back(store: Store) -> None:
    cid = store.create_conversation()["id"]
    u1 = store.add_message(cid, "user", "text", "first")
    store.add_message(cid, "assistant", "answer", "answer 1")
    u2 = store.add_message(cid, "user", "text", "second")
    store.add_message(cid, "assistant", "answer", "answer 2")
    store.save_agent_messages(cid, [{"role": "user", "content": "old history"}])
    # edit "second": the new branch keeps what came before it
    number = store.fork(cid, anchor_seq=u2["seq"], fork_seq=u2["seq"], kind="edit",
                        history=[{"role": "user", "content": "first"}])
    assert number == 1 and store.get_conversation(cid)["branch"] == 1
    assert [i["content"] for i in store.timeline(cid)] == ["first", "answer 1"]
    assert store.agent_messages(cid) == [{"role": "user", "content": "first"}]
    store.add_message(cid, "user", "text", "second, edited")
    assert [i["content"] for i in store.timeline(cid)] == ["first", "answer 1",
                                                          "second, edited"]
    # the old branch is intact and can be shown again, with its model history
    assert [i["content"] for i in store.timeline(cid, 0)] == [
        "first", "answer 1", "second", "answer 2"]
    store.switch_branch(cid, 0)
    assert store.agent_messages(cid) == [{"role": "user", "content": "old history"}]
    assert len(store.timeline(cid)) == 4
    store.switch_branch(cid, 1)
    assert store.timeline(cid)[-1]["content"] == "second, edited"
    # a regenerate on the new branch keeps its user message; nested views compose
    edited = store.timeline(cid)[-1]
    two = store.fork(cid, anchor_seq=edited["seq"], fork_seq=edited["seq"] + 1,
                     kind="regenerate", history=[])
    assert [i["content"] for i in store.timeline(cid)] == ["first", "answer 1",
                                                          "second, edited"]
    assert [b["number"] for b in store.branches(cid)] == [0, 1, two]
    assert store.branches(cid)[2]["parent"] == 1
    with pytest.raises(NotFound):
        store.switch_branch(cid, 9)
    store.delete_conversation(cid)  # branches go with the conversation
    assert store.branches(cid)[0]["number"] == 0 and len(store.branches(cid)) == 1
    assert u1["branch"] == 0


def test_fork_and_switch_need_a_shown_conversation(store: Store) -> None:
    cid = store.create_conversation()["id"]
    store.soft_delete(cid)
    with pytest.raises(NotFound):
        store.fork(cid, anchor_seq=1, fork_seq=1, kind="edit", history=[])
    with pytest.raises(NotFound):
        store.switch_branch(cid, 0)
