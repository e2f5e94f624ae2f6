"""An optional self-check turn: before the run ends, the model reads its answer against
the task once more.

The question (issue: agent quality II) was whether a 1.5B model, shown its answer next
to the task ("the right items, every condition applied, the form asked for?"), fixes
answers such as ids where the task asked for titles, or a filter that left out one of the
task's conditions. It costs one turn per run. It is off by default (``default = False``)
unless the measurements in ``src/codeact/bench/README.md`` show it raises success;
switch it on with ``Agent(hints=[*default_hint_names(), "self_check"])``.
"""

from __future__ import annotations

from codeact.agent.hints.base import Hint, RunStart, Step

MAX_SHOWN = 300  # characters of the answer repeated in the question


def beside_task(answer: str, task: str) -> str:
    """The task and the answer (cut to MAX_SHOWN), one line each: what a check asks the
    model to compare."""
    answer = answer.strip()
    shown = answer if len(answer) <= MAX_SHOWN else answer[:MAX_SHOWN] + " ..."
    return f"The task: {task.strip()}\nYour answer: {shown}\n"


class SelfCheck(Hint):
    """Per run: the task, and whether the check was asked."""

    name = "self_check"
    default = False

    def __init__(self) -> None:
        self.task = ""
        self.asked = False

    def reset(self, run: RunStart) -> None:
        self.task = run.task
        self.asked = False

    def checks_answer(self, answer: str, step: Step | None = None) -> str | None:
        if self.asked:
            return None
        self.asked = True
        return ("Before you finish, check your answer against the task.\n"
                + beside_task(answer, self.task) +
                "Does it give exactly what the task asks for: every condition of the task "
                "applied, the items or value asked for (for example names rather than ids, "
                "the unit asked for, rounding), and nothing else? If it does, submit the "
                "same answer again. If it does not, fix the code and submit the new answer.")
