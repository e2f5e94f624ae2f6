"""Tests for codeact.server.store.timeline (messages, code actions, observations, images)
on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from store_helpers import BACKENDS, open_store, postgres_url  # noqa: F401 (a fixture)

from codeact.runtime.observation import ExecutionError, Observation
from codeact.server.errors import NotFound
from codeact.server.store import Store


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    yield from open_store(request, tmp_path)


def test_timeline_orders_messages_code_and_observations(store: Store) -> None:
    cid = store.create_conversation()["id"]
    store.add_message(cid, "user", "text", "plot it")
    msg = store.add_message(cid, "assistant", "text", "Sure", turn=1, status="streaming")
    store.append_message_text(msg["id"], " thing ✓ 😀")
    store.finish_message(msg["id"])
    item, obs_id = store.add_code_action(cid, "print(1)", turn=1, message_id=msg["id"])
    store.append_output(obs_id, "stdout", "1\n")
    store.append_output(obs_id, "stderr", "warn\n")
    obs = Observation(stdout="1\n", stderr="warn\n", images=[b"\x89PNG fake"],
                      error=ExecutionError("ValueError", "bad", "Traceback..."), duration=0.5)
    done = store.finish_observation(obs_id, cid, text="1\nValueError: bad", observation=obs)
    assert done["status"] == "done" and len(done["images"]) == 1
    store.add_message(cid, "assistant", "answer", "**1**", turn=2)
    items = store.timeline(cid)
    assert [i["seq"] for i in items] == [1, 2, 3, 4]
    assert items[1]["content"] == "Sure thing ✓ 😀" and items[1]["status"] == "done"
    code = items[2]
    assert code["code"] == "print(1)" and code["message_id"] == msg["id"]
    o = code["observation"]
    assert (o["stdout"], o["stderr"], o["error"]["name"]) == ("1\n", "warn\n", "ValueError")
    assert store.get_image(cid, o["images"][0]) == b"\x89PNG fake"
    other = store.create_conversation()["id"]
    with pytest.raises(NotFound):  # images are per conversation
        store.get_image(other, o["images"][0])
    assert store.has_code_actions(cid) and not store.has_code_actions(other)
    store.delete_conversation(cid)
    with pytest.raises(NotFound):
        store.timeline(cid)


def test_close_dangling_marks_interrupted_items_done(store: Store) -> None:
    cid = store.create_conversation()["id"]
    msg = store.add_message(cid, "assistant", "text", "half", status="streaming")
    _, obs_id = store.add_code_action(cid, "while True: pass", message_id=msg["id"])
    assert store.close_dangling() == 2
    items = store.timeline(cid)
    assert items[0]["status"] == "done" and items[1]["observation"]["status"] == "done"


def test_concurrent_writers_get_distinct_seqs(store: Store) -> None:
    cid = store.create_conversation()["id"]

    def write() -> None:
        for _ in range(10):
            store.add_message(cid, "user", "text", "x")

    threads = [threading.Thread(target=write) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seqs = [i["seq"] for i in store.timeline(cid)]
    assert sorted(seqs) == list(range(1, 41))


def test_set_message_kind(store: Store) -> None:
    cid = store.create_conversation()["id"]
    msg = store.add_message(cid, "assistant", "text", "42", status="streaming")
    with store.session() as s:  # inside a caller's transaction, as the recorder does
        store.set_message_kind(msg["id"], "answer", s=s)
    store.finish_message(msg["id"])
    [item] = store.timeline(cid)
    assert (item["kind"], item["status"]) == ("answer", "done")


def test_set_code_and_finish_a_tool_call(store: Store) -> None:
    cid = store.create_conversation()["id"]
    item, obs_id = store.add_code_action(cid, "print(1)")
    assert item["observation"] is not None and item["observation"]["status"] == "running"
    store.set_code(item["id"], "print(2)")  # approval mode: edited before it ran
    done = store.finish_observation(obs_id, cid, text="tool said hi")  # no Observation
    assert (done["status"], done["text"], done["error"], done["images"]) == (
        "done", "tool said hi", None, [])
    [code] = store.timeline(cid)
    assert code["code"] == "print(2)"
    with pytest.raises(NotFound):
        store.finish_observation(obs_id + 100, cid, text="")


def test_writing_to_an_unknown_conversation(store: Store) -> None:
    with pytest.raises(NotFound):
        store.add_message("0" * 32, "user", "text", "x")
    with pytest.raises(NotFound):
        store.add_code_action("0" * 32, "x")
