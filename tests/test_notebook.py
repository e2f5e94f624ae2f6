"""Tests for codeact.notebook (the builder): real agent runs in a sandboxed kernel become
notebooks that nbformat validates and that nbclient re-runs top to bottom in a plain
python3 Jupyter kernel."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from codeact.agent import Agent
from codeact.llm.scripted import ScriptedLLM
from codeact.notebook import (
    SETUP_TAG,
    conversation_notebook,
    dumps,
    prose,
    setup_source,
    trajectory_notebook,
)
from codeact.runtime import Session
from codeact.tools import tool
from codeact.trajectory import ExecOutput, Trajectory, TurnRecord, tool_records


@tool(pure=True)
def double(x: int) -> int:
    """Twice x."""
    return 2 * x


@tool
def host_price(item: str) -> float:
    """Price of an item (runs in the host)."""
    return {"apple": 0.5}[item]


PLOT = "import matplotlib.pyplot as plt\nplt.plot([1, 3, 2])\nplt.show()"


def agent_run(session: Session, replies: list[str], tools: list) -> Trajectory:
    return Agent(ScriptedLLM(replies), tools, session=session, max_turns=6).run("the task")


@pytest.fixture(scope="module")
def clean_run(session: Session) -> Trajectory:
    """A run with a pure tool, a value, an image and final_answer(...)."""
    return agent_run(session, [
        "I will double 21.\n<execute>\ny = double(21)\nprint('y is', y)\ny + 1\n</execute>",
        f"Now a plot.\n<execute>\n{PLOT}\n</execute>",
        "Done.\n<execute>\nfinal_answer(y)\n</execute>",
    ], [double])


def code_cells(nb) -> list:
    return [c for c in nb.cells if c.cell_type == "code"
            and SETUP_TAG not in c.metadata.get("tags", [])]


def test_the_trajectory_keeps_structured_outputs_and_loads_back(clean_run: Trajectory) -> None:
    first = clean_run.turns[0].output
    assert first == ExecOutput(stdout="y is 42\n", result="43")
    png = base64.b64decode(clean_run.turns[1].output.images[0])
    assert png[:4] == b"\x89PNG"
    assert clean_run.metadata["tools"][0]["name"] == "double"
    assert "return 2 * x" in clean_run.metadata["tools"][0]["source"]
    line = clean_run.to_json()
    assert "\n" not in line
    assert Trajectory.from_json(line) == clean_run


def test_old_trajectories_without_outputs_still_load() -> None:
    old = {"task": "t", "turns": [{"turn": 1, "completion": "<execute>1", "action": "code",
                                   "code": "1", "observation": "Out: 1", "exec_ok": True}]}
    traj = Trajectory.from_dict(old)
    assert traj.turns[0].output is None
    nb = trajectory_notebook(traj)
    nbformat.validate(nb)
    assert code_cells(nb)[0].source == "1" and code_cells(nb)[0].outputs == []


def test_cells_follow_the_run(clean_run: Trajectory) -> None:
    nb = trajectory_notebook(clean_run)
    nbformat.validate(nb)
    md = [c.source for c in nb.cells if c.cell_type == "markdown"]
    assert "the task" in md[0] and "I will double 21." in md and "Now a plot." in md
    assert md[-1] == "**Answer:**\n\n42"
    setup = nb.cells[1]
    assert setup.metadata["tags"] == [SETUP_TAG]
    assert "def final_answer(value):" in setup.source and "def double(x: int)" in setup.source
    cells = code_cells(nb)
    assert [c.execution_count for c in cells] == [1, 2, 3]
    out = cells[0].outputs
    assert out[0].output_type == "stream" and out[0].text == "y is 42\n"
    assert out[1].output_type == "execute_result" and out[1].data["text/plain"] == "43"
    assert out[1].execution_count == 1
    assert cells[1].outputs[0].output_type == "display_data"
    assert base64.b64decode(cells[1].outputs[0].data["image/png"])[:4] == b"\x89PNG"
    assert nb.metadata["kernelspec"]["name"] == "python3"
    assert nb.metadata["codeact"]["answer"] == "42"


def test_the_notebook_reruns_in_a_plain_kernel(clean_run: Trajectory, tmp_path: Path) -> None:
    path = tmp_path / "run.ipynb"
    path.write_text(dumps(trajectory_notebook(clean_run)), encoding="utf-8")
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    cells = code_cells(nb)
    assert cells[0].outputs[0].text == "y is 42\n"
    assert cells[0].outputs[1].data["text/plain"] == "43"
    assert any(o.output_type == "display_data" for o in cells[1].outputs)
    assert cells[2].outputs[0].text == "final answer: 42\n"


def test_errors_stderr_and_notices_become_outputs(session: Session) -> None:
    traj = agent_run(session, [
        "<execute>\nimport sys\nprint('warn', file=sys.stderr)\n1 / 0\n</execute>",
        "<execute>\nprint(host_price('apple'))\n</execute>",
        "<solution>0.5</solution>",
    ], [host_price])
    nb = trajectory_notebook(traj)
    nbformat.validate(nb)
    first = code_cells(nb)[0].outputs
    assert first[0].name == "stderr" and first[0].text == "warn\n"
    assert first[1].output_type == "error" and first[1].ename == "ZeroDivisionError"
    assert first[1].evalue == "division by zero" and first[1].traceback
    note = next(c.source for c in nb.cells if c.source.startswith("**Host tools.**"))
    assert "`host_price(item: str) -> float`" in note
    assert "def host_price" not in nb.cells[2].source  # host tools are not defined
    assert code_cells(nb)[1].outputs[0].text == "0.5\n"


def test_tool_calls_of_the_json_format_are_python_calls() -> None:
    traj = Trajectory(task="t", action_format="json", stop_reason="max_turns", turns=[
        TurnRecord(turn=1, completion='Look it up.\n<execute>{"tool": "host_price"}',
                   action="tool_call", tool="host_price", arguments={"item": "apple"},
                   output=ExecOutput(result="0.5")),
        TurnRecord(turn=2, completion="hmm", action="invalid", observation="Bad reply."),
    ], metadata={"tools": tool_records([host_price])})
    nb = trajectory_notebook(traj)
    nbformat.validate(nb)
    cell = code_cells(nb)[0]
    assert cell.source == "host_price(item='apple')"
    assert cell.outputs[0].data["text/plain"] == "0.5"
    md = [c.source for c in nb.cells if c.cell_type == "markdown"]
    assert "Look it up." in md and "> Bad reply." in md
    assert md[-1] == "*The run stopped without an answer (max_turns).*"


def test_prose_drops_actions_and_solutions() -> None:
    assert prose("Plan.\n<execute>\nx = 1\n</execute>\nthen <solution>1</solution>") == \
        "Plan.\n\nthen"
    assert prose("Fenced:\n```python\nx = 1\n```\nok") == "Fenced:\n\nok"
    assert prose("Keep\n```python\nx = 1\n```", had_code=False).startswith("Keep\n```")
    assert prose("<execute>cut off") == ""


def test_setup_cell_defines_final_answer_and_pure_tools() -> None:
    ns: dict = {}
    exec(setup_source(tool_records([double, host_price])), ns)  # noqa: S102
    assert ns["double"](4) == 8 and "host_price" not in ns
    ns["final_answer"]([1, 2])
    assert ns["FINAL_ANSWER"] == [1, 2]
    # the modules a codeact kernel starts with, for cells that use them unimported
    exec("r = math.factorial(4) + len(json.dumps([1]))", ns)  # noqa: S102
    assert ns["r"] == 27


def test_a_stored_conversation_becomes_a_notebook() -> None:
    png = base64.b64decode(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJ"
        "RU5ErkJggg==")
    obs = {"stdout": "hi\n", "stderr": "", "result": "3", "images": [7], "text": "hi",
           "error": {"name": "ValueError", "message": "bad", "traceback": "Traceback\nbad"},
           "timed_out": True, "restarted": False, "truncated": False}
    items = [
        {"type": "message", "role": "user", "kind": "text", "content": "plot it"},
        {"type": "message", "role": "assistant", "kind": "text",
         "content": "Sure.\n<execute>\nprint('hi')\n"},
        {"type": "code", "code": "print('hi')", "observation": obs},
        {"type": "code", "code": json.dumps({"tool": "f", "arguments": {"a": 1}}),
         "observation": {"stdout": "", "text": "2", "images": []}},
        {"type": "message", "role": "assistant", "kind": "answer", "content": "**done**"},
        {"type": "message", "role": "system", "kind": "error", "content": "oops"},
    ]
    nb = conversation_notebook({"id": "c", "title": "Plots", "model": "m"}, items,
                               lambda i: png)
    nbformat.validate(nb)
    assert nb.cells[0].source.startswith("# Plots")
    md = [c.source for c in nb.cells if c.cell_type == "markdown"]
    assert md[1:] == ["**User:**\n\nplot it", "Sure.", "**done**", "> **Error:** oops"]
    first, call = code_cells(nb)
    kinds = [o.output_type for o in first.outputs]
    assert kinds == ["stream", "display_data", "execute_result", "error", "stream"]
    assert "timed out" in first.outputs[-1].text
    assert call.source == "f(a=1)" and call.outputs[0].text == "2"


def test_without_nbformat_the_error_says_what_to_install(monkeypatch: pytest.MonkeyPatch
                                                         ) -> None:
    import sys

    from codeact.notebook import NotebookError

    monkeypatch.setitem(sys.modules, "nbformat", None)  # an import of it now fails
    with pytest.raises(NotebookError, match=r"pip install 'codeact\[notebook\]'"):
        trajectory_notebook(Trajectory(task="t"))
