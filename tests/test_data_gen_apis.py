"""The apis family: third-party-style tool tuples over stateful worlds. Seeds reproduce;
every answer comes from reference code run at generation time; the reference passes and
near misses fail; a sample of tasks (every kind, every difficulty) is self-checked in a
real sandboxed kernel through the tool bridge; nothing trips decontamination."""

from __future__ import annotations

import pytest
from generator_helpers import (
    assert_not_contaminated,
    assert_one_kind_held_out,
    assert_seeds_reproduce,
)

from codeact.bench.selfcheck import check_task
from codeact.data.gen_apis import ApisGenerator
from codeact.runtime import check_bwrap
from codeact.tools import Tool

SANDBOX = "bwrap" if check_bwrap()[0] else "none"
GEN = ApisGenerator()
TASKS = GEN.generate(60, 3) + GEN.generate(24, 1_000_003, split="heldout")


def test_seeds_reproduce_and_differ() -> None:
    assert_seeds_reproduce(GEN, TASKS, 60, 3)


def test_kinds_heldout_and_answer_types() -> None:
    assert_one_kind_held_out(GEN, TASKS[:60], TASKS[60:], "auction")
    types = {type(t.expected).__name__ for t in TASKS}
    assert {"int", "float", "str", "list", "dict", "bool"} <= types, types


def test_tools_are_third_party_tuples() -> None:
    """Signature strings with names, non-Python types and *args; string descriptions;
    a factory that builds a fresh, stateful world per run."""
    sigs = []
    for task in TASKS[:8]:
        assert callable(task.tools)
        for name, _fn, desc, sig in task.tools():
            assert sig.startswith(f"{name}(") and isinstance(desc, str) and desc
            sigs.append(sig)
        assert all(isinstance(t, Tool) for t in task.make_tools())
    assert any("*" in s for s in sigs) and any("list of" in s for s in sigs)
    assert any("int/float" in s or "number" in s for s in sigs)


@pytest.mark.parametrize("task", TASKS, ids=lambda t: t.name)
def test_reference_passes_and_wrong_answers_fail(task) -> None:
    meta = task.metadata
    assert task.check(meta["reference_answer"]).success
    assert not task.check(meta["near_miss"]).success
    assert not task.check(None).success and not task.check("").success
    assert "answer = " in meta["solution_code"]


def test_state_changes_within_a_run_and_starts_fresh() -> None:
    task = next(t for t in TASKS if t.metadata["kind"] == "fleet"
                and "heaviest load first" in t.instruction)
    tools = task.tools_by_name()
    before = len(tools["open_trips"].fn())
    trip = tools["open_trips"].fn()[0]
    fits = [v for v in tools["vehicles"].fn()
            if tools["vehicle_specs"].fn(v)["capacity_kg"] >= trip["load_kg"]]
    if fits:
        tools["assign"].fn(trip["id"], fits[0])
        assert len(tools["open_trips"].fn()) == before - 1
    assert len(task.tools_by_name()["open_trips"].fn()) == before


def test_difficulty_means_more_steps() -> None:
    easy = GEN.task(5, 0, kind="clinic", difficulty=1)
    hard = GEN.task(5, 0, kind="clinic", difficulty=3)
    world = lambda t: len(t.tools_by_name()["find_doctors"].fn.__self__.doctors)  # noqa: E731
    assert world(hard) > world(easy)
    journeys = [GEN.task(s, 1, kind="transit", difficulty=3) for s in range(12)]
    assert any("at most 2 change" in t.instruction for t in journeys)


SAMPLE = [GEN.task(s, 0, split=split, kind=kind, difficulty=d)
          for kind in GEN.kinds for d in (1, 2, 3)
          for s, split in [(1_000_100 + d, "heldout")]]


@pytest.mark.parametrize("task", SAMPLE, ids=lambda t: f"{t.name}-d{t.metadata['difficulty']}")
def test_reference_code_runs_in_a_real_kernel(task) -> None:
    result = check_task(task, sandbox=SANDBOX, timeout=60)
    assert result.status == "pass", result.problems
    assert result.tool_calls > 0


def test_no_generated_instruction_is_contaminated() -> None:
    assert_not_contaminated(TASKS)


def test_worlds_are_not_the_bench_domains() -> None:
    from codeact.bench import thirdparty
    from codeact.bench.builtin import DOMAINS
    from codeact.data.gen_tools import ToolsGenerator

    assert not set(GEN.kinds) & (set(DOMAINS) | set(thirdparty.DOMAINS)
                                 | set(ToolsGenerator.kinds))
