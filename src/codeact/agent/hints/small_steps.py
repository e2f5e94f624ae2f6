"""A hint for a model that keeps failing with whole computations in one line.

Seen in third-party tool tasks with a 1.5B model: a first cell that nests four tool calls
in one comprehension fails, and so does every next cell, each another one-liner guessing
at what the tools return (``sku_info().items()``, ``stock_level(*list_skus())``). The
model never looks at one tool's result. After two failed cells in a row, the note says to
take one small step: call one function on one example and print what it returns. It also
says that the one example is only a look at the data (seen: "the average price of all
hotels in ROM" answered with the first hotel's price, right after the note).
"""

from __future__ import annotations

from codeact.agent.hints.base import Advice, Hint, RunStart, Step, Verdict

FAILED_IN_A_ROW = 2  # failed cells in a row before the note, and between two notes


class SmallSteps(Hint):
    """Per run: how many cells in a row failed."""

    name = "small_steps"

    def __init__(self) -> None:
        self.failed = 0

    def reset(self, run: RunStart) -> None:
        self.failed = 0

    def after_action(self, step: Step, so_far: Verdict) -> Advice | None:
        if step.observation is None:  # tool calls are one step each already
            return None
        self.failed = 0 if step.ok else self.failed + 1
        if self.failed == 0 or self.failed % FAILED_IN_A_ROW:
            return None
        return Advice(note=f"Note: your last {self.failed} cells failed. Take a smaller step: "
                           "call one function at a time on one example (for instance the "
                           "first item of a list) and print what it returns. That one item "
                           "is only a look at the data, not the answer: then compute over "
                           "everything the task asks about, from what you saw.")
