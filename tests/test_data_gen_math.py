"""The math family: seeds reproduce, the reference answer passes every task, wrong
answers (None, off by one) fail, every kind appears, nothing trips decontamination."""

from __future__ import annotations

import pytest
from generator_helpers import (
    assert_not_contaminated,
    assert_one_kind_held_out,
    assert_reference_passes_and_wrong_answers_fail,
    assert_seeds_reproduce,
)

from codeact.data.gen_math import MathGenerator

GEN = MathGenerator()
TASKS = GEN.generate(60, 3) + GEN.generate(24, 1_000_003, split="heldout")


def test_seeds_reproduce() -> None:
    assert_seeds_reproduce(GEN, TASKS, 60, 3)


def test_kinds_and_heldout() -> None:
    assert_one_kind_held_out(GEN, TASKS[:60], TASKS[60:], "sequences")


@pytest.mark.parametrize("task", TASKS, ids=lambda t: t.name)
def test_reference_passes_and_wrong_answers_fail(task) -> None:
    assert_reference_passes_and_wrong_answers_fail(task)


def test_no_generated_instruction_is_contaminated() -> None:
    assert_not_contaminated(TASKS)


def test_new_kinds_grow_with_difficulty() -> None:
    import re

    def numbers(task) -> int:
        return len(re.findall(r"\(-?\d+, -?\d+\)", task.instruction))

    geo = [(GEN.task(s, 0, kind="geometry", difficulty=1),
            GEN.task(s, 0, kind="geometry", difficulty=3)) for s in range(6)]
    assert all(numbers(hard) > numbers(easy) for easy, hard in geo)
    dice = [GEN.task(s, 0, kind="probability", difficulty=3) for s in range(30)]
    assert any("Roll 4 fair" in t.instruction for t in dice)
    assert all(0 <= t.expected <= 1 for t in dice)
