"""Render one dataset record like ``codeact run`` prints a live run.

The conversation is replayed as agent events (each assistant message parsed with the
code action format into text, code and answer; each following user message shown as its
observation) through the same :class:`codeact.cli.render.EventPrinter`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.panel import Panel
from rich.text import Text

from codeact.actions import CodeAction, FinalAnswer, get_format
from codeact.events import (
    CodeActionEvent,
    Event,
    FinalAnswerEvent,
    ObservationEvent,
    TextDelta,
    TurnStarted,
)


def _run_name(record: dict[str, Any]) -> str | None:
    """The name a bench or collect run has in results files and logs (``kind/s2-8@1``)."""
    meta = record.get("metadata") or {}
    if not meta.get("task"):
        return None
    return f"{meta['task']}@{meta['sample']}" if meta.get("sample") is not None \
        else str(meta["task"])


def find(records: Sequence[dict[str, Any]], record_id: str | None) -> dict[str, Any]:
    """The record with this id (or run name, ``task@sample`` as results files call it), or
    the only one whose id contains it; the first if None."""
    if not records:
        raise LookupError("the file holds no records")
    if record_id is None:
        return records[0]
    exact = [r for r in records if record_id in (r.get("id"), _run_name(r))]
    if exact:
        return exact[0]
    partial = [r for r in records if record_id in str(r.get("id"))]
    if len(partial) == 1:
        return partial[0]
    if not partial:
        raise LookupError(f"no record id contains {record_id!r}")
    raise LookupError(f"{len(partial)} record ids contain {record_id!r}, e.g. "
                      f"{', '.join(str(r.get('id')) for r in partial[:3])}")


def events(conversation: Sequence[dict[str, Any]]) -> list[Event]:
    """Agent events that replay a conversation (system message excluded)."""
    fmt = get_format("code")
    out: list[Event] = []
    turn = 0
    for m in conversation:
        role, content = m.get("role"), str(m.get("content") or "")
        if role == "assistant":
            turn += 1
            out.append(TurnStarted(turn, 0))
            out.append(TextDelta(turn, content))
            action = fmt.parse(content)
            if isinstance(action, CodeAction):
                out.append(CodeActionEvent(turn, action.code))
                if action.solution is not None:
                    out.append(FinalAnswerEvent(turn, action.solution))
            elif isinstance(action, FinalAnswer):
                out.append(FinalAnswerEvent(turn, action.answer))
        elif role == "user" and turn:
            text = content.removeprefix("Observation:\n")
            out.append(ObservationEvent(turn, text, None))
    return out


def render(record: dict[str, Any], console: Console | None = None) -> None:
    """Print the record's task and its turns."""
    from codeact.cli.render import EventPrinter

    console = console or Console()
    conv = record.get("conversations") or []
    task = next((str(m.get("content") or "") for m in conv if m.get("role") == "user"), "")
    console.print(Text(str(record.get("id", "")), style="bold"))
    console.print(Panel(Text(task), title="task", title_align="left", border_style="cyan"))
    printer = EventPrinter(console)
    for event in events(conv):
        printer.handle(event)
    meta = record.get("metadata") or {}
    turns = sum(1 for m in conv if m.get("role") == "assistant")
    console.print(Text(f"{turns} assistant turn(s) · source {meta.get('source')} · teacher "
                       f"{meta.get('teacher')} · answer {meta.get('answer')!r}", style="dim"))
