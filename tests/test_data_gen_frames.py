"""The frames family (pandas on workspace files): seeds reproduce; the standard-library
reference passes and near misses fail; the pandas reference kept with each task runs in
a real sandboxed kernel (the kernel environment's pandas) on the written files and
agrees; difficulty adds files and steps; nothing trips decontamination."""

from __future__ import annotations

import pytest
from generator_helpers import (
    assert_not_contaminated,
    assert_one_kind_held_out,
    assert_reference_passes_and_wrong_answers_fail,
    assert_seeds_reproduce,
)

from codeact.data.gen_frames import FramesGenerator
from codeact.runtime import Session, check_bwrap

SANDBOX = "bwrap" if check_bwrap()[0] else "none"
GEN = FramesGenerator()
TASKS = GEN.generate(60, 3) + GEN.generate(24, 1_000_003, split="heldout")


def test_seeds_reproduce_and_differ() -> None:
    assert_seeds_reproduce(GEN, TASKS, 60, 3, ("name", "instruction", "expected", "files"))


def test_kinds_and_heldout() -> None:
    assert_one_kind_held_out(GEN, TASKS[:60], TASKS[60:], "reshape")


@pytest.mark.parametrize("task", TASKS, ids=lambda t: t.name)
def test_reference_passes_and_wrong_answers_fail(task) -> None:
    assert_reference_passes_and_wrong_answers_fail(task)
    for name in task.files:
        assert f"`{name}`" in task.instruction


def test_difficulty_adds_files_and_rows() -> None:
    for kind in ("pivot", "merge"):
        easy = GEN.task(8, 0, kind=kind, difficulty=1)
        hard = GEN.task(8, 0, kind=kind, difficulty=3)
        assert len(hard.files) > len(easy.files)
        assert sum(map(len, hard.files.values())) > sum(map(len, easy.files.values()))


SAMPLE = [GEN.task(1_000_200 + i, i, split="heldout", kind=kind, difficulty=d)
          for i, (kind, d) in enumerate((k, d) for k in GEN.kinds for d in (1, 2, 3))]
SAMPLE += TASKS[:8]


def test_the_pandas_reference_agrees_in_a_real_kernel() -> None:
    """Each task's pandas source, run as one cell in a sandboxed kernel over the files in
    its workspace, gives an answer the task's checker accepts."""
    read_back = "print(answer if isinstance(answer, str) else repr(answer))"
    for task in SAMPLE:
        with Session(sandbox=SANDBOX) as s:
            task.write_files(s.workspace)
            obs = s.execute(task.metadata["solution_code"], timeout=60)
            assert obs.ok, (task.name, obs.error)
            back = s.execute(read_back, timeout=30)
            text = back.stdout.strip()
            assert task.check(text).success, (task.name, text, task.expected)


def test_no_generated_instruction_is_contaminated() -> None:
    assert_not_contaminated(TASKS)
