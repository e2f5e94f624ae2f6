"""Self-check of a suite: each reference solution, run as code in a sandboxed kernel.

A task that keeps its reference solution as Python source (``metadata["solution_code"]``,
leaving its result in a variable ``answer``, as the ``thirdparty`` suite does) is checked
the way a model's code action would run: a fresh sandboxed :class:`Session` with fresh
tools (bridged to the host), the code as one cell, ``answer`` read back as a model would
state it (a string as it is, anything else as its Python literal). Then:

- that answer must pass the task's checker, and so must its JSON form;
- the tools must have been called over the bridge, and the answer must equal the one the
  same code gave in the host at load time (the bridge round trip changes nothing);
- every tool must be shown to the model as valid Python (its stub parses) and, in the
  kernel, take the parameters that stub shows (``check_stubs``);
- wrong answers derived from the expected one (a number off by one, a flipped boolean,
  a list missing an item or, when order matters, reversed, a dict with one value
  changed, "no idea") must fail.

``python -m codeact.bench.selfcheck --suite thirdparty`` runs it from the command line.
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import inspect
import json
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from codeact.bench.task import CheckContext, Task, ToolContext, to_jsonable
from codeact.tools import Tool

MARK = "\x00selfcheck\x00"
_READ_BACK = f"""
import json as __sc_json
try:
    __sc_value = __sc_json.dumps(answer)
except (TypeError, ValueError):
    __sc_value = None
print({MARK!r} + __sc_json.dumps({{
    "text": answer if isinstance(answer, str) else repr(answer),
    "json": __sc_value,
}}))
"""
_KERNEL_PARAMS = f"""
import inspect as __sc_inspect, json as __sc_json
def __sc_params(fn):
    try:
        ps = __sc_inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return None
    star = {{__sc_inspect.Parameter.VAR_POSITIONAL: "*", __sc_inspect.Parameter.VAR_KEYWORD: "**"}}
    return [star.get(p.kind, "") + p.name for p in ps]
print({MARK!r} + __sc_json.dumps({{n: __sc_params(globals().get(n)) for n in __sc_names}}))
del __sc_params, __sc_names
"""


@dataclass
class SelfCheckResult:
    """The verdict on one task: ``status`` is ``pass``, ``fail`` or ``skip``."""

    task: str
    status: str
    answer: str | None = None  # the reference's answer as read back from the kernel
    tool_calls: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status != "fail"


def render(value: Any) -> str:
    """An answer as a model would state it: strings as they are, else the Python literal."""
    return value if isinstance(value, str) else repr(value)


def wrong_answers(expected: Any, *, ordered: bool = True) -> list[Any]:
    """Answers close to ``expected`` that a correct checker must still reject."""
    wrong: list[Any] = ["no idea"]
    if isinstance(expected, bool):
        wrong.append(not expected)
    elif isinstance(expected, int):
        wrong += [expected + 1, expected - 1]
    elif isinstance(expected, float):
        wrong.append(round(expected + max(1.0, abs(expected) * 0.05), 2))
    elif isinstance(expected, str):
        wrong.append(expected + "x" if expected else "x")
    elif isinstance(expected, list | tuple):
        items = list(expected)
        if items:
            wrong.append(items[:-1])
            wrong.append(items[:-1] + [_other(items[-1])])
            rev = items[::-1]
            if ordered and rev != items:
                wrong.append(rev)
        else:
            wrong.append(["x"])
    elif isinstance(expected, dict) and expected:
        first = next(iter(expected))
        wrong.append({**expected, first: _other(expected[first])})
        if len(expected) > 1:
            wrong.append({k: v for k, v in expected.items() if k != first})
    return wrong


def _other(value: Any) -> Any:
    """A value of the same kind as ``value`` but different."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int | float):
        return value + max(1, abs(value) // 10 + 1)
    if isinstance(value, str):
        return value + "x"
    return "x"


def _count_calls(tools: list[Tool], calls: Counter[str]) -> list[Tool]:
    """The same tools, counting how often the host runs each."""
    out = []
    for t in tools:
        fn = t.fn
        wrapper: Callable[..., Any]
        if inspect.iscoroutinefunction(fn):
            async def counted_async(*a: Any, _fn: Any = fn, _n: str = t.name,
                                    **k: Any) -> Any:
                calls[_n] += 1
                return await _fn(*a, **k)
            wrapper = counted_async
        else:
            def counted(*a: Any, _fn: Any = fn, _n: str = t.name, **k: Any) -> Any:
                calls[_n] += 1
                return _fn(*a, **k)
            wrapper = counted
        out.append(dataclasses.replace(t, fn=functools.wraps(fn)(wrapper)))
    return out


def _stub_params(tool: Tool) -> list[str] | None:
    """Parameters of the ``def`` the model is shown, or None when it is not valid Python."""
    try:
        tree = ast.parse(tool.python_stub())
    except SyntaxError:
        return None
    fn = next((n for n in tree.body if isinstance(n, ast.FunctionDef)), None)
    if fn is None:
        return None
    a = fn.args
    out = [p.arg for p in [*a.posonlyargs, *a.args]]
    out += [f"*{a.vararg.arg}"] if a.vararg else []
    out += [p.arg for p in a.kwonlyargs]
    out += [f"**{a.kwarg.arg}"] if a.kwarg else []
    return out


def _stub_problems(tools: list[Tool]) -> list[str]:
    bad = [t.python_stub().splitlines()[0] for t in tools if _stub_params(t) is None]
    if not bad:
        return []
    return [f"{len(bad)} of {len(tools)} tools are shown to the model as invalid Python, "
            f"e.g. {bad[0]!r}"]


def _kernel_param_problems(session: Any, tools: list[Tool], timeout: float) -> list[str]:
    names = [t.name for t in tools if not t.pure]
    obs = session.execute(f"__sc_names = {names!r}\n" + _KERNEL_PARAMS, timeout=timeout)
    if not obs.ok or MARK not in obs.stdout:
        return [f"could not inspect the tools in the kernel: {obs.error or obs.stdout!r}"]
    got = json.loads(obs.stdout.rpartition(MARK)[2])
    bad = []
    for t in tools:
        shown = _stub_params(t)
        if t.name in got and shown is not None and got[t.name] != shown:
            bad.append(f"{t.name}({', '.join(got[t.name] or [])}) but it is shown as "
                       f"{t.name}({', '.join(shown)})")
    if not bad:
        return []
    return [f"{len(bad)} tools in the kernel do not take the parameters the model is shown, "
            f"e.g. {bad[0]}"]


def check_task(task: Task, *, sandbox: Any = "bwrap", timeout: float = 60.0,
               check_stubs: bool = True) -> SelfCheckResult:
    """Run one task's reference solution in a sandboxed kernel and grade it (see module).

    ``check_stubs=False`` skips the checks of how the tools are presented (stub syntax
    and kernel-side parameters) and checks only the solution's run and grading."""
    from codeact.runtime import Session

    code = task.metadata.get("solution_code")
    if not isinstance(code, str) or not code.strip():
        return SelfCheckResult(task.name, "skip", problems=["no solution_code in metadata"])
    result = SelfCheckResult(task.name, "pass")
    problems = result.problems
    calls: Counter[str] = Counter()
    tools = _count_calls(task.make_tools(ToolContext("code", sandbox)), calls)
    if check_stubs:
        problems += _stub_problems(tools)
    with Session(sandbox=sandbox, tools=tools) as session:
        task.write_files(session.workspace)
        if check_stubs:
            problems += _kernel_param_problems(session, tools, timeout)
        obs = session.execute(code, timeout=timeout)
        if not obs.ok:
            err = obs.error
            if err is not None:
                why = f"{err.name}: {err.message}\n{err.traceback}"
            elif obs.timed_out:
                why = f"timed out after {timeout:g} s"
            else:
                why = obs.restart_reason or "the kernel stopped"
            problems.append(f"the solution failed in the kernel: {why}")
        else:
            back = session.execute(_READ_BACK, timeout=timeout)
            payload = back.stdout.rpartition(MARK)[2] if MARK in back.stdout else None
            if not back.ok or payload is None:
                problems.append("could not read `answer` back from the kernel: "
                                f"{back.error.message if back.error else back.stdout!r}")
            else:
                data = json.loads(payload)
                result.answer = data["text"]
                _grade(task, data, sandbox, problems)
    result.tool_calls = sum(calls.values())
    if not result.tool_calls:
        problems.append("the solution called no tool over the bridge")
    if problems:
        result.status = "fail"
    return result


def _grade(task: Task, data: dict[str, Any], sandbox: Any, problems: list[str]) -> None:
    ctx = CheckContext(task=task, expected=task.expected, sandbox=sandbox)
    verdict = task.check(data["text"], ctx)
    if not verdict.success:
        problems.append(f"the reference answer {data['text']!r} fails the checker "
                        f"{verdict.detail}".rstrip())
    if data["json"] is not None:
        value = json.loads(data["json"])
        if value != to_jsonable(task.expected):
            problems.append(f"the kernel's answer {value!r} differs from the host's "
                            f"{to_jsonable(task.expected)!r}")
        if not task.check(data["json"], ctx).success:
            problems.append(f"the reference answer as JSON {data['json']!r} fails the checker")
    ordered = bool(task.metadata.get("ordered", True))
    for wrong in wrong_answers(task.expected, ordered=ordered):
        if task.check(render(wrong), ctx).success:
            problems.append(f"the wrong answer {render(wrong)!r} passes the checker")
    if not ordered and isinstance(task.expected, list) and len(task.expected) > 1:
        shuffled = render(list(reversed(task.expected)))
        if not task.check(shuffled, ctx).success:
            problems.append(f"the answer in another order {shuffled!r} fails, but the task "
                            "accepts any order")


def check_suite(tasks: Iterable[Task], *, sandbox: Any = "bwrap", timeout: float = 60.0,
                check_stubs: bool = True,
                on_result: Callable[[SelfCheckResult], Any] | None = None
                ) -> list[SelfCheckResult]:
    """:func:`check_task` for every task; a task that raises is a failure, not a crash."""
    results = []
    for task in tasks:
        try:
            r = check_task(task, sandbox=sandbox, timeout=timeout, check_stubs=check_stubs)
        except Exception as exc:  # a broken tool factory or sandbox: report, go on
            r = SelfCheckResult(task.name, "fail",
                                problems=[f"self-check raised {type(exc).__name__}: {exc}"])
        results.append(r)
        if on_result is not None:
            on_result(r)
    return results


def main(argv: list[str] | None = None) -> int:
    """``python -m codeact.bench.selfcheck --suite NAME [--filter RX] [--sandbox S]``."""
    import typer
    from rich.console import Console
    from rich.markup import escape

    from codeact.bench.suites import SuiteError, load_suite, select

    console = Console()
    exit_code = 0

    def command(
        suite: str = typer.Option("thirdparty", "--suite", help="suite name or module:callable"),
        filter: str | None = typer.Option(None, "--filter", help="regex on task name/domain"),
        sandbox: str = typer.Option("bwrap", "--sandbox", help="bwrap or none"),
        timeout: float = typer.Option(60.0, "--timeout", help="seconds per solution cell"),
        stubs: bool = typer.Option(True, "--stubs/--no-stubs",
                                   help="also check how the tools are shown to the model"),
    ) -> None:
        nonlocal exit_code
        try:
            tasks = select(load_suite(suite), filter=filter)
        except (SuiteError, re.error) as exc:
            console.print(f"[red]error:[/red] {escape(str(exc))}")
            exit_code = 2
            return

        def show(r: SelfCheckResult) -> None:
            colour = {"pass": "green", "fail": "red", "skip": "yellow"}[r.status]
            console.print(f"[{colour}]{r.status:4}[/{colour}] {escape(r.task)} "
                          f"({r.tool_calls} tool calls) {escape(r.answer or '')[:60]}")
            for p in r.problems:
                console.print(f"      {escape(p)}")

        results = check_suite(tasks, sandbox=sandbox, timeout=timeout, check_stubs=stubs,
                              on_result=show)
        counts = Counter(r.status for r in results)
        console.print(f"{counts['pass']} passed, {counts['fail']} failed, "
                      f"{counts['skip']} skipped (no reference code)")
        if counts["fail"]:
            exit_code = 1
        elif not counts["pass"]:
            exit_code = 2

    app = typer.Typer(add_completion=False)
    app.command()(command)
    try:
        app(args=argv, standalone_mode=False)
    except typer.Exit as exc:  # pragma: no cover - --help
        return exc.exit_code
    except Exception as exc:  # click usage errors
        console.print(f"[red]error:[/red] {escape(str(exc))}")
        return 2
    return exit_code


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
