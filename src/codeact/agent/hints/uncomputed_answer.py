"""A hint that refuses an answer no code computed: every cell so far failed.

Seen with a 1.5B model across builtin and third-party tool tasks: 23 runs answered with a
literal (``final_answer(0)``, ``final_answer('lentil soup')``, ``'False'``) after every
cell of the run had ended in an error; 17 of those answers were wrong, and the 6 right
ones were coin flips on yes/no questions or a lucky pick. The once-per-run refusals did not
hold: ``final_answer(0)`` after a missing file was refused for not calling the tools, sent
again, and kept. Such an answer is refused firmly (each time, up to the loop's limit): the
model is told that nothing computed it and to fix the last error first.

Not judged: an answer before any cell ran (knowledge, not a computation), a cell that
computes and submits in one go and runs, a value some failed cell printed before its error,
and chat replies (telling a person that something failed is a fine reply).
"""

from __future__ import annotations

import ast

from codeact.agent.hints.base import GuessNote, Hint, RunStart, Step, Verdict, every_statement
from codeact.syntax import LITERAL_ERRORS

ANSWER_CALL = "final_answer"
SHOWN_CHARS = 80  # the most of the answer the note quotes


def _submits_a_literal(stmt: ast.stmt) -> bool:
    call = stmt.value if isinstance(stmt, ast.Expr) else None
    if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name)
            and call.func.id == ANSWER_CALL):
        return False
    try:
        for arg in [*call.args, *(k.value for k in call.keywords)]:
            ast.literal_eval(arg)
    except LITERAL_ERRORS:
        return False
    return True


def literal_answer_only(code: str) -> bool:
    """Whether ``code`` does nothing but submit literal values (``final_answer(0)``): it
    computes nothing, so its answer is only as good as what computed it before."""
    return every_statement(code, _submits_a_literal)


class UncomputedAnswer(Hint):
    """Per run: whether any action succeeded, how many failed, and what failed cells
    printed before their error."""

    name = "uncomputed_answer"

    def __init__(self) -> None:
        self.judged = True  # a code run outside chat
        self.succeeded = False
        self.failed = 0
        self.printed: list[str] = []  # stdout of failed cells (a value may be read there)

    def reset(self, run: RunStart) -> None:
        self.judged = run.code_format and not run.chat
        self.succeeded = False
        self.failed = 0
        self.printed = []

    def after_action(self, step: Step, so_far: Verdict) -> None:
        if step.ok:
            self.succeeded = self.succeeded or not literal_answer_only(step.action)
            return
        self.failed += 1
        if step.observation is not None and step.observation.stdout:
            self.printed.append(step.observation.stdout)

    def checks_answer(self, answer: str, step: Step | None = None) -> str | None:
        if not self.judged or self.succeeded or not self.failed:
            return None
        if step is not None and step.ok and not literal_answer_only(step.action):
            return None  # the submitting cell computed it
        text = answer.strip().strip("'\"")
        if text and any(text in out for out in self.printed):
            return None
        shown = text if len(text) <= SHOWN_CHARS else text[:SHOWN_CHARS] + "..."
        return GuessNote(f"Every cell you ran so far ended in an error, so no code computed "
                        f"the answer {shown!r}: it is a guess. Read the last error, fix "
                        "that cell and run it, print what it computes, then answer with "
                        "that value.")
