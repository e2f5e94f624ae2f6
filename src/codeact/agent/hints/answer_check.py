"""A hint that refuses, once, an answer that cannot be one: empty, None, or an error.

Seen with a 1.5B model: ``final_answer(result)`` where ``result`` held the text of an
exception a tool raised, or ``None`` from a function that printed instead of returning;
the run ended "solved" with an answer no task asks for. Such an answer gets a note and
one more turn. Only what no task wants is refused: the check knows nothing of any suite.
"""

from __future__ import annotations

import re

from codeact.agent.hints.base import Hint, RunStart

_ERROR = re.compile(r"^\s*(Traceback \(most recent call last\)|[A-Z]\w*(Error|Exception)\b"
                    r"[:(]|Error: )")
_COUNTING = re.compile(r"\b(how many|how much|number of|count of|sum of|total of)\b", re.I)


class AnswerCheck(Hint):
    """Per run: the task, to tell a count that has no number in it."""

    name = "answer_check"

    def __init__(self) -> None:
        self.task = ""

    def reset(self, run: RunStart) -> None:
        self.task = run.task

    def checks_answer(self, answer: str) -> str | None:
        text = answer.strip()
        if not text:
            return ("Your answer is empty. Give the answer the task asks for: call "
                    "final_answer(value) with the value itself.")
        if text in ("None", "null", "nan", "NaN"):
            return (f"Your answer is {text}, which is not an answer: the value you "
                    "submitted was never set (a function that prints instead of "
                    "returning gives None). Print it first, then submit the real value.")
        if _ERROR.match(text):
            return ("Your answer is an error message, not a result. Read the error, fix "
                    "the code, and submit the value the task asks for.")
        short = "\n" not in text and len(text) < 60  # a value, not code or prose
        if short and _COUNTING.search(self.task) and not re.search(r"\d", text):
            return ("The task asks for a number, and your answer has none. Compute it, "
                    "print it, and submit the number.")
        return None
