"""A hint that refuses, once, an answer computed from values the code says it assumed.

Seen with a 1.5B model on tool tasks: after a note that no tool was used, it called the
tools, printed their lists, and still computed the answer from ``employees = 100  #
Assume there are 100 employees in Support``; another run answered from ``return 12.0  #
Placeholder value for demonstration``. Every run whose code carried such a comment
(assume, placeholder, dummy, hypothetical, "replace with the actual ...") failed. The
model says in its own comment that a value is made up; when an answer is submitted after
such a line ran, the note quotes the line and asks for the real value, once per run. An
answer whose values really are given is simply submitted again. Code actions only; a task
that itself speaks of assuming something is left alone.
"""

from __future__ import annotations

import re

from codeact.agent.hints.base import NOTE_TOOLS, Advice, Hint, RunStart, Step, Verdict
from codeact.runtime.suggest import listed_names

# a comment in which the model says that a value is not the task's data
ASSUMPTION = re.compile(
    r"#.*?\b(assum(?:e|es|ed|ing)|placeholder|hypothetical|dummy|made[- ]up|fake|mock"
    r"|for demonstration|replace (?:this|it|them|these)?\s*with|example (?:data|values?))\b",
    re.IGNORECASE)
TASK_ASSUMES = re.compile(r"\bassum|\bhypothetical|\bsuppose\b|\bimagine\b", re.IGNORECASE)
QUOTE_CHARS = 100  # of the quoted line


def assumption_line(code: str) -> str | None:
    """The first line of ``code`` whose comment says a value is assumed or made up: the
    line itself when it holds code, else the next line that does; None when none."""
    lines = code.splitlines()
    for i, line in enumerate(lines):
        if not ASSUMPTION.search(line):
            continue
        code_part = line.split("#", 1)[0].strip()
        if code_part:
            return line.strip()[:QUOTE_CHARS]
        for following in lines[i + 1:i + 4]:
            if following.strip() and not following.strip().startswith("#"):
                return following.strip()[:QUOTE_CHARS]
        return line.strip()[:QUOTE_CHARS]
    return None


class AssumedValues(Hint):
    """Per run: the first line that ran with an assumption comment."""

    name = "assumed_values"

    def __init__(self) -> None:
        self.active = False
        self.tools: list[str] = []
        self.line: str | None = None

    def reset(self, run: RunStart) -> None:
        self.active = run.code_format and not TASK_ASSUMES.search(run.task)
        self.tools = [t.name for t in run.tools]
        self.line = None

    def after_action(self, step: Step, so_far: Verdict) -> Advice | None:
        if self.active and self.line is None and step.ok and step.observation is not None:
            self.line = assumption_line(step.action)
        return None

    def checks_answer(self, answer: str, step: Step | None = None) -> str | None:
        if not self.active:
            return None
        line = self.line
        if line is None and step is not None and step.observation is not None:
            line = assumption_line(step.action)
        if line is None:
            return None
        source = f"your tools ({listed_names(self.tools, NOTE_TOOLS)})" if self.tools \
            else "the task"
        return (f"Your code computed with a value it assumed, not one it got: `{line}`. "
                f"An answer must rest on the task's own data: get that value from {source}, "
                "print it, and compute the answer from it. If the value really is given, "
                "submit the same answer again.")
