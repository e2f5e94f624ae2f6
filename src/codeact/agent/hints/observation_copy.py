"""A hint that keeps an observation pasted back as code from running: a cell that is not
Python and whose lines are lines the run has already shown (an error message, a note)
is asked again instead of run.

Seen with a 0.5B base model on a tool task: after a ``TypeError`` it sent the error's
two lines as its next cell, then the ``SyntaxError`` that gave, then that one's, for the
rest of the run; each such cell costs a turn and teaches nothing. Vetoed, the model is
asked again with sampling and told what it sent; a model that insists still gets its
cell run after the resamples (and meets the repeat guard).
"""

from __future__ import annotations

import ast
import re

from codeact.agent.hints.base import Hint, RunStart, Step, Verdict

MIN_LINE = 8  # shorter lines (`)`, `else:`) are code as often as copied text
KEEP_OUTPUTS = 20  # the most recent outputs searched
# lines of the loop's own framing that a copy carries along
_FRAMING = re.compile(r"^(\[codeact notes|Observation:|Note: |You have (\d+|no|1) turns? left)")


def _lines(text: str) -> set[str]:
    return {s for line in text.splitlines() if len(s := line.strip()) >= MIN_LINE}


def copied_lines(code: str, shown: set[str]) -> tuple[int, int]:
    """(lines of ``code`` that are shown text or the loop's framing, non-blank lines)."""
    lines = [s for line in code.splitlines() if (s := line.strip())]
    copied = sum(1 for s in lines if s in shown or _FRAMING.match(s))
    return copied, len(lines)


def _parses(code: str) -> bool:
    try:
        ast.parse(code)
    except SyntaxError:
        return False
    except ValueError:  # a null byte
        return False
    return True


class ObservationCopy(Hint):
    """Per run: the lines the run's outputs have shown the model."""

    name = "observation_copy"

    def __init__(self) -> None:
        self.shown: list[set[str]] = []

    def reset(self, run: RunStart | None = None) -> None:
        self.shown = []

    def after_action(self, step: Step, so_far: Verdict) -> None:
        self.shown = [*self.shown[-KEEP_OUTPUTS:], _lines(step.output)]

    def vetoes(self, action: str) -> str | None:
        if not self.shown or _parses(action) or \
                any(line.lstrip().startswith(("%", "!")) for line in action.splitlines()):
            return None  # Python, or IPython's magics and shell lines
        copied, total = copied_lines(action, set().union(*self.shown))
        if copied == 0 or 2 * copied < total:
            return None
        return ("it is not code: it copies text the run showed you (an error message or a "
                "note). That text says what went wrong; write Python that fixes it")
