"""Tests for codeact.notebook.cli: ``codeact run --notebook`` and ``codeact notebook``, through
the real ``codeact`` command (scripted model, real sandbox)."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from typer.testing import CliRunner

import codeact.llm.factory as factory
from codeact.cli import app
from codeact.llm.scripted import ScriptedLLM
from codeact.notebook import NotebookError
from codeact.notebook.cli import load_trajectories
from codeact.trajectory import Trajectory

runner = CliRunner()


@pytest.fixture
def scripted(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setenv("CODEACT_CONFIG", str(tmp_path / "config.toml"))
    for var in ("CODEACT_MODEL", "CODEACT_TOOLS", "CODEACT_MAX_TURNS", "CODEACT_MCP"):
        monkeypatch.delenv(var, raising=False)

    def use(replies: list[str]) -> None:
        monkeypatch.setattr(factory, "make_llm", lambda spec, **o: ScriptedLLM(replies))

    return use


def code_sources(nb) -> list[str]:
    return [c.source for c in nb.cells if c.cell_type == "code"][1:]  # after the set-up


def test_run_writes_the_notebook(scripted, tmp_path: Path) -> None:
    scripted(["Compute.\n<execute>print(6 * 7)</execute>", "<solution>42</solution>"])
    out = tmp_path / "run.ipynb"
    result = runner.invoke(app, ["run", "What is 6*7?", "--notebook", str(out),
                                 "--json", str(tmp_path / "t.jsonl"), "--workspace",
                                 str(tmp_path / "ws")])
    assert result.exit_code == 0, result.output
    nb = nbformat.read(out, as_version=4)
    nbformat.validate(nb)
    assert code_sources(nb) == ["print(6 * 7)"]
    cell = [c for c in nb.cells if c.cell_type == "code"][1]
    assert cell.outputs[0].text == "42\n"
    assert nb.cells[-1].source == "**Answer:**\n\n42"


def test_run_notebook_to_a_bad_path_is_one_error(scripted, tmp_path: Path) -> None:
    scripted(["<solution>1</solution>"])
    result = runner.invoke(app, ["run", "x", "--notebook", str(tmp_path / "no" / "x.ipynb")])
    assert result.exit_code == 2 and "cannot write" in result.output
    assert "Traceback" not in result.output


def trajectory(task: str, code: str, out: str) -> Trajectory:
    return Trajectory.from_dict({
        "task": task, "stop_reason": "solution", "answer": out,
        "turns": [{"turn": 1, "completion": f"<execute>{code}", "action": "code",
                   "code": code, "output": {"stdout": out + "\n"}},
                  {"turn": 2, "completion": f"<solution>{out}", "action": "solution"}]})


def test_notebook_command_picks_a_trajectory_by_index(tmp_path: Path) -> None:
    src = tmp_path / "runs.jsonl"
    src.write_text("".join(trajectory(f"task {i}", f"print({i})", str(i)).to_json() + "\n"
                           for i in range(3)) + "\n")
    result = runner.invoke(app, ["notebook", str(src)])
    assert result.exit_code == 0, result.output
    nb = nbformat.read(tmp_path / "runs.ipynb", as_version=4)  # default: the last one
    assert code_sources(nb) == ["print(2)"] and "trajectory 2 of 3" in result.output
    out = tmp_path / "first.ipynb"
    assert runner.invoke(app, ["notebook", str(src), "-o", str(out), "--index", "0"]
                         ).exit_code == 0
    assert code_sources(nbformat.read(out, as_version=4)) == ["print(0)"]
    bad = runner.invoke(app, ["notebook", str(src), "--index", "3"])
    assert bad.exit_code == 2 and "has 3 trajectories" in bad.output


def test_bench_result_lines_are_read_through_their_trajectory(tmp_path: Path) -> None:
    src = tmp_path / "results.jsonl"
    lines = [{"task": "a", "correct": True, "trajectory": trajectory("a", "1", "1").to_dict()},
             {"task": "crashed", "correct": False, "trajectory": None},
             {"task": "b", "correct": True, "trajectory": trajectory("b", "2", "2").to_dict()}]
    src.write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    assert [t.task for t in load_trajectories(src)] == ["a", "b"]
    result = runner.invoke(app, ["notebook", str(src), "-o", str(tmp_path / "b.ipynb")])
    assert result.exit_code == 0, result.output
    assert "b" in nbformat.read(tmp_path / "b.ipynb", as_version=4).cells[0].source


def test_files_that_hold_no_run_are_one_line_errors(tmp_path: Path) -> None:
    junk = tmp_path / "junk.jsonl"
    junk.write_text('{"a": 1}\n')
    with pytest.raises(NotebookError, match="junk.jsonl:1: neither a trajectory"):
        load_trajectories(junk)
    junk.write_text("not json\n")
    result = runner.invoke(app, ["notebook", str(junk)])
    assert result.exit_code == 2 and "junk.jsonl:1: not a JSON line" in result.output
    result = runner.invoke(app, ["notebook", str(tmp_path / "missing.jsonl")])
    assert result.exit_code == 2 and "cannot read" in result.output
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n")
    assert "no trajectory" in runner.invoke(app, ["notebook", str(empty)]).output
