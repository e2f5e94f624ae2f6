"""The files family: seeds reproduce, the reference answer passes every task, wrong
answers (None, off by one) fail, every kind appears, nothing trips decontamination."""

from __future__ import annotations

import pytest
from generator_helpers import (
    assert_not_contaminated,
    assert_one_kind_held_out,
    assert_reference_passes_and_wrong_answers_fail,
    assert_seeds_reproduce,
)

from codeact.data.gen_files import FilesGenerator

GEN = FilesGenerator()
TASKS = GEN.generate(60, 3) + GEN.generate(24, 1_000_003, split="heldout")


def test_seeds_reproduce() -> None:
    assert_seeds_reproduce(GEN, TASKS, 60, 3)


def test_kinds_and_heldout() -> None:
    assert_one_kind_held_out(GEN, TASKS[:60], TASKS[60:], "csv_join")


@pytest.mark.parametrize("task", TASKS, ids=lambda t: t.name)
def test_reference_passes_and_wrong_answers_fail(task) -> None:
    assert_reference_passes_and_wrong_answers_fail(task)


def test_no_generated_instruction_is_contaminated() -> None:
    assert_not_contaminated(TASKS)


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
