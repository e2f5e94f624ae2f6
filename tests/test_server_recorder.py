"""Tests for codeact.server.recorder: each event type ends up in a real SQLite store.

The recorder is driven directly, one store transaction per event as the writer does, and
what it returns (the client events) is checked against what the store then holds.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from codeact.events import (
    CodeActionEvent,
    DoneEvent,
    ErrorEvent,
    FinalAnswerEvent,
    ObservationEvent,
    OutputDelta,
    TextDelta,
    ToolCallEvent,
    TurnStarted,
)
from codeact.runtime.observation import ExecutionError, Observation
from codeact.server.recorder import (
    HANDLERS,
    Recorder,
    RunEnded,
    Snapshot,
    coalesce,
    handles,
    is_done,
    u16len,
)
from codeact.server.store import Store
from codeact.trajectory import Trajectory


@pytest.fixture()
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(tmp_path / "chat.db")
    yield s
    s.close()


@pytest.fixture()
def cid(store: Store) -> str:
    return store.create_conversation(model="scripted")["id"]


def record(rec: Recorder, *events: Any) -> list[dict[str, Any]]:
    """Record ``events`` in one transaction, as the writer thread does."""
    out: list[dict[str, Any]] = []
    with rec.store.session() as s:
        for event in events:
            out.extend(rec.record(event, s))
    return out


def test_text_deltas_stream_into_one_message_with_utf16_offsets(store: Store,
                                                                cid: str) -> None:
    rec = Recorder(store, cid)
    assert record(rec, TurnStarted(1, 9)) == [{"type": "turn", "turn": 1}]
    first = record(rec, TextDelta(1, "Hé 😀"))
    assert first[0]["type"] == "item" and first[0]["item"]["status"] == "streaming"
    mid = first[0]["item"]["id"]
    second = record(rec, TextDelta(1, " more"))
    assert second == [{"type": "text", "message_id": mid, "offset": u16len("Hé 😀"),
                       "text": " more"}]
    # the next turn finishes the message
    assert record(rec, TurnStarted(2, 8))[0] == {"type": "message_done", "id": mid}
    [item] = store.timeline(cid)
    assert (item["role"], item["kind"], item["content"], item["status"], item["turn"]) == (
        "assistant", "text", "Hé 😀 more", "done", 1)
    assert rec.turn == 2


def test_code_action_output_and_observation(store: Store, cid: str) -> None:
    rec = Recorder(store, cid)
    record(rec, TurnStarted(1, 9), TextDelta(1, "Running.\n<execute>print(1)</execute>"))
    out = record(rec, CodeActionEvent(1, "print(1)"))
    assert [e["type"] for e in out] == ["message_done", "item"]
    code = out[1]["item"]
    assert code["type"] == "code" and code["observation"]["status"] == "running"
    assert code["message_id"] == out[0]["id"]
    out = record(rec, OutputDelta(1, "stdout", "1\n"), OutputDelta(1, "stderr", "warn"),
                 OutputDelta(1, "stdout", "2\n"))
    assert [(e["stream"], e["offset"], e["text"]) for e in out] == [
        ("stdout", 0, "1\n"), ("stderr", 0, "warn"), ("stdout", 2, "2\n")]
    assert all(e["code_action_id"] == code["id"] for e in out)
    obs = Observation(stdout="1\n2\n", stderr="warn", images=[b"\x89PNG fake"],
                      error=ExecutionError("ValueError", "bad", "Traceback ..."),
                      duration=0.25)
    [ev] = record(rec, ObservationEvent(1, "1\n2\nValueError: bad", obs))
    assert ev["type"] == "observation" and ev["code_action_id"] == code["id"]
    assert ev["observation"]["status"] == "done" and len(ev["observation"]["images"]) == 1
    stored = store.timeline(cid)[1]["observation"]
    assert (stored["stdout"], stored["stderr"], stored["error"]["name"]) == (
        "1\n2\n", "warn", "ValueError")
    assert stored["text"] == "1\n2\nValueError: bad" and stored["duration"] == 0.25
    assert store.get_image(cid, stored["images"][0]) == b"\x89PNG fake"
    # output after the observation belongs to no code action: dropped
    assert record(rec, OutputDelta(1, "stdout", "late")) == []


def test_tool_call_is_stored_as_json_code(store: Store, cid: str) -> None:
    rec = Recorder(store, cid)
    [ev] = record(rec, ToolCallEvent(1, "add", {"a": 1, "b": 2}))
    assert ev["item"]["code"] == '{"tool": "add", "arguments": {"a": 1, "b": 2}}'
    [obs] = record(rec, ObservationEvent(1, "3"))
    assert obs["observation"]["text"] == "3" and obs["observation"]["stdout"] == ""


def test_observation_without_a_code_action_is_feedback(store: Store, cid: str) -> None:
    rec = Recorder(store, cid)
    [ev] = record(rec, ObservationEvent(2, "Your reply had no action."))
    assert ev["type"] == "item"
    item = store.timeline(cid)[0]
    assert (item["role"], item["kind"], item["content"], item["turn"]) == (
        "system", "feedback", "Your reply had no action.", 2)


def test_final_answer_equal_to_the_streamed_reply_relabels_it(store: Store,
                                                              cid: str) -> None:
    rec = Recorder(store, cid)
    [item] = record(rec, TextDelta(1, " 42 "))
    mid = item["item"]["id"]
    out = record(rec, FinalAnswerEvent(1, "42"))
    assert out == [{"type": "message_kind", "id": mid, "kind": "answer"},
                   {"type": "message_done", "id": mid}]
    [stored] = store.timeline(cid)
    assert (stored["kind"], stored["status"]) == ("answer", "done")


def test_final_answer_after_code_is_its_own_item(store: Store, cid: str) -> None:
    rec = Recorder(store, cid)
    record(rec, TextDelta(1, "Done.\n<solution>7</solution>"))
    out = record(rec, FinalAnswerEvent(1, "7"))
    assert [e["type"] for e in out] == ["message_done", "item"]
    items = store.timeline(cid)
    assert [(i["role"], i["kind"], i["content"]) for i in items] == [
        ("assistant", "text", "Done.\n<solution>7</solution>"), ("assistant", "answer", "7")]


def test_error_event_is_a_system_error_item(store: Store, cid: str) -> None:
    rec = Recorder(store, cid)
    record(rec, TextDelta(3, "partial"))
    out = record(rec, ErrorEvent(3, "the model is unreachable"))
    assert [e["type"] for e in out] == ["message_done", "item"]
    last = store.timeline(cid)[-1]
    assert (last["role"], last["kind"], last["content"], last["turn"]) == (
        "system", "error", "the model is unreachable", 3)


def test_snapshot_saves_the_model_messages_with_the_open_code_action(store: Store,
                                                                     cid: str) -> None:
    rec = Recorder(store, cid)
    store.add_message(cid, "user", "text", "run it")
    msgs = [{"role": "user", "content": "run it"}]
    record(rec, Snapshot(msgs))
    assert store.agent_snapshot(cid) == {"messages": msgs, "seq": 2, "open_code": None}
    [item] = record(rec, CodeActionEvent(1, "x = 1"))
    reply = [*msgs, {"role": "assistant", "content": "<execute>x = 1</execute>"}]
    record(rec, Snapshot(reply, open_code=True))
    snap = store.agent_snapshot(cid)
    assert snap["messages"] == reply and snap["open_code"] == item["item"]["id"]


def test_done_event_closes_everything_and_saves_the_history(store: Store, cid: str) -> None:
    rec = Recorder(store, cid)
    record(rec, TextDelta(1, "<execute>while True: pass</execute>"),
           CodeActionEvent(1, "while True: pass"), OutputDelta(1, "stdout", "tick\n"))
    history = [{"role": "system", "content": "sys"}, {"role": "user", "content": "loop"},
               {"role": "assistant", "content": "<execute>while True: pass</execute>"}]
    trajectory = Trajectory(task="loop", messages=history, stop_reason="interrupted")
    out = record(rec, DoneEvent(trajectory))
    assert [e["type"] for e in out] == ["observation", "item", "done"]
    assert out[0]["observation"]["text"] == "(interrupted)"
    assert out[0]["observation"]["stdout"] == "tick\n"  # what was printed is kept
    assert out[-1] == {"type": "done", "stop_reason": "interrupted"}
    items = store.timeline(cid)
    assert items[-1]["kind"] == "notice" and items[-1]["content"] == "Stopped."
    assert items[0]["status"] == "done"
    assert store.agent_messages(cid) == history[1:]  # without the system prompt


def test_run_ended_without_done_event_is_an_error_stop(store: Store, cid: str) -> None:
    rec = Recorder(store, cid)
    record(rec, CodeActionEvent(1, "1"))
    out = record(rec, RunEnded())
    assert [e["type"] for e in out] == ["observation", "done"]
    assert out[-1]["stop_reason"] == "error"
    assert store.agent_messages(cid) == []  # nothing to save: the agent never finished
    assert is_done(RunEnded()) and is_done(DoneEvent(Trajectory(task="t")))
    assert not is_done(TurnStarted(1, 1))


def test_unknown_events_are_ignored(store: Store, cid: str) -> None:
    rec = Recorder(store, cid)
    assert record(rec, object(), "done?") == []
    assert store.timeline(cid) == []


@dataclass
class ToyNotice:
    """A made-up event type, to show how the recorder learns a new one."""

    text: str


def test_a_new_event_type_is_one_handler_and_one_registration(store: Store,
                                                              cid: str) -> None:
    def toy(rec: Recorder, event: ToyNotice, s: Session) -> list[dict[str, Any]]:
        item = rec.store.add_message(rec.conversation_id, "system", "notice", event.text,
                                     s=s)
        return [{"type": "item", "item": item}]

    handles(ToyNotice)(toy)  # the registration line
    try:
        [ev] = record(Recorder(store, cid), ToyNotice("hello"))
        assert ev["item"]["content"] == "hello"
        assert store.timeline(cid)[0]["kind"] == "notice"
    finally:
        del HANDLERS[ToyNotice]


def test_coalesce_keeps_turns_and_streams_apart() -> None:
    events = [TextDelta(1, "a"), TextDelta(1, "b"), TextDelta(2, "c"),
              OutputDelta(1, "stdout", "x"), OutputDelta(1, "stderr", "y"),
              OutputDelta(1, "stderr", "z"), Snapshot([]), TextDelta(2, "d")]
    assert coalesce(events) == [TextDelta(1, "ab"), TextDelta(2, "c"),
                                OutputDelta(1, "stdout", "x"), OutputDelta(1, "stderr", "yz"),
                                Snapshot([]), TextDelta(2, "d")]


def test_u16len_counts_like_javascript() -> None:
    assert u16len("abc") == 3
    assert u16len("é") == 1
    assert u16len("😀") == 2


def test_coalesce_merges_deltas() -> None:
    events = [TextDelta(1, "a"), TextDelta(1, "b"), OutputDelta(1, "stdout", "x"),
              OutputDelta(1, "stdout", "y"), OutputDelta(1, "stderr", "z"), TextDelta(2, "c")]
    assert coalesce(events) == [TextDelta(1, "ab"), OutputDelta(1, "stdout", "xy"),
                                OutputDelta(1, "stderr", "z"), TextDelta(2, "c")]
