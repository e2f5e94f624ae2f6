"""The coding family: seeds reproduce; the reference passes the hidden tests and a None
stub, an off-by-one variant and a constant function fail them, graded for real in a
fresh sandboxed session (a sample per kind) and, for every generated task, by running
the same programs in a plain interpreter; nothing trips decontamination."""

from __future__ import annotations

import pytest
from generator_helpers import (
    assert_not_contaminated,
    assert_one_kind_held_out,
    assert_seeds_reproduce,
)

from codeact.bench.task import CheckContext
from codeact.data.gen_coding import CodingGenerator
from codeact.runtime import check_bwrap

SANDBOX = "bwrap" if check_bwrap()[0] else "none"
GEN = CodingGenerator()
TASKS = GEN.generate(45, 5) + GEN.generate(20, 1_000_005, split="heldout")


def _stub(task, body: str) -> str:
    return f"def {task.metadata['entry_point']}(*args, **kwargs):\n    {body}\n"


def _passes_in_host(program: str, tests: str) -> bool:
    try:
        exec(compile(program + "\n" + tests, "<test>", "exec"), {})  # our own code
    except AssertionError:
        return False
    return True


def test_seeds_reproduce() -> None:
    assert_seeds_reproduce(GEN, TASKS, 45, 5, ("name", "instruction", "tests"))
    assert_one_kind_held_out(GEN, TASKS[:45], TASKS[45:], "parsing")


@pytest.mark.parametrize("task", TASKS, ids=lambda t: t.name)
def test_every_task_separates_right_from_wrong(task) -> None:
    meta = task.metadata
    tests = meta["tests"]
    assert tests.count("assert ") >= 8
    assert _passes_in_host(meta["reference_answer"], tests)
    assert not _passes_in_host(meta["near_miss"], tests)
    assert not _passes_in_host(_stub(task, "return None"), tests)
    for constant in ("0", "''", "[]", "False"):
        assert not _passes_in_host(_stub(task, f"return {constant}"), tests)
    assert meta["entry_point"] in task.instruction
    assert "assert" not in task.instruction  # the tests stay hidden


@pytest.mark.parametrize("kind", GEN.kinds)
def test_sandboxed_grading(kind: str) -> None:
    task = GEN.task(1_000_009, 0, split="heldout", kind=kind)
    ctx = CheckContext(task=task, expected=None, sandbox=SANDBOX, exec_timeout=30)
    ref = task.metadata["reference_answer"]
    assert task.check(ref, ctx).success
    assert task.check(f"```python\n{ref}```", ctx).success
    for wrong in (None, "", task.metadata["near_miss"], _stub(task, "return None"),
                  _stub(task, "return 0")):
        result = task.check(wrong, ctx)
        assert not result.success, (wrong, result)
    escape = _stub(task, "return open('/etc/shadow').read()")
    assert not task.check(escape, ctx).success


def test_no_generated_instruction_is_contaminated() -> None:
    assert_not_contaminated(TASKS)


def test_code_format_asks_for_final_answer_and_the_others_for_solution() -> None:
    for task in TASKS[:4] + TASKS[45:49]:
        name = task.metadata["entry_point"]
        code = task.instruction_for("code")
        assert code == task.instruction
        assert f"final_answer({name})" in code and "<solution>" not in code
        for fmt in ("json", "text"):
            other = task.instruction_for(fmt)
            assert "<solution></solution>" in other and "final_answer" not in other
            assert other.split("\n")[0] == code.split("\n")[0]  # the same problem


def test_a_function_submitted_with_final_answer_passes_the_grader() -> None:
    """The code-format protocol end to end: the reference is defined in a real kernel
    (its helper in an earlier cell), submitted with final_answer(fn), and the text the
    kernel submits is graded in a fresh sandbox; a wrong function submitted the same way
    fails."""
    from codeact.runtime import Session

    task = GEN.task(1_000_011, 0, split="heldout", kind="parsing")
    name = task.metadata["entry_point"]
    ctx = CheckContext(task=task, expected=None, sandbox=SANDBOX, exec_timeout=30)
    with Session(sandbox=SANDBOX) as s:
        s.execute("import math\nOFFSET = 0\n", timeout=30)
        obs = s.execute(task.metadata["reference_answer"], timeout=30)
        assert obs.ok, obs
        obs = s.execute(f"final_answer({name})", timeout=30)
        assert obs.ok and obs.final_answer and f"def {name}(" in obs.final_answer
        assert task.check(obs.final_answer, ctx).success
        wrong = s.execute(task.metadata["near_miss"] + f"\nfinal_answer({name})", timeout=30)
        assert wrong.final_answer and not task.check(wrong.final_answer, ctx).success


def test_the_examples_a_task_shows_hold_for_its_reference() -> None:
    """An example in the text that the reference fails teaches the model a wrong rule (the
    agent's task_examples hint reads the same examples and would refuse a right answer)."""
    import contextlib
    import io

    from codeact.agent.hints.task_examples import probe_code, read_results, task_examples

    checked, wrong = 0, []
    for task in GEN.generate(300, 5) + GEN.generate(300, 1_000_005, split="heldout"):
        examples = task_examples(task.instruction)
        assert examples, task.name  # every coding task shows one
        namespace: dict = {}
        exec(compile(task.metadata["reference_answer"], "<reference>", "exec"), namespace)
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            exec(compile(probe_code(examples), "<probe>", "exec"), namespace)  # our own code
        for index, got, holds in read_results(printed.getvalue()) or []:
            checked += 1
            if holds is not True:
                wrong.append((task.name, examples[index].call, examples[index].expected, got))
    assert checked >= 600 and not wrong, wrong[:5]
