"""A hint for a cell that computes nothing: it only prints text the model typed.

Seen with a 1.5B model (builtin `web/lighthouse`): after an empty answer was refused, the
model sent ``print("This is the first step.")``, then "the second step", and so on to
the turn limit: eight cells, each different (so no repeat), each "successful", none
touching the task's data. A cell whose every statement is a constant, ``pass`` or a
``print`` of constants did nothing toward the task; from the second such cell in a row the
note says so and repeats the task, and the step is marked as no answer yet (other notes
do not urge answering it). Not judged: chat, and text the task itself asks to print.
"""

from __future__ import annotations

import ast

from codeact.agent.hints.base import Advice, Hint, RunStart, Step, Verdict, every_statement

TASK_CHARS = 300  # the most of the task the note repeats
IDLE_IN_A_ROW = 2  # such cells in a row before the note (one may be a heading)


def _typed_text_only(stmt: ast.stmt) -> bool:
    if isinstance(stmt, ast.Pass):
        return True
    value = stmt.value if isinstance(stmt, ast.Expr) else None
    if isinstance(value, ast.Constant):
        return True
    return isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and \
        value.func.id == "print" and not value.keywords and \
        all(isinstance(arg, ast.Constant) for arg in value.args)


def computes_nothing(code: str) -> bool:
    """Whether every statement of ``code`` is a constant, ``pass`` or ``print(constants)``
    (a syntax error or an empty cell: no, other hints speak of those)."""
    return every_statement(code, _typed_text_only)


class IdleCells(Hint):
    """Per run: the task, to repeat it."""

    name = "idle_cells"

    def __init__(self) -> None:
        self.task = ""
        self.judged = True  # code actions outside chat ("print hello" is a fine request)
        self.idle_run = 0  # such cells in a row
        self.idle_seen: set[str] = set()

    def reset(self, run: RunStart) -> None:
        self.task = run.task
        self.judged = run.code_format and not run.chat
        self.idle_run = 0
        self.idle_seen = set()

    def after_action(self, step: Step, so_far: Verdict) -> Advice | None:
        idle = self.judged and step.ok and computes_nothing(step.action) and not (
            step.output.strip() and step.output.strip().lower() in self.task.lower())
        self.idle_run = self.idle_run + 1 if idle else 0
        repeated = step.action in self.idle_seen  # the repeats hint speaks of that one
        if idle:
            self.idle_seen.add(step.action)
        if self.idle_run < IDLE_IN_A_ROW or repeated:  # one may be a heading; two: a drift
            return None
        task = self.task if len(self.task) <= TASK_CHARS else self.task[:TASK_CHARS] + " ..."
        return Advice(note="Note: this cell only printed text that you typed into it: it "
                           "computed nothing and used none of the task's data. The task is "
                           f"still open: {task}\nWrite code that works on the task's data "
                           "and prints what it finds.", problem=True)
