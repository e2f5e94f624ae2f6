"""The runner with scripted models: success, failure, timeouts, crashes, resume after a
killed run, the json/text tool-call paths, bounded workers and a slow real-model run."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from codeact.bench import builtin
from codeact.bench.results import load_results, read_records
from codeact.bench.run_one import RunConfig, run_task
from codeact.bench.runner import run_suite, share
from codeact.bench.suites import load_suite
from codeact.bench.task import Task
from codeact.llm.scripted import ScriptedLLM
from codeact.llm.serialized import SerializedLLM, is_in_process

ROOT = Path(__file__).resolve().parents[1]
BY_NAME = {t.name: t for t in builtin.load()}


def fmt_of(messages):
    system = messages[0]["content"]
    if "Jupyter" in system:
        return "code"
    return "json" if '{"tool":' in system else "text"


def turn_of(messages):
    return sum(m["role"] == "assistant" for m in messages)


def keyed(script):
    """A model whose replies depend on the task text, the format and the turn:
    ``script[(instruction_prefix, fmt)]`` is a list of replies (the last repeats)."""

    def reply(messages):
        task, fmt = messages[1]["content"], fmt_of(messages)
        for (prefix, f), replies in script.items():
            if task.startswith(prefix) and f in (fmt, "*"):
                return replies[min(turn_of(messages), len(replies) - 1)]
        return "<solution>unknown</solution>"

    return ScriptedLLM(reply)


BUY = BY_NAME["ledger/buy-then-cash"]
SALARY = BY_NAME["directory/salary"]

SCRIPT = {
    (BUY.instruction, "code"): ["<execute>buy('BOLT', 10)\ncash = get_cash()\nprint(cash)"
                                "</execute>", "<solution>9517.5</solution>"],
    (BUY.instruction, "json"): ['<execute>{"tool": "buy", "arguments": {"symbol": "BOLT", '
                                '"quantity": 10}}</execute>',
                                '<execute>{"tool": "get_cash", "arguments": {}}</execute>',
                                "<solution>9517.5</solution>"],
    (BUY.instruction, "text"): ["<execute>buy, BOLT, 10</execute>",
                                "<execute>get_cash</execute>", "<solution>9517.5</solution>"],
    # a wrong answer in every format
    (SALARY.instruction, "*"): ["<solution>99</solution>"],
}


@pytest.fixture
def cfg():
    return RunConfig(formats=["code", "json", "text"], exec_timeout=20, task_timeout=120)


def test_success_in_all_formats_with_stateful_tools(cfg):
    llm = keyed(SCRIPT)
    for fmt in cfg.formats:
        rec = run_task(BUY, fmt, llm, cfg)
        assert rec["status"] == "done", rec.get("error")
        assert rec["success"], (fmt, rec["trajectory"]["turns"])
        assert rec["turns"] == (2 if fmt == "code" else 3)
        assert rec["stop_reason"] == "solution"
        assert rec["total_tokens"] > 0 and rec["wall_seconds"] >= 0
        turns = rec["trajectory"]["turns"]
        # state carried from buy() to get_cash() in every format: 10000 - 482.5
        assert "9517.5" in turns[-2]["observation"]


def test_failure_is_recorded(cfg):
    rec = run_task(SALARY, "json", keyed(SCRIPT), cfg)
    assert rec["status"] == "done"
    assert not rec["success"]
    assert rec["answer"] == "99" and rec["expected"] == 131000


def test_each_format_sees_its_own_wording_of_the_task():
    """A task with format_instructions: the code run is asked for final_answer, the json
    run for <solution>; both are graded the same."""
    seen = {}

    def reply(messages):
        seen[fmt_of(messages)] = messages[1]["content"]
        return "<solution>4</solution>"

    task = Task(name="t/words", instruction="How much is 2 + 2?", expected=4,
                format_instructions={"code": "How much is 2 + 2? Use final_answer(x).",
                                     "json": "How much is 2 + 2? Use <solution>."})
    for fmt in ("code", "json", "text"):
        assert run_task(task, fmt, ScriptedLLM(reply), RunConfig(formats=[fmt]))["success"]
    assert seen == {"code": "How much is 2 + 2? Use final_answer(x).",
                    "json": "How much is 2 + 2? Use <solution>.",
                    "text": "How much is 2 + 2?"}


def test_max_turns():
    task = Task("t/loop", "Loop forever.", expected=1)
    llm = ScriptedLLM(lambda m: "<execute>print('again')</execute>")
    rec = run_task(task, "code", llm, RunConfig(max_turns=3))
    assert (rec["stop_reason"], rec["turns"], rec["success"]) == ("max_turns", 3, False)


def test_exec_timeout_then_answer():
    task = Task("t/sleep", "Sleep then answer 7.", expected=7)
    llm = ScriptedLLM(["<execute>import time\ntime.sleep(60)</execute>",
                       "<execute>print(3 + 4)</execute>", "<solution>7</solution>"])
    rec = run_task(task, "code", llm, RunConfig(exec_timeout=1))
    assert rec["success"]
    first = rec["trajectory"]["turns"][0]
    assert first["exec_ok"] is False
    assert "timed out" in first["observation"].lower() or "timeout" in first["observation"]


def test_task_timeout_interrupts_the_run():
    task = Task("t/slow", "Never finishes.", expected=1)

    def slow(messages):
        time.sleep(0.3)
        return "<execute>import time\ntime.sleep(5)</execute>"

    rec = run_task(task, "code", ScriptedLLM(slow),
                   RunConfig(task_timeout=1.0, max_turns=50, exec_timeout=30))
    assert rec["timed_out"] is True
    assert rec["stop_reason"] in ("timeout", "time_limit")
    assert rec["success"] is False and rec["status"] == "done"


def test_crash_in_tool_factory_is_recorded_and_rerun(tmp_path):
    boom = {"on": True}

    def factory():
        if boom["on"]:
            raise RuntimeError("tool factory exploded")
        return []

    task = Task("t/crash", "Answer 1.", tools=factory, expected=1)
    out = tmp_path / "r.jsonl"
    llm = ScriptedLLM(lambda m: "<solution>1</solution>")
    cfg = RunConfig(formats=["json"])
    recs = run_suite([task], llm, cfg, out, progress=False)
    assert recs[0]["status"] == "crashed" and "exploded" in recs[0]["error"]
    boom["on"] = False
    recs = run_suite([task], llm, cfg, out, progress=False)
    assert len(recs) == 1 and recs[0]["success"]
    assert [r["status"] for r in load_results(out)] == ["done"]


def test_llm_error_gives_status_error_and_is_rerun(tmp_path):
    task = Task("t/err", "x", expected=1)
    out = tmp_path / "r.jsonl"
    recs = run_suite([task], ScriptedLLM([]), RunConfig(formats=["text"]), out,
                     progress=False)
    assert recs[0]["status"] == "error" and "ran out" in recs[0]["error"]
    recs = run_suite([task], ScriptedLLM(["<solution>1</solution>"]),
                     RunConfig(formats=["text"]), out, progress=False)
    assert recs[0]["success"]


def test_json_and_text_argument_errors_are_observations(cfg):
    script = {
        (BUY.instruction, "json"): [
            '<execute>{"tool": "buy", "arguments": {"symbol": "BOLT", "quantity": "ten"}}'
            "</execute>",
            '<execute>{"tool": "sell_everything", "arguments": {}}</execute>',
            "<solution>10000</solution>"],
        (BUY.instruction, "text"): ["<execute>buy, BOLT</execute>",
                                    "<execute>buy, NOPE, 1</execute>",
                                    "<solution>10000</solution>"],
    }
    for fmt in ("json", "text"):
        rec = run_task(BUY, fmt, keyed(script), cfg)
        turns = rec["trajectory"]["turns"]
        assert turns[0]["exec_ok"] is False and "Error" in turns[0]["observation"]
        assert turns[1]["exec_ok"] is not True
        assert not rec["success"] and rec["status"] == "done"


def test_plugin_suite_stateful_tools_same_in_all_formats(monkeypatch, cfg):
    monkeypatch.chdir(ROOT)
    tasks = {t.name: t for t in load_suite("examples.browser_suite:load")}
    task = tasks["browser/garden-count"]
    script = {
        (task.instruction, "code"): [
            "<execute>print(open_page('/garden'))\nprint(scroll())\nprint(scroll())"
            "</execute>", "<solution>5</solution>"],
        (task.instruction, "json"): [
            '<execute>{"tool": "open_page", "arguments": {"url": "/garden"}}</execute>',
            '<execute>{"tool": "scroll", "arguments": {}}</execute>',
            '<execute>{"tool": "scroll", "arguments": {"lines": 2}}</execute>',
            "<solution>5</solution>"],
        (task.instruction, "text"): [
            "<execute>open_page, /garden</execute>", "<execute>scroll</execute>",
            "<execute>scroll, 2</execute>", "<solution>5</solution>"],
    }
    last_screens = {}
    for fmt in cfg.formats:
        rec = run_task(task, fmt, keyed(script), cfg)
        assert rec["success"], (fmt, rec.get("error"), rec["trajectory"])
        obs = [t["observation"] or "" for t in rec["trajectory"]["turns"]]
        last_screens[fmt] = next(o for o in reversed(obs) if "Seed pack" in o)
        assert "(end of page)" in last_screens[fmt]
    # a *args tool and a custom checker
    click_task = tasks["browser/sunday"]
    script = {(click_task.instruction, "*"): [
        '<execute>{"tool": "click", "arguments": ["/help"]}</execute>',
        "<solution>no</solution>"]}
    rec = run_task(click_task, "json", keyed(script), cfg)
    assert rec["success"] and "Closed on Sundays" in rec["trajectory"]["turns"][0][
        "observation"]
    cheap = tasks["browser/cheapest"]
    rec = run_task(cheap, "text", keyed({(cheap.instruction, "*"): [
        "<solution>Seed pack (100 g)</solution>"]}), cfg)
    assert rec["success"]


class ConcurrencyProbe(ScriptedLLM):
    """An 'in-process' model that records whether two generations ever overlapped."""

    in_process = True

    def __init__(self):
        self.active = 0
        self.max_active = 0
        self._probe_lock = threading.Lock()
        super().__init__(self._reply)

    def _reply(self, messages):
        with self._probe_lock:
            self.active += 1
            self.max_active = max(self.max_active, self.active)
        time.sleep(0.05)
        with self._probe_lock:
            self.active -= 1
        return "<solution>0</solution>"


def test_in_process_model_is_shared_behind_a_lock(tmp_path):
    probe = ConcurrencyProbe()
    assert is_in_process(probe)
    assert isinstance(share(probe, 3), SerializedLLM)
    assert share(ScriptedLLM([]), 3).__class__ is ScriptedLLM
    tasks = [Task(f"t/{i}", f"Task {i}", expected=0) for i in range(8)]
    recs = run_suite(tasks, probe, RunConfig(formats=["json", "text"], workers=3),
                     tmp_path / "r.jsonl", progress=False)
    assert len(recs) == 16 and all(r["success"] for r in recs)
    assert probe.max_active == 1


def test_http_style_model_runs_concurrently(tmp_path):
    seen = []
    barrier = threading.Barrier(2, timeout=10)

    def reply(messages):
        seen.append(1)
        if len(seen) <= 2:
            barrier.wait()  # both workers are inside the model at the same time
        return "<solution>0</solution>"

    tasks = [Task(f"t/{i}", f"Task {i}", expected=0) for i in range(4)]
    recs = run_suite(tasks, ScriptedLLM(reply), RunConfig(formats=["json"], workers=2),
                     tmp_path / "r.jsonl", progress=False)
    assert all(r["success"] for r in recs)


KILL_SCRIPT = textwrap.dedent("""
    import sys
    from codeact.bench import builtin
    from codeact.bench.oracle import OracleLLM
    from codeact.bench.run_one import RunConfig
    from codeact.bench.runner import run_suite
    tasks = builtin.load()[:12]
    run_suite(tasks, OracleLLM(tasks, delay=0.4), RunConfig(formats=["json", "text"]),
              sys.argv[1], progress=False)
""")


def test_resume_after_killed_run(tmp_path):
    out = tmp_path / "r.jsonl"
    script = tmp_path / "bench_run.py"
    script.write_text(KILL_SCRIPT)
    proc = subprocess.Popen([sys.executable, str(script), str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            if out.exists() and len(read_records(out)) >= 4:
                break
            time.sleep(0.05)
        assert proc.poll() is None, proc.stderr.read().decode()
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    done_before = {(r["task"], r["format"]) for r in read_records(out)}
    assert 4 <= len(done_before) < 24
    with out.open("a") as fh:  # as if it had died half-way through writing a line
        fh.write('{"task": "units/miles-to-km", "format": "js')

    tasks = builtin.load()[:12]
    from codeact.bench.oracle import OracleLLM

    llm = OracleLLM(tasks)
    recs = run_suite(tasks, llm, RunConfig(formats=["json", "text"]), out, progress=False)
    assert len(llm.calls) == 24 - len(done_before)  # finished runs were skipped
    assert {(r["task"], r["format"]) for r in recs}.isdisjoint(done_before)
    lines = out.read_text().splitlines()
    assert all(json.loads(line) for line in lines)  # the torn line is gone
    final = load_results(out)
    assert len(final) == 24 and len(lines) == 24
    assert all(r["success"] and r["status"] == "done" for r in final)
    # a third run has nothing left to do
    assert run_suite(tasks, OracleLLM(tasks), RunConfig(formats=["json", "text"]), out,
                     progress=False) == []


@pytest.mark.slow
def test_real_run_with_smollm2(tmp_path):
    from codeact.llm.factory import make_llm

    llm = make_llm("smollm2-135m", progress=False)
    tasks = [BY_NAME["units/miles-to-km"], BY_NAME["directory/salary"]]
    out = tmp_path / "r.jsonl"
    recs = run_suite(tasks, llm, RunConfig(formats=["code", "json"], max_turns=3,
                                           max_new_tokens=256, task_timeout=600),
                     out, progress=False)
    assert len(recs) == 4
    for rec in recs:
        assert rec["status"] in ("done", "error")
        assert 1 <= rec["turns"] <= 3
        assert rec["total_tokens"] > 0
        assert rec["model"]
    assert len(load_results(out)) == 4


def test_task_files_are_in_the_workspace_before_the_run(tmp_path):
    """The runner writes a task's files into the agent's workspace, grades, and cleans up."""
    task = Task(name="files/sum", instruction="Add the numbers in nums.txt.", expected=6,
                files={"nums.txt": "1\n2\n3\n"}, metadata={"kind": "demo"})
    llm = ScriptedLLM(["<execute>\nprint(sum(int(x) for x in open('nums.txt')))\n</execute>",
                       "<solution>6</solution>"])
    cfg = RunConfig(sandbox="bwrap" if _bwrap() else "none")
    import tempfile

    before = set(Path(tempfile.gettempdir()).glob("codeact-task-*"))
    rec = run_task(task, "code", llm, cfg)
    assert rec["success"], rec
    assert rec["trajectory"]["turns"][0]["observation"].startswith("6")
    assert rec["task_metadata"] == {"kind": "demo"}
    assert set(Path(tempfile.gettempdir()).glob("codeact-task-*")) <= before


def test_should_stop_prevents_new_runs(tmp_path):
    tasks = [Task(name=f"t{i}", instruction=f"q{i}", expected=1) for i in range(3)]
    llm = ScriptedLLM(lambda m: "<solution>1</solution>")
    done = []
    records = run_suite(tasks, llm, RunConfig(), tmp_path / "r.jsonl", progress=False,
                        on_result=done.append, should_stop=lambda: len(done) >= 2)
    assert [r["task"] for r in records] == ["t0", "t1"]


def _bwrap():
    from codeact.runtime import check_bwrap

    return check_bwrap()[0]


def test_two_prompts_share_one_results_file(tmp_path):
    """The results key is (task, format, model, prompt hash): a second prompt runs every
    task again into the same file, and each prompt resumes on its own."""
    from codeact.bench.oracle import OracleLLM
    from codeact.bench.report import summarize
    from codeact.prompts import load_prompt

    tasks = builtin.load()[:2]
    out = tmp_path / "r.jsonl"
    first = run_suite(tasks, OracleLLM(tasks), RunConfig(formats=["code"]), out,
                      progress=False)
    assert {r["prompt"] for r in first} == {"default"}
    assert {r["prompt_sha"] for r in first} == {load_prompt("default").sha}
    assert run_suite(tasks, OracleLLM(tasks), RunConfig(formats=["code"]), out,
                     progress=False) == []  # resumed: nothing left for this prompt
    old = run_suite(tasks, OracleLLM(tasks), RunConfig(formats=["code"], prompt="v0"), out,
                    progress=False)
    assert len(old) == 2 and {r["prompt"] for r in old} == {"v0"}
    assert "final_answer" not in old[0]["trajectory"]["messages"][0]["content"]
    results = load_results(out)
    assert len(results) == 4
    labels = set(summarize(results).formats)
    assert len(labels) == 2 and all(label.startswith("code [") for label in labels)


def test_resampled_turns_and_the_vote_are_recorded():
    task = Task("t/seven", "Answer 7.", expected=7)
    llm = ScriptedLLM(["<execute>print(nope)</execute>", "<execute>print(nope)</execute>",
                       "<execute>print(7)</execute>", "<solution>7</solution>"])
    rec = run_task(task, "code", llm, RunConfig(max_turns=3))
    assert rec["success"] and rec["resampled_turns"] == 1 and rec["resample"] == 2
    assert rec["submitted_by_agent"] is False and rec["fallback_answer"] is False
    llm = ScriptedLLM(["<solution>7</solution>", "<solution>8</solution>",
                       "<solution>7</solution>"])
    rec = run_task(task, "code", llm, RunConfig(samples=3))
    assert rec["success"] and rec["answer"] == "7"
    assert (rec["samples"], rec["agreement"], rec["sample_answers"]) == (3, 2, ["7", "8", "7"])
    assert rec["sample_runs"] == 3
    llm = ScriptedLLM(["<solution>7</solution>", "<solution>7.0</solution>"])
    rec = run_task(task, "code", llm, RunConfig(samples=3))  # the third could not matter
    assert (rec["samples"], rec["sample_runs"], rec["sample_answers"]) == (3, 2, ["7", "7.0"])
    llm = ScriptedLLM(["<solution>7</solution>"] * 3)
    rec = run_task(task, "code", llm, RunConfig(samples=3, sample_all=True))
    assert (rec["sample_runs"], rec["agreement"]) == (3, 3)


def test_an_answer_the_agent_submitted_for_the_model_is_marked():
    """The requested-function hint submits a defined function when the run would stop
    stuck; the record says so, and the report counts it."""
    task = Task("t/double", "Write def double(x) returning 2 * x.",
                checker=lambda answer: "def double" in str(answer))
    cell = "<execute>def double(x):\n    return 2 * x\nprint(double(2))</execute>"
    rec = run_task(task, "code", ScriptedLLM(lambda m: cell), RunConfig(max_turns=8))
    assert rec["success"] and rec["submitted_by_agent"] is True
    from codeact.bench.report import summarize

    assert summarize([rec]).by_format["code"].by_agent == 1
