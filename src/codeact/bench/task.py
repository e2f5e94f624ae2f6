"""The task interface every suite implements, built-in or third-party.

A :class:`Task` is a name, a domain, an instruction, its tools, an expected answer and,
optionally, its own checker and a reset hook. Tools may be given as

- :class:`codeact.tools.Tool` objects, or plain typed functions with docstrings;
- dicts ``{"name", "fn", "description", "signature"}`` or tuples
  ``(name, fn, description[, signature])`` for third-party callables documented by
  strings (``*args`` callables are fine);
- a *factory* (``tools=make_browser_tools``) returning any of the above, called afresh
  for every run, so tools that keep state between calls (a simulated browser, a ledger)
  start clean for each task and format. It takes no argument, or one
  :class:`ToolContext` (the action format and sandbox of the run).

Tools always run in the host process: in the code format the agent's sandboxed kernel
reaches them through the runtime's tool bridge (``Tool(pure=False)``), so their state
behaves the same in the code, json and text formats.

``files`` puts files into the run's workspace before the agent starts (data tasks: a CSV
to analyse, logs to parse): a mapping ``{relative path: bytes | str}``, or a callable
``files(root)`` that writes them under the directory ``root``.

``format_instructions`` (optional, ``{action format: text}``) words the instruction for
one format where the way to hand in an answer differs: a task asking for a function says
``final_answer(fn)`` to the code format and ``<solution>`` to json and text
(:meth:`Task.instruction_for`; formats not listed get ``instruction``).

``checker(answer, ctx)`` (or ``checker(answer)``) returns a bool, a score in [0, 1]
(success when >= 1), or ``(bool, detail)``. Without one, :func:`answers_match` compares
the answer with ``expected``. When ``expected`` is not given but ``reference`` is, the
expected answer is computed at load time by calling ``reference`` with fresh tools
(``reference(tools_by_name)``).
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from codeact.bench.check import answers_match
from codeact.tools import Tool, as_tools

_UNSET: Any = object()


@dataclass
class CheckContext:
    """What a checker may use besides the answer."""

    task: Task
    expected: Any
    sandbox: Any = "bwrap"  # for checkers that run code (HumanEval): a runtime sandbox
    trajectory: Any = None
    exec_timeout: float = 30.0


@dataclass
class ToolContext:
    """Passed to tool factories that take an argument."""

    action_format: str = "code"
    sandbox: Any = "bwrap"


@dataclass
class CheckResult:
    success: bool
    score: float
    detail: str = ""


@dataclass
class Task:
    """One benchmark task. See the module docstring for what each field accepts."""

    name: str
    instruction: str
    domain: str = "general"
    tools: (Sequence[Any] | Callable[[], Sequence[Any]]
            | Callable[[ToolContext], Sequence[Any]]) = ()
    expected: Any = _UNSET
    checker: Callable[..., Any] | None = None
    reset: Callable[[], Any] | None = None
    reference: Callable[[dict[str, Tool]], Any] | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    files: Mapping[str, bytes | str] | Callable[[Path], Any] | None = None
    format_instructions: Mapping[str, str] | None = None

    def __post_init__(self) -> None:
        if not self.name or not isinstance(self.name, str):
            raise ValueError("a task needs a non-empty string name")
        if self.expected is _UNSET and self.reference is not None:
            try:
                self.expected = self.reference(self.tools_by_name())
            except Exception as exc:
                raise ValueError(f"reference solution of task {self.name!r} failed: "
                                 f"{type(exc).__name__}: {exc}") from exc
        if self.expected is _UNSET and self.checker is None:
            raise ValueError(f"task {self.name!r} has neither an expected answer, "
                             "a reference solution nor a checker")
        if self.expected is _UNSET:
            self.expected = None

    def make_tools(self, ctx: ToolContext | None = None) -> list[Tool]:
        """Fresh tools for one run: calls the reset hook, then the factory if any."""
        if self.reset is not None:
            self.reset()
        items: Any = self.tools
        if isinstance(items, Tool):  # a Tool is callable, but it is one tool, not a factory
            items = [items]
        elif callable(items):
            try:
                n_params = len(inspect.signature(items).parameters)
            except (TypeError, ValueError):
                n_params = 0
            items = items(ctx or ToolContext()) if n_params else items()
        return normalize_tools(items)

    def write_files(self, root: str | Path) -> list[str]:
        """Write the task's workspace files under ``root``; return their relative paths."""
        root = Path(root)
        if self.files is None:
            return []
        root.mkdir(parents=True, exist_ok=True)
        if callable(self.files):
            self.files(root)
            return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
        written = []
        for rel, content in self.files.items():
            path = PurePosixPath(str(rel))
            if path.is_absolute() or ".." in path.parts or not path.parts:
                raise ValueError(f"task {self.name!r}: workspace file path {rel!r} must be "
                                 "relative and stay inside the workspace")
            target = root.joinpath(*path.parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, str):
                content = content.encode("utf-8")
            target.write_bytes(content)
            written.append(str(path))
        return sorted(written)

    def instruction_for(self, action_format: str) -> str:
        """The instruction a run in ``action_format`` sees: its own wording when the task
        has one (``format_instructions``: a coding task asks the code format for
        ``final_answer(fn)`` and the others for ``<solution>``), else ``instruction``."""
        return (self.format_instructions or {}).get(action_format, self.instruction)

    def tools_by_name(self) -> dict[str, Tool]:
        return {t.name: t for t in self.make_tools()}

    def check(self, answer: str | None, ctx: CheckContext | None = None) -> CheckResult:
        """Grade an answer with the task's checker, or :func:`answers_match`."""
        if ctx is None:
            ctx = CheckContext(task=self, expected=self.expected)
        if self.checker is None:
            ok = answers_match(answer, self.expected)
            return CheckResult(ok, 1.0 if ok else 0.0)
        try:
            n_params = len(inspect.signature(self.checker).parameters)
        except (TypeError, ValueError):
            n_params = 2
        try:
            raw = self.checker(answer, ctx) if n_params >= 2 else self.checker(answer)
        except Exception as exc:  # a broken checker fails the task, never the run
            return CheckResult(False, 0.0, f"checker raised {type(exc).__name__}: {exc}")
        detail = ""
        if isinstance(raw, tuple):
            raw, detail = raw[0], str(raw[1]) if len(raw) > 1 else ""
        if isinstance(raw, bool) or raw is None:
            score = 1.0 if raw else 0.0
        else:
            score = float(raw)
        return CheckResult(score >= 1.0, score, detail)

    def expected_json(self) -> Any:
        """The expected answer as JSON-safe data (sets become sorted lists)."""
        return to_jsonable(self.expected)


def to_jsonable(value: Any) -> Any:
    if isinstance(value, set | frozenset):
        return sorted((to_jsonable(v) for v in value), key=repr)
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    try:
        json.dumps(value)
        return value
    except (TypeError, ValueError):
        return repr(value)


def normalize_tools(items: Sequence[Any] | None) -> list[Tool]:
    """Turn Tools, functions, dict specs and tuple specs into Tools with unique names."""
    tools: list[Tool] = []
    for item in items or ():
        if isinstance(item, Tool):
            tools.append(item)
        elif isinstance(item, Mapping):
            spec = dict(item)
            fn = spec.pop("fn", None) or spec.pop("function", None) or spec.pop("func", None)
            if fn is None or "name" not in spec:
                raise ValueError(f"tool spec needs 'name' and 'fn': {item!r}")
            tools.append(Tool.from_spec(spec["name"], fn, spec.get("description", ""),
                                        spec.get("signature")))
        elif isinstance(item, tuple) and item and isinstance(item[0], str):
            name, fn, *rest = item
            desc = rest[0] if rest else ""
            sig = rest[1] if len(rest) > 1 else None
            tools.append(Tool.from_spec(name, fn, desc, sig))
        elif callable(item):
            tools.append(Tool.from_function(item))
        else:
            raise ValueError(f"cannot use {item!r} as a tool")
    return as_tools(tools)
