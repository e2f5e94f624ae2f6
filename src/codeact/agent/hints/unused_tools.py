"""A hint that refuses, once, an answer computed without any of the run's tools.

Seen with a 1.5B model on tool tasks: "Everyone in Support gets a 7% raise. By how much
does the annual payroll increase?" answered in the first cell with ``employees = 100  #
Assume there are 100 employees``, never calling the directory tools that hold the
salaries: the answer rests on made-up data. When a run has tools and no cell used any of
them (a call, or a tool passed as a value), the answer gets a note and one more turn; an
answer that really needs no tool is simply submitted again. Code actions only; not in
chat, where a request may need no tool.
"""

from __future__ import annotations

import ast
import re

from codeact.agent.hints.base import NOTE_TOOLS, Advice, Hint, RunStart, Step, Verdict
from codeact.runtime.suggest import listed_names


def uses_any(code: str, names: set[str]) -> bool:
    """Whether ``code`` reads one of ``names`` (a call or a reference; a ``def`` of the
    same name is not a use). Code that does not parse is searched as text."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return any(re.search(rf"(?<![\w.]){re.escape(n)}\s*\(", code) for n in names)
    return any(isinstance(node, ast.Name) and node.id in names for node in ast.walk(tree))


class UnusedTools(Hint):
    """Per run: the tools' names, and whether a cell used one."""

    name = "unused_tools"

    def __init__(self) -> None:
        self.tools: list[str] = []
        self.used = False

    def reset(self, run: RunStart) -> None:
        self.tools = [t.name for t in run.tools] if run.code_format and not run.chat else []
        self.used = False

    def after_action(self, step: Step, so_far: Verdict) -> Advice | None:
        if self.tools and not self.used and step.observation is not None:
            self.used = uses_any(step.action, set(self.tools))
        return None

    def checks_answer(self, answer: str, step: Step | None = None) -> str | None:
        if not self.tools or self.used:
            return None
        if step is not None and step.observation is not None and \
                uses_any(step.action, set(self.tools)):
            return None
        listed = listed_names(self.tools, NOTE_TOOLS)
        return ("None of your cells called your tools (" + listed + "), so this "
                "answer rests on guessed or made-up data. Call the tools to get the task's "
                "data, print what they return, and compute the answer from it. If the task "
                "really needs none of them, submit the same answer again.")
