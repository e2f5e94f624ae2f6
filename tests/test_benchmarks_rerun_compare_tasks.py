"""benchmarks/rerun_compare_tasks.py: a compare side's first tasks run again, with a
scripted model and real sandboxed kernels, and compared task by task."""

import importlib.util
import json
from pathlib import Path

import pytest

from codeact.llm.scripted import ScriptedLLM
from codeact.train.compare import CompareConfig, load_tasks

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "rerun_compare_tasks.py"


def _script():
    spec = importlib.util.spec_from_file_location("rerun_compare_tasks", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _side(tmp_path):
    """A stored compare side of three tasks, the first right."""
    side = tmp_path / "base"
    settings = {"max_turns": 2, "max_new_tokens": 64, "exec_timeout": 10.0,
                "sandbox": "bwrap", "agent_code": "abc"}
    side.with_suffix(".settings.json").write_text(json.dumps(settings))
    tasks = load_tasks(CompareConfig(out=tmp_path, suites=()))[:3]
    stored = [{"task": t.name, "format": "code", "model": "m", "prompt": "default",
               "success": i == 0, "stop_reason": "solution", "turns": 1}
              for i, t in enumerate(tasks)]
    side.with_suffix(".tasks.jsonl").write_text("".join(json.dumps(r) + "\n" for r in stored))
    return side, tasks


def test_the_first_stored_tasks_run_again_and_each_is_compared(tmp_path):
    side, tasks = _side(tmp_path)
    llm = ScriptedLLM(lambda messages: "<execute>final_answer('no idea')</execute>")
    lines = _script().rerun(side, llm, 2, (), tmp_path / "after.jsonl", progress=False)
    assert len(lines) == 3  # the first two stored tasks only, then the summary
    assert lines[0].startswith(tasks[0].name) and "before right solution 1t" in lines[0]
    assert "after wrong" in lines[0] and "after wrong" in lines[1]
    assert lines[-1] == "2 tasks: 1 solved before (abc), 0 after; 0 won, 1 lost"


def test_named_tasks_run_again_and_an_unknown_name_is_refused(tmp_path):
    side, tasks = _side(tmp_path)
    llm = ScriptedLLM(lambda messages: "<execute>final_answer('no idea')</execute>")
    lines = _script().rerun(side, llm, [tasks[2].name], (), tmp_path / "after.jsonl",
                            progress=False)
    assert len(lines) == 2 and lines[0].startswith(tasks[2].name)
    assert lines[-1] == "1 tasks: 0 solved before (abc), 0 after; 0 won, 0 lost"
    with pytest.raises(SystemExit, match="not tasks of .*: nope"):
        _script().rerun(side, llm, ["nope"], (), tmp_path / "x.jsonl", progress=False)
