"""Tests for codeact.server.writer: batches saved in one transaction, then published.

A real SQLite store and a real event loop; the agent is a stub (only ``interrupt`` is
used by the writer).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from codeact.events import CodeActionEvent, ObservationEvent, OutputDelta, TextDelta, TurnStarted
from codeact.server.recorder import Recorder, RunEnded
from codeact.server.runs import Live, Run
from codeact.server.store import Store
from codeact.server.writer import EventWriter


class StubAgent:
    def __init__(self) -> None:
        self.interrupted = 0

    def interrupt(self) -> None:
        self.interrupted += 1


class FailingRecorder(Recorder):
    """Fails on text deltas, as a full disk or a lost database connection would."""

    def record(self, event: Any, s: Session) -> list[dict[str, Any]]:
        if isinstance(event, TextDelta):
            raise OSError("disk full")
        return super().record(event, s)


@pytest.fixture()
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(tmp_path / "chat.db")
    yield s
    s.close()


def make_run(store: Store, recorder: type[Recorder] = Recorder) -> Run:
    cid = store.create_conversation()["id"]
    live = Live(cid, StubAgent(), session=None, model="m")
    return Run(live, asyncio.get_running_loop(), recorder(store, cid))


async def published(run: Run) -> list[dict[str, Any]]:
    return [ev async for ev in run.follow(0, keepalive=0.05) if ev is not None]


async def test_a_batch_is_coalesced_saved_and_then_published(
        store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    synced: list[str] = []

    def sync_files(cid: str) -> list[dict[str, Any]]:
        synced.append(cid)
        return [{"name": "out.txt", "size": 1}]

    writer = EventWriter(store, sync_files)
    run = make_run(store)
    seen_in_db: list[int] = []
    publish = run._publish

    def checking_publish(events: list[dict[str, Any]]) -> None:
        seen_in_db.append(len(store.timeline(run.conversation_id)))
        publish(events)

    monkeypatch.setattr(run, "_publish", checking_publish)
    # queued before the thread starts: one batch, so the deltas are merged
    for event in (TurnStarted(1, 9), TextDelta(1, "a"), TextDelta(1, "b"),
                  CodeActionEvent(1, "print(1)"), OutputDelta(1, "stdout", "1"),
                  OutputDelta(1, "stdout", "\n"), ObservationEvent(1, "1"), RunEnded()):
        writer.put(run, event)
    writer.start()
    try:
        events = await published(run)
    finally:
        await writer.stop()
    assert [e["type"] for e in events] == ["turn", "item", "message_done", "item", "output",
                                           "observation", "files", "done"]
    assert events[1]["item"]["content"] == "ab"
    assert events[4]["text"] == "1\n"
    assert events[6]["files"] == [{"name": "out.txt", "size": 1}]
    assert [e["i"] for e in events] == list(range(len(events)))
    assert seen_in_db == [2]  # one publication, after both items were committed
    assert synced == [run.conversation_id]
    assert run.done and run.stop_reason == "error"


async def test_a_failed_save_is_reported_and_stops_the_run(store: Store) -> None:
    writer = EventWriter(store, lambda cid: [])
    run = make_run(store, FailingRecorder)
    writer.put(run, TextDelta(1, "lost"))
    writer.start()
    try:
        for _ in range(200):
            if run.buffer:
                break
            await asyncio.sleep(0.01)
        assert run.buffer[0]["type"] == "error"
        assert "could not save the conversation: disk full" in run.buffer[0]["message"]
        assert run.live.agent.interrupted == 1 and not run.done
        # the rest of the run still ends it, with the error stop reason
        writer.put(run, TextDelta(1, "again"))
        writer.put(run, RunEnded())
        events = await published(run)
    finally:
        await writer.stop()
    assert events[-1] == {"type": "done", "stop_reason": "error", "i": len(events) - 1}
    assert store.timeline(run.conversation_id) == []  # the failed batch left nothing


async def test_stop_saves_what_is_queued(store: Store) -> None:
    writer = EventWriter(store, lambda cid: [])
    run = make_run(store)
    writer.start()
    writer.put(run, TextDelta(1, "kept"))
    await writer.stop()
    [item] = store.timeline(run.conversation_id)
    assert item["content"] == "kept"
