"""Agent runs and web conversations as Jupyter notebooks (nbformat v4).

A notebook is the form people already read, share and re-run: the model's words become
Markdown cells, each code action a code cell with the outputs it really produced (stdout,
stderr, its value, images, its error), the answer a last Markdown cell. A first code cell
defines what only a codeact kernel has (``final_answer`` and the run's pure tools), so the
notebook re-runs top to bottom in a plain Jupyter kernel when every tool it used is pure;
host tools (MCP servers, host callables) are named in a Markdown note instead.

``nbformat`` is imported only here, when a notebook is built (extra ``notebook``).
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict
from typing import Any

from codeact.errors import CodeactError
from codeact.runtime.kernel_code import PREBOUND_MODULES
from codeact.trajectory import ActionKind, StopReason, Trajectory, TurnRecord

__all__ = ["SETUP_TAG", "NotebookError", "conversation_notebook", "dumps", "prose",
           "setup_source", "trajectory_notebook"]

SETUP_TAG = "codeact-setup"  # the tag of the first code cell (what codeact's kernel has)

FINAL_ANSWER_STANDIN = '''\
def final_answer(value):
    """Stand-in for codeact's final_answer(): keeps the answer and prints it."""
    global FINAL_ANSWER
    FINAL_ANSWER = value
    print("final answer:", value if isinstance(value, str) else repr(value))
'''

_EXECUTE = re.compile(r"<execute>.*?(?:</execute>|\Z)", re.S)
_SOLUTION = re.compile(r"<solution>.*?(?:</solution>|\Z)", re.S)
_FENCE = re.compile(r"```[ \t]*(?:python|py|python3|ipython)?[ \t]*\n.*?(?:```|\Z)", re.S | re.I)


class NotebookError(CodeactError, ValueError):
    """A notebook cannot be made: nbformat is missing, or the input is not a run."""


def _nbformat() -> Any:
    try:
        import nbformat
    except ImportError:
        raise NotebookError("notebook export needs nbformat: pip install 'codeact[notebook]'"
                            ) from None
    return nbformat


def prose(text: str, *, had_code: bool = True) -> str:
    """The model's words around its action: the reply without ``<execute>`` and
    ``<solution>`` blocks (nor fenced code, when a fenced block was the action)."""
    out = _SOLUTION.sub("", _EXECUTE.sub("", text))
    if had_code and "<execute>" not in text:
        out = _FENCE.sub("", out)
    return out.strip()


def setup_source(tools: Iterable[dict[str, Any]]) -> str:
    """The first code cell: the modules a codeact kernel starts with, a ``final_answer``
    stand-in and the source of each pure tool."""
    parts = ["# Added by codeact: what a codeact kernel defines, so this notebook re-runs "
             f"in a plain kernel.\nimport {', '.join(PREBOUND_MODULES)}\n\n"
             + FINAL_ANSWER_STANDIN]
    parts += [t["source"].rstrip() + "\n" for t in tools if _is_pure(t)]
    return "\n\n".join(parts)


def _is_pure(tool: dict[str, Any]) -> bool:
    return bool(tool.get("pure") and tool.get("source"))


def _host_tools_note(tools: Sequence[dict[str, Any]]) -> str | None:
    host = [t for t in tools if not _is_pure(t)]
    if not host:
        return None
    listed = "\n".join(f"- `{t['name']}{t.get('signature') or '(...)'}`" for t in host)
    return ("**Host tools.** These tools ran in codeact's host process (outside the "
            "kernel), so cells that call them fail in a plain Jupyter kernel; their "
            f"recorded outputs are kept below:\n\n{listed}")


def _quote(text: str) -> str:
    return "\n".join(f"> {line}" if line else ">" for line in text.strip().splitlines())


def _outputs(nbf: Any, out: dict[str, Any], count: int | None) -> list[Any]:
    """nbformat outputs from a structured output (``trajectory.ExecOutput`` as a dict)."""
    new = nbf.v4.new_output
    cells: list[Any] = []
    if out.get("stdout"):
        cells.append(new("stream", name="stdout", text=out["stdout"]))
    if out.get("stderr"):
        cells.append(new("stream", name="stderr", text=out["stderr"]))
    for png in out.get("images") or []:
        cells.append(new("display_data", data={"image/png": png}))
    if out.get("result") is not None:
        cells.append(new("execute_result", data={"text/plain": out["result"]},
                         execution_count=count))
    err = out.get("error")
    if err:
        trace = (err.get("traceback") or "").splitlines() or \
            [f"{err.get('name', 'Error')}: {err.get('message', '')}"]
        cells.append(new("error", ename=err.get("name") or "Error",
                         evalue=err.get("message") or "", traceback=trace))
    notes = [n for n in (out.get("notice"),
                         "Output was truncated." if out.get("truncated") else None) if n]
    if notes:
        cells.append(new("stream", name="stderr",
                         text="".join(f"[codeact: {n}]\n" for n in notes)))
    return cells


def _call_source(tool: str, arguments: Any) -> str:
    """A json/text-format tool call written as the Python call it stands for."""
    if isinstance(arguments, dict):
        if all(isinstance(k, str) and k.isidentifier() for k in arguments):
            return f"{tool}({', '.join(f'{k}={v!r}' for k, v in arguments.items())})"
        return f"{tool}(**{arguments!r})"
    if isinstance(arguments, list | tuple):
        return f"{tool}({', '.join(repr(a) for a in arguments)})"
    return f"{tool}()" if arguments is None else f"{tool}({arguments!r})"


class _Cells:
    """Collects cells and numbers code cells the way a kernel would."""

    def __init__(self, nbf: Any) -> None:
        self.nbf = nbf
        self.cells: list[Any] = []
        self.count = 0

    def markdown(self, text: str | None) -> None:
        if text and text.strip():
            self.cells.append(self.nbf.v4.new_markdown_cell(text.strip()))

    def code(self, source: str, out: dict[str, Any] | None) -> None:
        self.count += 1
        outputs = _outputs(self.nbf, out or {}, self.count)
        self.cells.append(self.nbf.v4.new_code_cell(source.strip("\n"),
                                                    execution_count=self.count,
                                                    outputs=outputs))

    def setup(self, tools: Sequence[dict[str, Any]]) -> None:
        self.markdown(_host_tools_note(tools))
        cell = self.nbf.v4.new_code_cell(setup_source(tools))
        cell.metadata["tags"] = [SETUP_TAG]
        self.cells.append(cell)

    def notebook(self, meta: dict[str, Any]) -> Any:
        nb = self.nbf.v4.new_notebook(cells=self.cells)
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                     "language": "python"}
        nb.metadata["language_info"] = {"name": "python"}
        nb.metadata["codeact"] = meta
        return nb


def _turn(cells: _Cells, record: TurnRecord, skip_prose: str | None) -> None:
    words = prose(record.completion, had_code=record.code is not None)
    if words and words != skip_prose:
        cells.markdown(words)
    out = None if record.output is None else asdict(record.output)
    if record.code is not None:
        cells.code(record.code, out)
    elif record.action == ActionKind.TOOL_CALL and record.tool:
        cells.code(_call_source(record.tool, record.arguments), out)
    elif record.action == ActionKind.INVALID and record.observation:
        cells.markdown(_quote(record.observation))


def trajectory_notebook(traj: Trajectory, tools: Sequence[dict[str, Any]] | None = None
                        ) -> Any:
    """A run as a notebook. ``tools``: ``trajectory.tool_records(...)`` (default: the
    records the agent kept in ``traj.metadata["tools"]``)."""
    nbf = _nbformat()
    tool_list = list(tools if tools is not None else traj.metadata.get("tools") or [])
    cells = _Cells(nbf)
    fmt = f"{traj.action_format} actions" if traj.action_format else "a codeact run"
    cells.markdown(f"# codeact run\n\nModel `{traj.model or '?'}`, {fmt}; stopped: "
                   f"{traj.stop_reason or '?'} after {len(traj.turns)} turn(s).\n\n"
                   f"**Task:**\n\n{traj.task}")
    cells.setup(tool_list)
    chat_reply = traj.answer.strip() if traj.stop_reason == StopReason.NO_ACTION and traj.answer \
        else None
    for record in traj.turns:
        _turn(cells, record, chat_reply)
    if traj.answer is not None:
        cells.markdown(f"**Answer:**\n\n{traj.answer}")
    elif traj.stop_reason == StopReason.ERROR:
        cells.markdown(f"**Error:** {traj.error or 'the run failed'}")
    else:
        cells.markdown(f"*The run stopped without an answer ({traj.stop_reason or '?'}).*")
    return cells.notebook({"task": traj.task, "model": traj.model,
                           "action_format": traj.action_format,
                           "stop_reason": traj.stop_reason, "answer": traj.answer})


def _stored_output(obs: dict[str, Any], image: Callable[[int], bytes],
                   tool_call: bool) -> dict[str, Any]:
    """A stored observation (``store.timeline``) in the shape of ``ExecOutput``."""
    notice = None
    if obs.get("restarted"):
        notice = f"The kernel was restarted ({obs.get('restart_reason') or 'it died'})."
    elif obs.get("timed_out"):
        notice = "Execution timed out and was interrupted."
    out = {"stdout": obs.get("stdout") or "", "stderr": obs.get("stderr") or "",
           "result": obs.get("result"), "error": obs.get("error"), "notice": notice,
           "truncated": bool(obs.get("truncated")),
           "images": [base64.b64encode(image(i)).decode("ascii")
                      for i in obs.get("images") or []]}
    if tool_call and not out["stdout"] and obs.get("text"):
        out["stdout"] = obs["text"]  # a host tool call keeps only the rendered text
    return out


def _tool_call(code: str) -> tuple[str, Any] | None:
    """A json/text-format action as the web app stores it: ``{"tool", "arguments"}``."""
    try:
        data = json.loads(code)
    except ValueError:
        return None
    if isinstance(data, dict) and set(data) == {"tool", "arguments"} and \
            isinstance(data["tool"], str):
        return data["tool"], data["arguments"]
    return None


def conversation_notebook(conversation: dict[str, Any], items: Sequence[dict[str, Any]],
                          image: Callable[[int], bytes],
                          tools: Sequence[dict[str, Any]] = ()) -> Any:
    """A web conversation (``store.timeline`` items) as a notebook; ``image(id)`` reads a
    stored PNG; ``tools``: the server's tool records (``trajectory.tool_records``)."""
    nbf = _nbformat()
    cells = _Cells(nbf)
    cells.markdown(f"# {conversation.get('title') or 'codeact conversation'}\n\n"
                   f"A codeact conversation with `{conversation.get('model') or '?'}`.")
    cells.setup(list(tools))
    for item in items:
        if item.get("type") == "code":
            call = _tool_call(item["code"])
            source = _call_source(*call) if call else item["code"]
            obs = item.get("observation") or {}
            cells.code(source, _stored_output(obs, image, call is not None))
            continue
        role, kind, text = item.get("role"), item.get("kind"), item.get("content") or ""
        if role == "user":
            cells.markdown(f"**User:**\n\n{text}")
        elif kind == "answer":
            cells.markdown(text)
        elif kind == "error":
            cells.markdown(_quote(f"**Error:** {text}"))
        elif role == "system":
            cells.markdown(_quote(text))
        else:
            cells.markdown(prose(text))
    return cells.notebook({"conversation_id": conversation.get("id"),
                           "title": conversation.get("title"),
                           "model": conversation.get("model")})


def dumps(nb: Any) -> str:
    """The notebook as .ipynb JSON text, validated against the nbformat v4 schema."""
    nbf = _nbformat()
    nbf.validate(nb)
    return nbf.writes(nb)
