"""Tests for codeact.server.store_chat (search, delete with undo, default settings,
branches) on SQLite and PostgreSQL, through the ``store`` fixture of test_server_store."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_server_store import _fresh_pg_db, postgres_url  # noqa: F401 (a fixture)

from codeact.server.store import NotFound, Store
from codeact.server.store_chat import snippet


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        s = Store(tmp_path / "x.db")
    else:
        url = request.getfixturevalue("postgres_url")
        s = Store(_fresh_pg_db(url, f"c_{os.getpid()}_{abs(hash(tmp_path)) % 10**8}"))
    yield s
    s.close()


def test_search_titles_and_message_text(store: Store) -> None:
    a = store.create_conversation("Budget planning")["id"]
    b = store.create_conversation("Other")["id"]
    store.add_message(b, "user", "text", "please compute the fibonacci numbers up to 100")
    store.add_message(b, "assistant", "answer", "Here they are: 1 1 2 3 5")
    c = store.create_conversation("Third")["id"]
    store.add_message(c, "user", "text", "plot a sine wave")
    assert [r["id"] for r in store.search("budget")] == [a]
    hits = store.search("fibo")  # a word prefix
    assert [r["id"] for r in hits] == [b]
    assert "fibonacci" in hits[0]["match"]["snippet"]
    assert [r["id"] for r in store.search("sine wave")] == [c]
    assert store.search("nothing-like-this") == [] and store.search("  %_ ") == []
    msg = store.add_message(c, "assistant", "text", "", status="streaming")
    store.append_message_text(msg["id"], "streamed aardvark text")  # updates are indexed
    assert [r["id"] for r in store.search("aardvark")] == [c]
    store.soft_delete(c)  # deleted conversations are not found
    assert store.search("aardvark") == []


def test_snippet_centres_on_the_match() -> None:
    text = "word " * 50 + "needle" + " tail" * 50
    out = snippet(text, ["needle"])
    assert "needle" in out and out.startswith("…") and out.endswith("…")


def test_pin_rename_and_settings(store: Store) -> None:
    a = store.create_conversation("a", settings={"temperature": 0.2})["id"]
    b = store.create_conversation("b")["id"]
    assert [c["id"] for c in store.list_conversations()] == [b, a]
    store.update_conversation(a, pinned=True)
    assert [c["id"] for c in store.list_conversations()] == [a, b]
    got = store.update_conversation(a, settings={"max_turns": 3, "temperature": None})
    assert got["settings"] == {"max_turns": 3} and got["pinned"] is True


def test_delete_with_undo_then_purge(store: Store) -> None:
    a = store.create_conversation("a")
    cid = a["id"]
    store.add_message(cid, "user", "text", "hi")
    when = store.soft_delete(cid)
    with pytest.raises(NotFound):
        store.get_conversation(cid)
    with pytest.raises(NotFound):
        store.conversation_by_share_token(a["share_token"])
    assert store.get_conversation(cid, include_deleted=True)["id"] == cid
    assert cid not in [c["id"] for c in store.list_conversations()]
    with pytest.raises(NotFound):
        store.soft_delete(cid)
    store.restore(cid)
    assert store.timeline(cid)[0]["content"] == "hi"
    store.soft_delete(cid)
    assert store.deleted_before(when - 1) == [] and store.deleted_before(when + 60) == [cid]
    store.delete_conversation(cid)
    with pytest.raises(NotFound):
        store.restore(cid)


def test_default_settings(store: Store) -> None:
    assert store.get_defaults() == {}
    assert store.set_defaults({"temperature": 0.7, "approval": True, "x": None}) == {
        "temperature": 0.7, "approval": True}
    assert store.get_defaults() == {"temperature": 0.7, "approval": True}
    store.set_defaults({"max_turns": 4})
    assert store.get_defaults() == {"max_turns": 4}


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
