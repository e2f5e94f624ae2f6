"""The files family: seeds reproduce, the reference answer passes every task, wrong
answers (None, off by one) fail, every kind appears, nothing trips decontamination."""

from __future__ import annotations

import pytest

from codeact.data import decontam
from codeact.data.gen_files import FilesGenerator

GEN = FilesGenerator()
TASKS = GEN.generate(60, 3) + GEN.generate(24, 1_000_003, split="heldout")


def test_seeds_reproduce() -> None:
    again = GEN.generate(60, 3)
    assert [(t.name, t.instruction, t.expected) for t in again] == \
        [(t.name, t.instruction, t.expected) for t in TASKS[:60]]
    other = GEN.generate(60, 4)
    assert [t.instruction for t in other] != [t.instruction for t in TASKS[:60]]


def test_kinds_and_heldout() -> None:
    train_kinds = {t.metadata["kind"] for t in TASKS[:60]}
    assert train_kinds == set(GEN.kinds) - {"csv_join"}
    held = TASKS[60:]
    assert {t.metadata["kind"] for t in held} == set(GEN.kinds)
    assert all(t.metadata["unseen_kind"] == (t.metadata["kind"] == "csv_join") for t in held)


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


def test_files_are_written_and_match_the_instruction(tmp_path) -> None:
    for task in TASKS[:12]:
        root = tmp_path / task.name.replace("/", "_")
        written = task.write_files(root)
        assert written, task.name
        for rel in written:
            assert (root / rel).stat().st_size > 0
            folder = rel.split("/")[0] + "/" if "/" in rel else None
            assert f"`{rel}`" in task.instruction or rel in task.instruction or (
                folder is not None and f"`{folder}`" in task.instruction)


def test_new_kinds_need_more_files_at_higher_difficulty() -> None:
    for kind, (easy_n, hard_n) in {"monthly_reports": (4, 8), "ini_configs": (3, 8)}.items():
        easy = GEN.task(9, 0, kind=kind, difficulty=1)
        hard = GEN.task(9, 0, kind=kind, difficulty=3)
        assert (len(easy.files), len(hard.files)) == (easy_n, hard_n), kind
    defaults = GEN.task(9, 1, kind="ini_configs", difficulty=2)
    assert "services/defaults.ini" in defaults.files
    assert "takes it from there" in defaults.instruction
