"""benchmarks/ablation_subset.py: which tasks an ablation must rerun, and the merge."""

import importlib.util
import json
from pathlib import Path

import pytest

from codeact.bench.suites import select
from codeact.bench.task import Task

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "ablation_subset.py"
spec = importlib.util.spec_from_file_location("ablation_subset", SCRIPT)
assert spec is not None and spec.loader is not None
ablation_subset = importlib.util.module_from_spec(spec)
spec.loader.exec_module(ablation_subset)

FAIL = {"role": "assistant", "content": "<execute>x</execute>"}
FAIL_OBS = {"role": "user", "content": "Observation:\nNameError: name 'x' is not defined"}


def record(task: str, *, success: bool = True, turns=(), messages=(), resampled=0,
           answer: str = "1") -> dict:
    return {"task": task, "domain": task.split("/")[0], "format": "code", "model": "m",
            "prompt_sha": "p", "ablate": [], "status": "done", "success": success,
            "answer": answer, "turns": len(turns) or 1, "resampled_turns": resampled,
            "trajectory": {"turns": list(turns), "messages": list(messages)}}


def cell(ok: bool = True, code: str = "print(1)", action: str = "code") -> dict:
    return {"exec_ok": ok, "code": code, "action": action, "resampled": []}


CALM = record("d/calm", turns=[cell(code="final_answer(1)", action="code+final_answer")])
RESAMPLED = record("d/resampled", resampled=1, turns=[cell(), cell()])
FAILED = record("d/failed", turns=[cell(ok=False), cell()])
REFUSED = record("d/refused", turns=[cell(code="final_answer(None)"),
                                     cell(code="final_answer(2)", action="code+final_answer")])
COLLAPSED = record("d/collapsed", turns=[cell(ok=False)] * 3,
                   messages=[{"role": "system", "content": "s"}, {"role": "user", "content": "t"},
                             FAIL, FAIL_OBS, FAIL, FAIL_OBS, FAIL])
ALL = [CALM, RESAMPLED, FAILED, REFUSED, COLLAPSED]


@pytest.mark.parametrize(("mechanism", "expected"), [
    ("resample", ["d/resampled"]),
    ("did_you_mean", ["d/failed", "d/collapsed"]),
    ("answer_check", ["d/refused"]),
    ("collapse", ["d/collapsed"]),
    ("notes_heading", [r["task"] for r in ALL]),
    ("runaway", []),
])
def test_each_mechanism_is_found_where_it_acted(mechanism, expected):
    assert ablation_subset.acted_on(ALL, mechanism) == expected


def test_the_filter_selects_exactly_those_tasks_in_the_bench():
    tasks = [Task(name=r["task"], instruction="p", domain="d", expected=1) for r in ALL]
    tasks.append(Task(name="d/failed-too", instruction="p", domain="d", expected=1))
    rx = ablation_subset.task_filter(["d/failed", "d/refused"])
    assert [t.name for t in select(tasks, filter=rx)] == ["d/failed", "d/refused"]


def test_merge_takes_reruns_where_it_acted_and_checks_the_controls(tmp_path, capsys):
    full, ablated = tmp_path / "full.jsonl", tmp_path / "ablated.jsonl"
    full.write_text("".join(json.dumps(r) + "\n" for r in ALL))
    rerun_failed = {**FAILED, "success": False, "ablate": ["did_you_mean"]}
    rerun_calm = {**CALM, "answer": "2", "ablate": ["did_you_mean"]}
    rerun_collapsed = {**COLLAPSED, "ablate": ["did_you_mean"]}
    ablated.write_text("".join(json.dumps(r) + "\n"
                               for r in (rerun_failed, rerun_calm, rerun_collapsed)))
    merged = tmp_path / "merged.jsonl"
    assert ablation_subset.main(["merge", str(full), str(ablated), "did_you_mean",
                                 "-o", str(merged)]) == 0
    out = capsys.readouterr().out
    assert "full agent:          5/5" in out
    assert "stuck 0, at turn limit 0, mean turns 2.00" in out
    kept = [json.loads(line) for line in merged.read_text().splitlines()]
    assert [r["task"] for r in kept] == [r["task"] for r in ALL]
    assert kept[2]["success"] is False  # the rerun where it acted, the full run elsewhere
    assert kept[0]["answer"] == "1"  # a control's rerun does not replace the full run
    assert "without did_you_mean: 4/5" in out and "d/failed: lost without it" in out
    assert "controls (not acted, rerun): 0/1 identical" in out and "d/calm: differs" in out


def test_merge_refuses_an_ablated_run_that_misses_a_task_it_must_rerun(tmp_path):
    full, ablated = tmp_path / "full.jsonl", tmp_path / "ablated.jsonl"
    full.write_text("".join(json.dumps(r) + "\n" for r in ALL))
    ablated.write_text(json.dumps({**RESAMPLED, "ablate": []}) + "\n")
    with pytest.raises(SystemExit, match="d/failed.*not rerun"):
        ablation_subset.main(["merge", str(full), str(ablated), "did_you_mean"])


def test_an_added_mechanism_reruns_where_its_condition_occurred_and_says_with(tmp_path,
                                                                              capsys):
    cut = {**cell(ok=None, action="invalid"), "observation": "[codeact notes, not output of "
           "your code]\nYour code was cut off by the length limit and was not run."}
    runaway = record("d/runaway", success=False, turns=[cut, cell()])
    assert ablation_subset.acted_on([*ALL, runaway], "runaway") == ["d/runaway"]
    full, rerun = tmp_path / "full.jsonl", tmp_path / "rerun.jsonl"
    full.write_text("".join(json.dumps(r) + "\n" for r in [*ALL, runaway]))
    rerun.write_text(json.dumps({**runaway, "success": True}) + "\n")
    assert ablation_subset.main(["merge", str(full), str(rerun), "runaway"]) == 0
    out = capsys.readouterr().out
    assert "base run:          5/6" in out and "with runaway: 6/6" in out
    assert "d/runaway: solved only with it" in out
