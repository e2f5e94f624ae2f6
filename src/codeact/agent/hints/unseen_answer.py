"""A hint that shows the model, once, an answer it submits without having seen it.

Seen with a 1.5B model on third-party tool tasks: a cell printed the titles of the books
the task asked for, and the next cell ran ``final_answer(available_books)``, a list of
ids that no output had shown; ``final_answer("chickpea curry")``, a name no cell had
printed, right after a failed cell; ``final_answer(list_teams())`` (every team) after an
empty filter. Each time the model submitted a value it had never looked at. An answer
whose value appears in no earlier output (nor in the task) is shown back to the model
with the task, once per run; a second submission stands. Answers the model saw printed
are not questioned, nor answers given before any action ran (knowledge, not a
computation), functions submitted as code, prose, or any answer in chat (a reply to a
person). Nothing here knows any suite: the
check compares the answer with what the run printed.
"""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Iterator
from typing import Any

from codeact.agent.hints.base import Advice, Hint, RunStart, Step, Verdict
from codeact.agent.hints.self_check import beside_task
from codeact.agent.hints.uncomputed_answer import literal_answer_only
from codeact.syntax import LITERAL_ERRORS

MAX_ITEMS = 200  # a longer collection is not checked item by item
KEEP_SEEN = 30  # successful outputs remembered
MIN_TEXT = 2  # shorter text ('a') is found anywhere by chance
VERDICTS = frozenset({"yes", "no", "ok", "okay", "done", "true", "false", "none"})
_NUMBER = re.compile(r"-?\d[\d,_]*(?:\.\d+)?(?:[eE][-+]?\d+)?|-?\.\d+")
_CODE = re.compile(r"^\s*(def|class|async def|import|from)\s|\blambda\b", re.M)
_SPACE = re.compile(r"\s+")


def _atoms(value: Any, out: list[Any]) -> None:
    """The scalars of a literal (dict keys and values), at most MAX_ITEMS + 1 of them."""
    if len(out) > MAX_ITEMS:
        return
    if isinstance(value, dict):
        for key, item in value.items():
            _atoms(key, out)
            _atoms(item, out)
    elif isinstance(value, (list, tuple, set, frozenset)):
        for item in value:
            _atoms(item, out)
    else:
        out.append(value)


def _numbers(text: str) -> Iterator[float]:
    for match in _NUMBER.finditer(text):
        try:
            yield float(match.group().replace(",", "").replace("_", ""))
        except ValueError:
            continue


def _decimals(number: float) -> int:
    text = repr(number)
    return len(text.split(".", 1)[1]) if "." in text and "e" not in text else 0


def _number_shown(number: float, shown: list[float]) -> bool:
    """A number counts as shown when a shown number equals it or rounds to it (an
    answer of 2.35 from a printed 2.3456)."""
    if math.isnan(number) or math.isinf(number):
        return True
    tolerance = 0.5 * 10 ** -_decimals(number) if isinstance(number, float) else 0.0
    return any(abs(number - other) <= tolerance + 1e-9 * max(1.0, abs(number))
               for other in shown)


class UnseenAnswer(Hint):
    """Per run: the task and the outputs of actions that succeeded."""

    name = "unseen_answer"

    def __init__(self) -> None:
        self.task = ""
        self.outputs: list[str] = []
        self.acted = False  # an action ran (an answer before any is knowledge, not judged)
        self.asked = False

    def reset(self, run: RunStart) -> None:
        self.task = run.task
        self.outputs = []
        self.acted = False
        self.asked = run.chat  # a chat reply is prose for a person: not judged

    def after_action(self, step: Step, so_far: Verdict) -> Advice | None:
        # seen: four failed cells, then <solution> with made-up counts; a cell that only
        # submitted a literal (a refused answer) computed nothing: still knowledge
        self.acted = self.acted or not literal_answer_only(step.action)
        if step.ok and step.output.strip():
            self.outputs = [*self.outputs[-KEEP_SEEN:], step.output]
        return None

    def checks_answer(self, answer: str, step: Step | None = None) -> str | None:
        # what the submitting cell printed before its final_answer counts as seen
        also = [step.output] if step is not None and step.ok and step.output.strip() else []
        if self.asked or not self.acted or self.shown(answer, also):
            return None
        self.asked = True
        return ("No cell has shown the value you submitted, so you have not checked it.\n"
                + beside_task(answer, self.task) +
                "Is this exactly what the task asks for (the items it names, for example "
                "names rather than ids; every condition applied; the unit and rounding)? "
                "If it is, submit the same answer again. If not, print the right value, "
                "then submit it.")

    def shown(self, answer: str, also: list[str] | None = None) -> bool:
        """Whether ``answer`` (or every item of it) appears in the task or an output (or
        in ``also``); answers this check does not judge (code, prose, very short) count
        as shown."""
        text = answer.strip()
        if not text or _CODE.search(text) or text.count("\n") > 2:
            return True
        haystack = _SPACE.sub(" ", "\n".join([self.task, *self.outputs, *(also or [])])
                              ).lower()
        # as a whole word or number: the answer 1 is not shown by "12 lb" or "1.5"
        whole = re.escape(_SPACE.sub(" ", text).lower())
        if re.search(rf"(?<![\w.]){whole}(?!\w|\.\d)", haystack):
            return True
        try:
            value = ast.literal_eval(text)
        except LITERAL_ERRORS:
            value = text
        if isinstance(value, str) and len(value.split()) > 8:
            return True  # prose: a reply, not a value
        atoms: list[Any] = []
        _atoms(value, atoms)
        if len(atoms) > MAX_ITEMS:
            return True
        numbers = list(_numbers(haystack))
        for atom in atoms:
            if atom is None or isinstance(atom, bool):
                continue
            if isinstance(atom, (int, float)):
                if not _number_shown(atom, numbers):
                    return False
            elif isinstance(atom, str):
                word = _SPACE.sub(" ", atom.strip()).lower()
                if len(word) >= MIN_TEXT and word not in VERDICTS and word not in haystack:
                    return False
        return True
