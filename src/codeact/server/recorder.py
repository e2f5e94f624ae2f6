"""From agent events to stored rows and client events: one handler per event type.

A :class:`Recorder` belongs to one run. The hub's writer thread hands it the run's
events in order, inside one store transaction per batch; each handler writes through
:class:`~codeact.server.store.Store` methods (never SQL of its own) and returns the client
events to publish once that transaction has committed. The recorder remembers what is
open: the message being streamed, the code action whose output is arriving.

Client events are JSON objects with a ``type``; text and output deltas carry the offset
(in UTF-16 code units, as JavaScript counts) where they start, so a client that loaded
the timeline while a run was going can apply the live events without duplicating text.

To record a new event type: write a method and decorate it with ``@handles(EventType)``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

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
from codeact.server.store import Store

__all__ = ["HANDLERS", "ApprovalAsked", "ApprovalGiven", "ClientEvent", "Recorder", "RunEnded",
           "Snapshot", "coalesce", "handles", "is_done", "u16len"]

ClientEvent = dict[str, Any]
Handler = Callable[["Recorder", Any, Session], list[ClientEvent]]


@dataclass
class Snapshot:
    """The model's messages at a turn boundary, queued in order with the run's events.

    ``open_code``: taken right after a code action, whose observation the model has not
    seen yet. Saved in the same transaction as the events before it, so after a crash
    the timeline past the snapshot is exactly what the model has not been shown.
    """

    messages: list[dict[str, Any]]
    open_code: bool = False


@dataclass(frozen=True)
class RunEnded:
    """The agent's stream ended without a ``DoneEvent`` (it raised): close the run."""


@dataclass(frozen=True)
class ApprovalAsked:
    """Approval mode: the code action just recorded waits for the user's decision.

    ``pending`` (a ``runs.PendingApproval``) learns the code action's id here, once the
    action is saved."""

    code: str
    pending: Any = None


@dataclass(frozen=True)
class ApprovalGiven:
    """The user's decision: ``run``, ``edit`` (``code`` is what runs) or ``skip``."""

    action: str
    code: str | None = None


def u16len(text: str) -> int:
    """Length as JavaScript counts it (UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2


def is_done(event: Any) -> bool:
    """Whether ``event`` ends a run (the agent's ``DoneEvent`` or the hub's ``RunEnded``)."""
    return isinstance(event, DoneEvent | RunEnded)


def coalesce(events: list[Any]) -> list[Any]:
    """Merge runs of text deltas (same turn) and output deltas (same stream)."""
    out: list[Any] = []
    for ev in events:
        prev = out[-1] if out else None
        if isinstance(ev, TextDelta) and isinstance(prev, TextDelta) and prev.turn == ev.turn:
            out[-1] = TextDelta(ev.turn, prev.text + ev.text)
        elif (isinstance(ev, OutputDelta) and isinstance(prev, OutputDelta)
              and prev.stream == ev.stream and prev.turn == ev.turn):
            out[-1] = OutputDelta(ev.turn, ev.stream, prev.text + ev.text)
        else:
            out.append(ev)
    return out


# event class -> handler; ``record`` looks an event's class up along its MRO
HANDLERS: dict[type, Handler] = {}


def handles(*types: type) -> Callable[[Handler], Handler]:
    """Register the decorated method as the recorder's handler for ``types``."""
    def register(fn: Handler) -> Handler:
        for t in types:
            HANDLERS[t] = fn
        return fn

    return register


class Recorder:
    """Records one run's events through the store; returns the client events for each."""

    def __init__(self, store: Store, conversation_id: str) -> None:
        self.store = store
        self.conversation_id = conversation_id
        self.turn = 0
        self.message_id: int | None = None  # the assistant message being streamed
        self.message_len = 0  # its length in UTF-16 code units
        self.message_text = ""
        self.code_action_id: int | None = None  # the code action whose output is arriving
        self.observation_id: int | None = None
        self.output_len = {"stdout": 0, "stderr": 0}
        self.trajectory: Any = None  # the run's Trajectory once done (token usage)

    def record(self, event: Any, s: Session) -> list[ClientEvent]:
        """Store ``event`` in the open transaction ``s``; the client events it makes.

        Unknown event types are ignored (they have nothing to show or keep).
        """
        for cls in type(event).__mro__:
            handler = HANDLERS.get(cls)
            if handler is not None:
                return handler(self, event, s)
        return []

    # helpers ------------------------------------------------------------------------------
    def _finish_message(self, s: Session) -> list[ClientEvent]:
        if self.message_id is None:
            return []
        self.store.finish_message(self.message_id, s=s)
        ev = {"type": "message_done", "id": self.message_id}
        self.message_id = None
        self.message_len = 0
        self.message_text = ""
        return [ev]

    def _item(self, role: str, kind: str, content: str, s: Session,
              turn: int | None = None) -> ClientEvent:
        item = self.store.add_message(self.conversation_id, role, kind, content, turn=turn,
                                      s=s)
        return {"type": "item", "item": item}

    # one handler per event type -------------------------------------------------------------
    @handles(Snapshot)
    def _snapshot(self, event: Snapshot, s: Session) -> list[ClientEvent]:
        self.store.save_agent_messages(
            self.conversation_id, event.messages, s=s,
            open_code=self.code_action_id if event.open_code else None)
        return []

    @handles(TurnStarted)
    def _turn_started(self, event: TurnStarted, s: Session) -> list[ClientEvent]:
        self.turn = event.turn
        return [*self._finish_message(s), {"type": "turn", "turn": event.turn}]

    @handles(TextDelta)
    def _text(self, event: TextDelta, s: Session) -> list[ClientEvent]:
        if self.message_id is None:
            item = self.store.add_message(self.conversation_id, "assistant", "text",
                                          event.text, turn=event.turn, status="streaming",
                                          s=s)
            self.message_id = item["id"]
            self.message_len = u16len(event.text)
            self.message_text = event.text
            return [{"type": "item", "item": item}]
        self.store.append_message_text(self.message_id, event.text, s=s)
        ev = {"type": "text", "message_id": self.message_id, "offset": self.message_len,
              "text": event.text}
        self.message_len += u16len(event.text)
        self.message_text += event.text
        return [ev]

    @handles(CodeActionEvent, ToolCallEvent)
    def _action(self, event: CodeActionEvent | ToolCallEvent, s: Session
                ) -> list[ClientEvent]:
        message_id = self.message_id
        out = self._finish_message(s)
        if isinstance(event, CodeActionEvent):
            code = event.code
        else:
            code = json.dumps({"tool": event.tool, "arguments": event.arguments},
                              ensure_ascii=False, default=repr)
        item, obs_id = self.store.add_code_action(self.conversation_id, code,
                                                  turn=event.turn, message_id=message_id,
                                                  s=s)
        self.code_action_id = item["id"]
        self.observation_id = obs_id
        self.output_len = {"stdout": 0, "stderr": 0}
        return [*out, {"type": "item", "item": item}]

    @handles(ApprovalAsked)
    def _approval_asked(self, event: ApprovalAsked, s: Session) -> list[ClientEvent]:
        if event.pending is not None:
            event.pending.code_action_id = self.code_action_id
        return [{"type": "approval", "code_action_id": self.code_action_id,
                 "code": event.code}]

    @handles(ApprovalGiven)
    def _approval_given(self, event: ApprovalGiven, s: Session) -> list[ClientEvent]:
        if event.action == "edit" and event.code is not None and self.code_action_id:
            self.store.set_code(self.code_action_id, event.code, s=s)
        return [{"type": "approval_done", "code_action_id": self.code_action_id,
                 "action": event.action, "code": event.code}]

    @handles(OutputDelta)
    def _output(self, event: OutputDelta, s: Session) -> list[ClientEvent]:
        if self.observation_id is None:
            return []
        stream = "stderr" if event.stream == "stderr" else "stdout"
        self.store.append_output(self.observation_id, stream, event.text, s=s)
        ev = {"type": "output", "code_action_id": self.code_action_id, "stream": stream,
              "offset": self.output_len[stream], "text": event.text}
        self.output_len[stream] += u16len(event.text)
        return [ev]

    @handles(ObservationEvent)
    def _observation(self, event: ObservationEvent, s: Session) -> list[ClientEvent]:
        out = self._finish_message(s)
        if self.observation_id is not None:
            obs = self.store.finish_observation(self.observation_id, self.conversation_id,
                                                text=event.text,
                                                observation=event.observation, s=s)
            ev = {"type": "observation", "code_action_id": self.code_action_id,
                  "observation": obs}
            self.observation_id = None
            self.code_action_id = None
            return [*out, ev]
        # feedback without a code action (an unusable reply): show it as a notice
        return [*out, self._item("system", "feedback", event.text, s, turn=event.turn)]

    @handles(FinalAnswerEvent)
    def _final_answer(self, event: FinalAnswerEvent, s: Session) -> list[ClientEvent]:
        if self.message_id is not None and self.message_text.strip() == event.answer:
            # a chat reply without an action: the streamed text is the answer
            self.store.set_message_kind(self.message_id, "answer", s=s)
            ev = {"type": "message_kind", "id": self.message_id, "kind": "answer"}
            return [ev, *self._finish_message(s)]
        out = self._finish_message(s)
        return [*out, self._item("assistant", "answer", event.answer, s, turn=event.turn)]

    @handles(ErrorEvent)
    def _error(self, event: ErrorEvent, s: Session) -> list[ClientEvent]:
        out = self._finish_message(s)
        return [*out, self._item("system", "error", event.message, s, turn=event.turn)]

    @handles(DoneEvent, RunEnded)
    def _done(self, event: DoneEvent | RunEnded, s: Session) -> list[ClientEvent]:
        out = self._finish_message(s)
        if self.observation_id is not None:
            obs = self.store.finish_observation(self.observation_id, self.conversation_id,
                                                text="(interrupted)", s=s)
            out.append({"type": "observation", "code_action_id": self.code_action_id,
                        "observation": obs})
            self.observation_id = None
        reason = "error"
        if isinstance(event, DoneEvent):
            reason = event.trajectory.stop_reason or "done"
            self.trajectory = event.trajectory
            messages = [m for m in event.trajectory.messages if m.get("role") != "system"]
            self.store.save_agent_messages(self.conversation_id, messages, s=s)
        if reason == "interrupted":
            out.append(self._item("system", "notice", "Stopped.", s))
        return [*out, {"type": "done", "stop_reason": reason}]
