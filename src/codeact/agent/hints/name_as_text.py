"""A hint for a bare word the model copied from an output: text used as a variable name.

Seen in third-party tool tasks with a 1.5B model: a tool's result prints an identifier
(``w686y666``), and the next cell calls ``final_answer(w686y666)``: a ``NameError`` the
model re-sends unchanged. When the undefined name appears as text in an earlier output,
the note says so and shows it quoted. (When a variable holds exactly that text, the
kernel's own note names the variable: :mod:`codeact.runtime.suggest`.)
"""

from __future__ import annotations

import re

from codeact.agent.hints.base import Advice, Hint, RunStart, Step, Verdict

_UNDEFINED = re.compile(r"name '([A-Za-z_][A-Za-z0-9_]*)' is not defined")
KEEP_OUTPUTS = 20  # the most recent outputs searched


class NameAsText(Hint):
    """Per run: the outputs seen so far, searched for an undefined name."""

    name = "name_as_text"

    def __init__(self) -> None:
        self.outputs: list[str] = []

    def reset(self, run: RunStart | None = None) -> None:
        self.outputs = [] if run is None else [run.task]

    def after_action(self, step: Step, so_far: Verdict) -> Advice | None:
        note = None
        error = step.observation.error if step.observation is not None else None
        if error is not None and error.name == "NameError" and \
                "is not a variable" not in step.output:
            match = _UNDEFINED.search(error.message)
            if match and self._shown(match.group(1)):
                name = match.group(1)
                note = (f"Note: `{name}` is not a variable; it is text from an earlier "
                        f"output or the task. To use that text as a value, write it in "
                        f"quotes: {name!r}.")
        self.outputs = [*self.outputs[-KEEP_OUTPUTS:], step.output]
        return Advice(note=note) if note else None

    def _shown(self, name: str) -> bool:
        word = re.compile(rf"(?<![\w'\"]){re.escape(name)}(?![\w'\"])")
        return any(word.search(text) for text in self.outputs)
