"""Render agent events in the terminal with rich: streamed text, highlighted code,
observations and the final answer."""

from __future__ import annotations

from rich.console import Console
from rich.markdown import Markdown
from rich.panel import Panel
from rich.syntax import Syntax
from rich.text import Text

from codeact.events import (
    CodeActionEvent,
    DoneEvent,
    ErrorEvent,
    Event,
    FinalAnswerEvent,
    ObservationEvent,
    OutputDelta,
    ResampledEvent,
    SampleStarted,
    TextDelta,
    ToolCallEvent,
    TurnStarted,
)

_TAGS = ("<execute>", "<solution>")


class TagFilter:
    """Pass model text through, holding back everything from ``<execute>`` or
    ``<solution>`` on: those parts are shown as a code panel or an answer instead."""

    def __init__(self) -> None:
        self._pending = ""
        self._hidden = False

    def feed(self, text: str) -> str:
        if self._hidden:
            return ""
        self._pending += text
        for tag in _TAGS:
            pos = self._pending.find(tag)
            if pos != -1:
                out, self._pending, self._hidden = self._pending[:pos], "", True
                return out
        # Keep back a tail that might be the start of a tag.
        keep = 0
        for tag in _TAGS:
            for n in range(len(tag) - 1, 0, -1):
                if self._pending.endswith(tag[:n]):
                    keep = max(keep, n)
                    break
        out = self._pending[: len(self._pending) - keep]
        self._pending = self._pending[len(self._pending) - keep:]
        return out

    def flush(self) -> str:
        out = "" if self._hidden else self._pending
        self._pending, self._hidden = "", False
        return out


def _install_style(text: str, installing: bool) -> str | None:
    """``%pip install`` steps stand apart: "installing six ... " then, in the next piece
    of output, "done: ..." or "failed: ..."."""
    if text.startswith("installing ") and text.rstrip().endswith("..."):
        return "bold magenta"
    if installing and text.startswith("done: "):
        return "bold green"
    if installing and text.startswith("failed: "):
        return "bold red"
    return None


class EventPrinter:
    """Print a stream of agent events to a rich console as they arrive."""

    def __init__(self, console: Console | None = None, *, show_turns: bool = True) -> None:
        self.console = console or Console()
        self.show_turns = show_turns
        self._filter = TagFilter()
        self._streamed_output = False
        self._at_line_start = True
        self._installing = False  # the last output was "installing NAME ... "

    def _write(self, text: str, style: str | None = None) -> None:
        if text:
            self.console.print(Text(text, style=style or ""), end="", soft_wrap=True)
            self._at_line_start = text.endswith("\n")

    def _newline(self) -> None:
        if not self._at_line_start:
            self.console.print()
            self._at_line_start = True

    def handle(self, event: Event) -> None:
        """Render one event."""
        if isinstance(event, SampleStarted):
            self._newline()
            self.console.rule(f"sample {event.sample} of {event.k}", style="bold")
        elif isinstance(event, ResampledEvent):
            self._filter = TagFilter()
            self._newline()
            self.console.print(Text(f"[discarded: {event.reason}; asking again "
                                    f"(try {event.attempt})]", style="dim italic"))
        elif isinstance(event, TurnStarted):
            self._filter = TagFilter()
            if self.show_turns:
                self._newline()
                self.console.rule(f"turn {event.turn}", style="dim")
        elif isinstance(event, TextDelta):
            self._write(self._filter.feed(event.text))
        elif isinstance(event, CodeActionEvent):
            self._write(self._filter.flush())
            self._newline()
            self.console.print(Panel(Syntax(event.code, "python", theme="monokai",
                                            word_wrap=True),
                                     title="code", title_align="left", border_style="blue"))
            self._streamed_output = False
        elif isinstance(event, ToolCallEvent):
            self._write(self._filter.flush())
            self._newline()
            self.console.print(Text(f"→ {event.tool}({event.arguments!r})", style="bold blue"))
        elif isinstance(event, OutputDelta):
            self._streamed_output = True
            style = _install_style(event.text, self._installing)
            self._installing = style == "bold magenta"
            self._write(event.text, style or ("red" if event.stream == "stderr" else "dim"))
        elif isinstance(event, ObservationEvent):
            self._newline()
            text = event.text
            if self._streamed_output and event.observation is not None:
                # stdout/stderr were already shown live; show only what came after.
                extra = text
                for part in (event.observation.stdout, event.observation.stderr):
                    if part:
                        extra = extra.replace(part.rstrip("\n"), "", 1)
                text = extra.replace("[stderr]\n", "").strip()
                if text:
                    self.console.print(Text(text, style="yellow"))
            elif text:
                self.console.print(Panel(Text(text), title="observation", title_align="left",
                                         border_style="yellow"))
            self._streamed_output = False
        elif isinstance(event, FinalAnswerEvent):
            self._write(self._filter.flush())
            self._newline()
            title = "answer (refused earlier as unchecked, kept: the run ended without " \
                "another)" if event.fallback else "answer"
            self.console.print(Panel(Markdown(event.answer), title=title,
                                     title_align="left",
                                     border_style="yellow" if event.fallback else "green"))
        elif isinstance(event, ErrorEvent):
            self._newline()
            self.console.print(Text(f"error: {event.message}", style="bold red"))
        elif isinstance(event, DoneEvent):
            self._write(self._filter.flush())
            self._newline()
            traj = event.trajectory
            vote = traj.metadata.get("samples")
            if vote:
                answers = ", ".join(repr(a) if a is not None else "-" for a in vote["answers"])
                ran = vote["ran"]
                left = (f"; the other {vote['k'] - ran} could not change the vote: not run"
                        if ran < vote["k"] else "")
                self.console.print(Text(f"vote: {vote['agreement']} of {ran} runs agree "
                                        f"on the answer (answers: {answers}{left})",
                                        style="bold"))
            if self.show_turns:
                self.console.print(
                    Text(f"stopped: {traj.stop_reason} · {len(traj.turns)} turn(s) · "
                         f"{traj.total_tokens} tokens · {traj.wall_seconds:.1f} s",
                         style="dim"))
