"""The math family: seeds reproduce, the reference answer passes every task, wrong
answers (None, off by one) fail, every kind appears, nothing trips decontamination."""

from __future__ import annotations

import pytest

from codeact.data import decontam
from codeact.data.gen_math import MathGenerator

GEN = MathGenerator()
TASKS = GEN.generate(60, 3) + GEN.generate(24, 1_000_003, split="heldout")


def test_seeds_reproduce() -> None:
    again = GEN.generate(60, 3)
    assert [(t.name, t.instruction, t.expected) for t in again] == \
        [(t.name, t.instruction, t.expected) for t in TASKS[:60]]
    other = GEN.generate(60, 4)
    assert [t.instruction for t in other] != [t.instruction for t in TASKS[:60]]


def test_kinds_and_heldout() -> None:
    train_kinds = {t.metadata["kind"] for t in TASKS[:60]}
    assert train_kinds == set(GEN.kinds) - {"sequences"}
    held = TASKS[60:]
    assert {t.metadata["kind"] for t in held} == set(GEN.kinds)
    assert all(t.metadata["unseen_kind"] == (t.metadata["kind"] == "sequences") for t in held)


@pytest.mark.parametrize("task", TASKS, ids=lambda t: t.name)
def test_reference_passes_and_wrong_answers_fail(task) -> None:
    meta = task.metadata
    assert task.check(meta["reference_answer"]).success
    assert task.check(f"The answer is {meta['reference_answer']}.").success
    assert not task.check(None).success
    assert not task.check(meta["near_miss"]).success
    assert not task.check("").success


def test_no_generated_instruction_is_contaminated() -> None:
    index = decontam.build_index()
    assert decontam.check(((t.name, t.instruction) for t in TASKS), index) == []


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
