"""Tests for codeact.server.runs: following a run's published events."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from codeact.server.recorder import Recorder
from codeact.server.runs import Live, Run
from codeact.server.store import Store


class StubAgent:
    interrupted = False

    def interrupt(self) -> None:
        self.interrupted = True


def make_run(tmp_path: Path) -> Run:
    store = Store(tmp_path / "chat.db")
    live = Live("c" * 32, StubAgent(), session=None, model="m")
    return Run(live, asyncio.get_running_loop(), Recorder(store, live.conversation_id))


async def collect(run: Run, after: int = 0, keepalive: float = 15.0) -> list[Any]:
    return [ev async for ev in run.follow(after, keepalive=keepalive)]


async def test_followers_get_every_event_from_their_index_until_done(tmp_path: Path) -> None:
    run = make_run(tmp_path)
    assert len(run.id) == 16 and run.conversation_id == "c" * 32
    early = asyncio.create_task(collect(run))
    await asyncio.sleep(0)
    run._publish([{"type": "turn", "turn": 1}, {"type": "text", "text": "a"}])
    await asyncio.sleep(0.01)
    run._publish([{"type": "done", "stop_reason": "solution"}])
    events = await asyncio.wait_for(early, 5)
    assert [e["i"] for e in events] == [0, 1, 2] and run.done
    late = await collect(run, after=1)
    assert [e["type"] for e in late] == ["text", "done"]
    assert await collect(run, after=99) == []


async def test_keepalive_and_interrupt(tmp_path: Path) -> None:
    run = make_run(tmp_path)
    follower = run.follow(0, keepalive=0.05)
    assert await asyncio.wait_for(anext(follower), 5) is None  # nothing yet: keep-alive
    await follower.aclose()
    run.interrupt()
    assert run.live.agent.interrupted
    assert run.turn == 0
