"""The contract every task generator keeps, checked the same way for each family: the
same seed gives the same tasks and another seed others, one kind is held out of the
training split, the reference answer passes and wrong answers fail, and no instruction
trips decontamination. Each family's test module calls these with its own generator."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from codeact.data import decontam

FIELDS = ("name", "instruction", "expected")


def assert_seeds_reproduce(gen: Any, tasks: Sequence[Any], n: int, seed: int,
                           fields: Sequence[str] = FIELDS) -> None:
    """`tasks[:n]` is `gen.generate(n, seed)` again, field for field; seed + 1 differs."""
    def key(t: Any) -> tuple:
        return tuple(getattr(t, f) if hasattr(t, f) else t.metadata[f] for f in fields)

    assert [key(t) for t in gen.generate(n, seed)] == [key(t) for t in tasks[:n]]
    assert [t.instruction for t in gen.generate(n, seed + 1)] != \
        [t.instruction for t in tasks[:n]]


def assert_one_kind_held_out(gen: Any, train: Sequence[Any], held: Sequence[Any],
                             kind: str) -> None:
    """Training tasks cover every kind but `kind`; held-out tasks cover all and mark it."""
    assert {t.metadata["kind"] for t in train} == set(gen.kinds) - {kind}
    assert {t.metadata["kind"] for t in held} == set(gen.kinds)
    assert all(t.metadata["unseen_kind"] == (t.metadata["kind"] == kind) for t in held)


def assert_reference_passes_and_wrong_answers_fail(task: Any) -> None:
    """The reference answer passes, bare or in a sentence; None, "" and the near miss fail."""
    meta = task.metadata
    assert task.check(meta["reference_answer"]).success
    assert task.check(f"The answer is {meta['reference_answer']}.").success
    assert not task.check(meta["near_miss"]).success
    assert not task.check(None).success
    assert not task.check("").success


def assert_not_contaminated(tasks: Sequence[Any]) -> None:
    """No generated instruction overlaps a registered suite's tasks."""
    index = decontam.build_index()
    assert decontam.check(((t.name, t.instruction) for t in tasks), index) == []
