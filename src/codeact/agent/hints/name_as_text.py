"""A hint for a bare word the model copied from an output: text used as a variable name.

Seen in third-party tool tasks with a 1.5B model: a tool's result prints an identifier
(``w686y666``), and the next cell calls ``final_answer(w686y666)``: a ``NameError`` the
model re-sends unchanged. When the undefined name appears as text in an earlier output,
the note says so and shows it quoted. (When a variable holds exactly that text, the
kernel's own note names the variable: :mod:`codeact.runtime.suggest`.)

A name the model's own code assigns (``total_cost = ...`` in a cell that failed) is a
variable it meant to create, not copied text, even though a traceback echoes it: such
names, and the code lines of tracebacks, are left out (else the note told the model to
quote ``'total_cost'`` next to the note that said why it was not set). Of a code cell
that failed, only what it printed before the error counts: the error's own message and the
kernel's note on it name the missing name too (``Nothing defines `StringIO` ...``, after
which the model was told to quote ``'StringIO'`` instead of to import it).
"""

from __future__ import annotations

import re

from codeact.agent.hints.base import Advice, Hint, RunStart, Step, Verdict
from codeact.agent.hints.failed_assignments import assigned_names

_UNDEFINED = re.compile(r"name '([A-Za-z_][A-Za-z0-9_]*)' is not defined")
KEEP_OUTPUTS = 20  # the most recent outputs searched
# a traceback's header and code lines: "Cell In[3], line 2", "----> 2 x = f()", "   1 y = 2"
_TRACEBACK_CODE = re.compile(r"^\s*(Cell In\[\d+\]|File \S|(-*>\s*)?\d+\s)")


def without_code_lines(output: str) -> str:
    """A failed cell's output without the lines where its traceback shows the code."""
    return "\n".join(line for line in output.splitlines() if not _TRACEBACK_CODE.match(line))


class NameAsText(Hint):
    """Per run: the outputs seen so far, searched for an undefined name."""

    name = "name_as_text"

    def __init__(self) -> None:
        self.outputs: list[str] = []
        self.assigned: set[str] = set()

    def reset(self, run: RunStart | None = None) -> None:
        self.outputs = [] if run is None else [run.task]
        self.assigned = set()

    def after_action(self, step: Step, so_far: Verdict) -> Advice | None:
        note = None
        error = step.observation.error if step.observation is not None else None
        if error is not None and error.name == "NameError" and \
                "is not a variable" not in step.output and \
                "is not imported" not in step.output and \
                "which no cell has read yet" not in step.output and \
                "is a parameter of the tool" not in step.output:  # a value to get
            match = _UNDEFINED.search(error.message)
            if match and match.group(1) not in self.assigned and self._shown(match.group(1)):
                name = match.group(1)
                note = (f"Note: `{name}` is not a variable; it is text from an earlier "
                        f"output or the task. To use that text as a value, write it in "
                        f"quotes: {name!r}.")
        seen = step.output if step.ok else step.observation.stdout \
            if step.observation is not None else without_code_lines(step.output)
        self.outputs = [*self.outputs[-KEEP_OUTPUTS:], seen]
        self.assigned |= assigned_names(step.action)
        return Advice(note=note) if note else None

    def _shown(self, name: str) -> bool:
        # `catalog.json` in the task is a file name, not the text `catalog`
        word = re.compile(rf"(?<![\w'\"]){re.escape(name)}(?![\w'\"]|\.[A-Za-z]\w*\b)")
        return any(word.search(text) for text in self.outputs)
