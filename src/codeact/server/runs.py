"""A live conversation (kernel + agent in memory) and one run: a user message and its reply.

A :class:`Run` keeps the client events published so far in ``buffer``; any number of SSE
clients ``follow`` it from an index. Events are appended only on the event loop (the
writer thread hands them over with ``call_soon_threadsafe``), after they are committed.
"""

from __future__ import annotations

import asyncio
import secrets
import threading
import time
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from typing import Any

from codeact.server.recorder import ClientEvent, Recorder

__all__ = ["Live", "PendingApproval", "Run"]


@dataclass
class Live:
    """A conversation with a kernel and an agent in memory."""

    conversation_id: str
    agent: Any
    session: Any
    model: str
    last_used: float = field(default_factory=time.monotonic)
    announce_lost_kernel: bool = False
    settings: dict[str, Any] = field(default_factory=dict)  # what the agent was made with


class PendingApproval:
    """A code action waiting for Run / Edit / Skip (approval mode); any thread."""

    def __init__(self, code: str) -> None:
        self.code = code
        self.code_action_id: int | None = None
        self.decision: tuple[str, str | None] = ("skip", None)
        self.answered = threading.Event()

    def answer(self, action: str, code: str | None = None) -> None:
        if not self.answered.is_set():
            self.decision = (action, code)
            self.answered.set()


class Run:
    """One user message and everything the agent does about it."""

    def __init__(self, live: Live, loop: asyncio.AbstractEventLoop,
                 recorder: Recorder) -> None:
        self.id = secrets.token_hex(8)
        self.live = live
        self.conversation_id = live.conversation_id
        self.loop = loop
        self.recorder = recorder  # used by the writer thread only
        self.buffer: list[ClientEvent] = []  # published client events
        self.done = False
        self.stop_reason: str | None = None
        self._changed = asyncio.Event()
        self.thread: threading.Thread | None = None
        self.approval = False  # ask before each code action runs
        self.pending: PendingApproval | None = None

    @property
    def turn(self) -> int:
        """The turn the agent is in, as far as the recorder has seen."""
        return self.recorder.turn

    # called on the event loop ---------------------------------------------------------
    def _publish(self, events: list[ClientEvent]) -> None:
        for ev in events:
            ev["i"] = len(self.buffer)
            self.buffer.append(ev)
            if ev["type"] == "done":
                self.done = True
        self._changed.set()
        self._changed = asyncio.Event()

    async def follow(self, after: int = 0, keepalive: float = 15.0
                     ) -> AsyncGenerator[ClientEvent | None, None]:
        """Published events from index ``after`` on, until ``done``; None = keep-alive."""
        index = max(0, after)
        while True:
            while index < len(self.buffer):
                ev = self.buffer[index]
                index += 1
                yield ev
                if ev["type"] == "done":
                    return
            if self.done:
                return
            changed = self._changed
            try:
                await asyncio.wait_for(changed.wait(), timeout=keepalive)
            except TimeoutError:
                yield None

    def interrupt(self) -> None:
        self.live.agent.interrupt()
        pending = self.pending
        if pending is not None:  # stop while waiting for approval: the code is skipped
            pending.answer("skip")
