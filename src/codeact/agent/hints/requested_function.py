"""A hint for tasks that ask for a function: point at the call that submits it.

Seen in HumanEval trajectories of a 1.5B model: it writes the right function in its
first cell, which prints nothing, then defines it again word for word each turn until
the run stops as stuck, never submitting it.
"""

from __future__ import annotations

import ast
import re
from typing import TYPE_CHECKING

from codeact.agent.hints.base import Advice, FirmNote, Hint, RunStart, Step, Verdict

if TYPE_CHECKING:
    from collections.abc import Iterable

    from codeact.runtime.observation import Observation

# A function the task names as code: called or defined (``has_close_elements(``), in
# backticks (`` `rotate_letters` ``) or a snake_case name (``rotate_letters``). A plain
# word does not count: "the factorial of 37" does not ask for a function called factorial.
_NAMED_AS_CODE = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\(|`([A-Za-z_][A-Za-z0-9_]*)`"
                            r"|\b([A-Za-z][A-Za-z0-9]*_[A-Za-z0-9_]*[A-Za-z0-9])\b")


def defined_functions(code: str) -> list[str]:
    """Names of the functions a cell defines at module level, in order."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return []
    return [node.name for node in tree.body
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))]


class RequestedFunction(Hint):
    """Per run: notices when a cell defines the function the task names.

    Seen in HumanEval trajectories of a 1.5B model: it writes the right function in its
    first cell, which prints nothing, then defines it again word for word each turn until
    the run stops as stuck, never submitting it. A task that names a function as code
    (``def count_distinct_characters(...)`` in the instruction, not the bare word) is
    asking for it: once a successful cell defines it, the observation names the exact
    call that submits it, and a run that would stop as stuck on such a cell submits it
    instead.
    """

    name = "requested_function"

    def __init__(self) -> None:
        self.task_words: set[str] = set()
        self._noted: set[str] = set()
        self.task = ""
        self.chat = False  # a reply to a person: prose about the function is fine
        self._defined: str | None = None  # the last one a successful cell defined

    def reset(self, run: RunStart) -> None:
        self.task = run.task
        self.chat = run.chat
        self._defined = None
        self.read_task(run.task, [t.name for t in run.tools])

    def checks_answer(self, answer: str, step: Step | None = None) -> str | None:
        """A value where the task asks for a function the run has defined (seen on
        HumanEval/4: the function written and told how to submit it, then its example's
        result submitted, ``final_answer(1.0)``). Firm when the task spells out the
        function's signature (``def name(``): it asks for that code, not for a value.
        Not in chat, where the reply is prose about it."""
        if self.chat:
            return None
        for name in sorted(self._noted):
            if f"def {name}" in answer:
                return None
        for name in sorted(self._noted):
            shown = answer.strip() if len(answer) <= 60 else answer.strip()[:60] + "..."
            note = (f"The task asks for the function `{name}` itself, and your answer "
                    f"{shown!r} is not that function (a value it returns is not the "
                    f"answer). Submit the function: final_answer({name}).")
            return FirmNote(note) if re.search(rf"\bdef {re.escape(name)}\(", self.task) \
                else note
        return None

    def after_action(self, step: Step, so_far: Verdict) -> Advice | None:
        """The first definition gets a note naming the submitting call; a repeat of it gets
        that call again; a stuck run on it submits it."""
        if step.observation is None:
            return None
        name = self.requested(step.action, step.observation)
        if name is None:
            return None
        self._defined = name
        if so_far.stuck:
            return Advice(note=f"The run stopped repeating: `{name}`, the function the "
                               f"task asks for, was submitted as the answer.",
                          submit=f"final_answer({name})")
        if so_far.repeat and not so_far.problem:  # not "submit it" when a hint found
            return Advice(note=self.repeat_note(name))  # it wrong (a failing example)
        return Advice(note=self.first_note(name))

    def submit_at_limit(self) -> str | None:
        """At the run's limit without an answer, the requested function as the kernel holds
        it, when a successful cell defined it (seen: HumanEval/72 checked its function on
        every example, all right, until the turn limit, and ended with no answer). Not in
        chat."""
        return None if self.chat or self._defined is None else f"final_answer({self._defined})"

    def read_task(self, task: str, tool_names: Iterable[str] = ()) -> None:
        """Read the names ``task`` asks for; a tool's own name is never one (a task that
        says "use `convert_units`" asks for a call, not a definition)."""
        named = {"".join(groups) for groups in _NAMED_AS_CODE.findall(task)}
        self.task_words = named - set(tool_names)
        self._noted.clear()

    def requested(self, code: str, obs: Observation) -> str | None:
        """The function a successful cell defines that the task names (the last such
        definition), or None."""
        if not obs.ok:
            return None
        names = [name for name in defined_functions(code) if name in self.task_words]
        return names[-1] if names else None

    def first_note(self, name: str | None) -> str | None:
        """A note the first time a cell defines the requested function."""
        if name is None or name in self._noted:
            return None
        self._noted.add(name)
        return (f"Note: your cell defines `{name}`, the function the task asks for. If you "
                f"have not checked it yet, test it on an example from the task; when it "
                f"is right, submit it with final_answer({name}).")

    @staticmethod
    def repeat_note(name: str) -> str:
        """Added to the repeat guard's note when the repeated cell defines it."""
        return (f"Your cell defines `{name}`, the function the task asks for: submit it "
                f"with final_answer({name}).")
