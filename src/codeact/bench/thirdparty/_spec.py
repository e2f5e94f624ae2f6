"""How this suite states a task: a prompt, its tools and a reference solution *as code*.

Written the way external suites usually are: each tool is a tuple
``(name, fn, description, signature)`` and each task's reference solution is Python
source that calls the tools by name and leaves its result in a variable ``answer``. The
same source is run twice: here at load time in the host, against fresh tools, to compute
the expected answer (nothing is typed in); and by :mod:`codeact.bench.selfcheck` in a
sandboxed kernel through the tool bridge, exactly as a model's code action would run.
"""

from __future__ import annotations

import ast
import textwrap
from collections.abc import Callable, Sequence
from typing import Any

from codeact.bench.check import answers_match
from codeact.bench.task import CheckContext, Task, to_jsonable
from codeact.tools import Tool

ToolSpec = tuple[str, Callable[..., Any], str, str]
ToolsArg = Sequence[ToolSpec] | Callable[[], Sequence[ToolSpec]]


def run_solution(code: str, tools: dict[str, Tool], *, name: str = "solution"
                 ) -> tuple[Any, dict[str, Any]]:
    """Run solution source with the tools as globals (in the host).

    Returns ``answer`` and the namespace the code left behind."""
    ns: dict[str, Any] = {"__name__": "__solution__"}
    ns.update({t_name: t.fn for t_name, t in tools.items()})
    exec(compile(code, f"<{name}>", "exec"), ns)  # noqa: S102 - our own reference code
    if "answer" not in ns:
        raise ValueError(f"{name}: the solution code did not set `answer`")
    return ns["answer"], ns


class AnswerChecker:
    """Compares an answer with the expected value by its type.

    Numbers within ``tol`` (absolute; whole-number answers must round to the expected
    value), text ignoring case and surrounding quotes, booleans as yes/no/true/false,
    lists in order unless ``unordered``, dicts key by key with these same rules.
    """

    def __init__(self, *, unordered: bool = False, tol: float | None = None) -> None:
        self.unordered = unordered
        self.tol = tol

    def __call__(self, answer: Any, ctx: CheckContext) -> tuple[bool, str]:
        expected = ctx.expected
        want: Any = expected
        if self.unordered and isinstance(expected, list):
            want = frozenset(expected)
        tol = {} if self.tol is None else {"rel_tol": 0.0, "abs_tol": self.tol + 1e-9}
        ok = answers_match(answer, want, **tol)
        if ok:
            return True, ""
        kind = type(expected).__name__
        if isinstance(expected, list):
            kind = "list (any order)" if self.unordered else "list (in this order)"
        return False, f"expected {kind} {to_jsonable(expected)!r}"


def make_task(domain: str, name: str, prompt: str, solution: str, tools: ToolsArg, *,
              unordered: bool = False, tol: float | None = None,
              unique: str | None = None) -> Task:
    """One task; its expected answer is computed by running ``solution`` at load time.

    ``unique`` names a dict in the solution's namespace whose extreme value chose the
    answer (an argmax/argmin): loading fails if that value is tied, since the task would
    then have two right answers.
    """
    code = textwrap.dedent(solution).strip() + "\n"
    full = f"{domain}/{name}"
    ast.parse(code, filename=f"<{full}>")

    def reference(tools: dict[str, Tool]) -> Any:
        answer, ns = run_solution(code, tools, name=full)
        if unordered:
            if not isinstance(answer, list):
                raise ValueError(f"{full}: an unordered answer must be a list")
            if len(set(map(repr, answer))) != len(answer):
                raise ValueError(f"{full}: an unordered answer must not repeat items")
        if unique is not None:
            scores = ns.get(unique)
            if not isinstance(scores, dict) or answer not in scores:
                raise ValueError(f"{full}: {unique!r} must be a dict holding the answer")
            if list(scores.values()).count(scores[answer]) > 1:
                raise ValueError(f"{full}: ambiguous, {answer!r} ties on {scores[answer]!r}")
        return answer

    return Task(
        name=full,
        domain=domain,
        instruction=textwrap.dedent(prompt).strip(),
        tools=tools,
        reference=reference,
        checker=AnswerChecker(unordered=unordered, tol=tol),
        metadata={"solution_code": code, "ordered": not unordered, "suite": "thirdparty"},
    )
