"""Tests for codeact.server.store.conversations on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from store_helpers import BACKENDS, open_store, postgres_url  # noqa: F401 (a fixture)

from codeact.runtime.observation import Observation
from codeact.server.errors import NotFound
from codeact.server.schema import CodeAction, FileRow, Image, Message, ObservationRow
from codeact.server.store import Store


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    yield from open_store(request, tmp_path)


def test_conversation_crud_and_share_token(store: Store) -> None:
    a = store.create_conversation("First", "m1")
    b = store.create_conversation(model="m2")
    assert len(a["id"]) == 32 and a["share_token"] != b["share_token"]
    assert len(a["share_token"]) >= 32
    assert store.conversation_by_share_token(a["share_token"])["id"] == a["id"]
    store.update_conversation(a["id"], title="Renamed", model="m3")
    got = store.get_conversation(a["id"])
    assert (got["title"], got["model"]) == ("Renamed", "m3")
    assert [c["id"] for c in store.list_conversations()] == [a["id"], b["id"]]
    store.delete_conversation(b["id"])
    with pytest.raises(NotFound):
        store.get_conversation(b["id"])
    with pytest.raises(NotFound):
        store.conversation_by_share_token("nope")


def test_a_new_share_token_revokes_the_old_one(store: Store) -> None:
    a = store.create_conversation("First", "m1")
    renewed = store.new_share_token(a["id"])
    assert renewed["share_token"] != a["share_token"]
    assert store.conversation_by_share_token(renewed["share_token"])["id"] == a["id"]
    with pytest.raises(NotFound):
        store.conversation_by_share_token(a["share_token"])
    with pytest.raises(NotFound):
        store.new_share_token("0" * 32)


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


def test_delete_removes_every_row_of_the_conversation(store: Store) -> None:
    keep, gone = store.create_conversation()["id"], store.create_conversation()["id"]
    for cid in (keep, gone):
        store.add_message(cid, "user", "text", "hi")
        _, obs_id = store.add_code_action(cid, "plot()")
        store.finish_observation(obs_id, cid, text="",
                                 observation=Observation(images=[b"\x89PNG a", b"\x89PNG b"]))
        store.upsert_file(cid, "a.txt", 1)
    store.fork(gone, anchor_seq=1, fork_seq=1, kind="edit", history=[])
    store.delete_conversation(gone)
    with store.session() as s:
        counts = {t.__tablename__: s.scalar(select(func.count()).select_from(t))
                  for t in (Message, CodeAction, ObservationRow, Image, FileRow)}
    assert counts == {"messages": 1, "code_actions": 1, "observations": 1, "images": 2,
                      "files": 1}
    assert len(store.timeline(keep)) == 2
    assert [b["number"] for b in store.branches(gone)] == [0]


def test_ensure_conversation_creates_an_id_once(store: Store) -> None:
    cid = "ab" * 16
    first, created = store.ensure_conversation(cid, "From a client", "m")
    assert created and first["id"] == cid and first["title"] == "From a client"
    again, created = store.ensure_conversation(cid, "Other title", "m2")
    assert not created and again == first
    store.soft_delete(cid)
    with pytest.raises(NotFound):  # a deleted id is not taken over
        store.ensure_conversation(cid)
