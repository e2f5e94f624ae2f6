"""A hint that shows a tool's signature and description next to the error of a call.

Seen in third-party tool tasks with a 1.5B model: the tools are listed once, at the top
of a long context, and the model calls them from memory: ``sku_info.items()`` on a
function, ``nutrients(recipe)`` where the tool takes an ingredient, ``rank_teams(fn)``
where it takes a table. The error says what failed but not what the tool expects; the
model guesses again. When the line that failed (or the failing tool call) uses a tool,
the note repeats that tool's signature and description, where the model looks now.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING

from codeact.agent.hints.base import Advice, Hint, RunStart, Step, Verdict

if TYPE_CHECKING:
    from codeact.tools import Tool

MAX_TOOLS = 3  # tools shown in one note
MAX_DESCRIPTION = 400  # characters of a description
QUIET_TURNS = 2  # a tool on a failing line is not shown again for this many turns
# where a traceback points at the failing line ("----> 3 x = f(y)"), and the error line
_ARROW = re.compile(r"^\s*-+>\s*\d*\s?(.*)$")
_ERROR = re.compile(r"^\s*([A-Z]\w*(?:Error|Exception)\b.*)$")


def failing_text(output: str) -> tuple[str, str]:
    """A failed cell's error lines and the lines its traceback points at."""
    lines = output.splitlines()
    errors = [m.group(1) for line in lines if (m := _ERROR.match(line))]
    arrows = [m.group(1) for line in lines if (m := _ARROW.match(line))]
    return "\n".join(errors), "\n".join(arrows)


class ToolReminder(Hint):
    """Per run: the tools by name, and the turn each was last shown."""

    name = "tool_reminder"

    def __init__(self) -> None:
        self.tools: dict[str, Tool] = {}
        self.shown: dict[str, int] = {}

    def reset(self, run: RunStart) -> None:
        self.tools = {t.name: t for t in run.tools}
        self.shown = {}

    def after_action(self, step: Step, so_far: Verdict) -> Advice | None:
        if step.ok or not self.tools:
            return None
        names = self._used(step)
        if not names:
            return None
        names = names[:MAX_TOOLS]
        for n in names:
            self.shown[n] = step.turn
        which = (f"the tool `{names[0]}`. It is" if len(names) == 1 else
                 "the tools " + ", ".join(f"`{n}`" for n in names) + ". They are")
        entries = "\n".join(self.entry(self.tools[n]) for n in names)
        # worded so that it reads as a reminder, not as code to write: an earlier
        # wording ("check the call against its signature") was answered with a `def`
        return Advice(note=f"Note: what failed uses {which} already defined: call as "
                           f"described here, do not define again.\n{entries}")

    def _used(self, step: Step) -> list[str]:
        """The tools the failure is about: those the error message names first (they
        are shown even when shown lately), then those on the failing line."""
        if step.observation is None:  # a json/text tool call: the tool it named
            try:
                name = json.loads(step.action)[0]
            except (ValueError, IndexError, KeyError, TypeError):
                return []
            return [name] if name in self.tools else []
        errors, lines = failing_text(step.output)
        named = self._named(errors)
        recent = [n for n in self._named(lines) if n not in named and
                  step.turn - self.shown.get(n, -99) > QUIET_TURNS]
        return named + recent

    def _named(self, text: str) -> list[str]:
        """The tools ``text`` names as code (not as an attribute or inside a word), in
        the order they appear."""
        used = [(m.start(), name) for name in self.tools
                if (m := re.search(rf"(?<![\w.'\"]){re.escape(name)}(?!\w)", text))]
        return [name for _, name in sorted(used)]

    @staticmethod
    def entry(tool: Tool) -> str:
        """A tool's signature and description (cut short), indented, for a note."""
        doc = " ".join(tool.doc().split())
        if len(doc) > MAX_DESCRIPTION:
            doc = doc[:MAX_DESCRIPTION].rsplit(" ", 1)[0] + " ..."
        return f"    {tool.name}{tool.signature}: {doc}"
