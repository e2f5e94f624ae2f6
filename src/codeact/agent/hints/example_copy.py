"""A hint that keeps the prompt's illustration out of the run: a cell that uses a function
only the prompt's worked example calls is asked again instead of run.

Seen with a 1.5B model on unit-conversion tasks: the system prompt's example (tools
``get_price`` and ``apply_discount``, a lamp and a desk) came back as the first cell,
then ``get_price = lambda x: 2.20`` to make it run: the answer rested on the example's
made-up prices (2 of 4 such tasks, at two commits). The functions a prompt's
``<execute>`` examples call that are neither builtins nor the run's tools are the
example's own; a cell that uses one (a call, a reference or an assignment; a ``def`` of
its own is the model's function) when the task does not name it is vetoed, so the model
is asked again, with sampling, told which names belong to the illustration and which
tools it has. A cell that is an example's cell nearly as written, with no number or
string of its own, is vetoed the same way (seen: a 0.5B model, after a ``KeyError`` on a
sales file, sent the example's multiples-of-7 cell with its range reversed, and submitted
the empty list it printed). Works for any prompt with examples, custom ones included; a
model that insists still gets its cell run after the resamples.
"""

from __future__ import annotations

import ast
import builtins
import difflib
import re

from codeact.agent.hints.base import NOTE_TOOLS, Hint, RunStart
from codeact.runtime.suggest import listed_names

# an example cell: the tag alone on its line (the prompt also names the tags in prose)
_BLOCK = re.compile(r"<execute>[ \t]*\n(.*?)\n[ \t]*</execute>", re.DOTALL)
KNOWN = frozenset(dir(builtins)) | {"final_answer"}
COPY_RATIO = 0.8  # how alike a cell and an example cell are to count as a copy


def example_functions(system_prompt: str, tools: set[str]) -> set[str]:
    """The names the prompt's ``<execute>`` examples call that are no builtin, no tool of
    this run and not ``final_answer``: functions that exist only in the illustration."""
    found: set[str] = set()
    for block in _BLOCK.findall(system_prompt):
        try:
            tree = ast.parse(block)
        except SyntaxError:
            continue
        found |= {node.func.id for node in ast.walk(tree)
                  if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)}
    return found - KNOWN - tools


def example_cells(system_prompt: str) -> list[str]:
    """The prompt's example cells of two lines or more (a one-line ``final_answer(total)``
    is how every run ends, not a copy)."""
    cells = [_normal(block) for block in _BLOCK.findall(system_prompt)]
    return [cell for cell in cells if len(cell.splitlines()) >= 2]


def _normal(code: str) -> str:
    return "\n".join(" ".join(line.split()) for line in code.splitlines() if line.strip())


_LITERAL = re.compile(r"\d+(?:\.\d+)?|'[^'\n]*'|\"[^\"\n]*\"")


def is_copy(code: str, cell: str) -> bool:
    """Whether ``code`` is ``cell`` nearly as written: at least :data:`COPY_RATIO` alike,
    character by character (blank lines and spacing aside), and with no number or string
    of its own (a cell of the same shape on this task's values is the model's work)."""
    mine = _normal(code)
    if not set(_LITERAL.findall(mine)) <= set(_LITERAL.findall(cell)):
        return False
    return difflib.SequenceMatcher(None, mine, cell, autojunk=False).ratio() >= COPY_RATIO


def names_used(code: str, names: set[str]) -> list[str]:
    """Which of ``names`` the code uses (reads, or assigns as in ``get_price = lambda x:
    2.2``), sorted; a name the cell defines with ``def`` is its own function, not the
    example's (a discount task may well write ``def apply_discount``). Code that does
    not parse is searched as text."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return sorted(n for n in names if re.search(rf"(?<![\w.]){re.escape(n)}\b", code))
    used = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    defined = {node.name for node in ast.walk(tree)
               if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)}
    return sorted((used - defined) & names)


class ExampleCopy(Hint):
    """Per run: the illustration's own function names the task does not mention."""

    name = "example_copy"

    def __init__(self) -> None:
        self.names: set[str] = set()
        self.tools: list[str] = []
        self.cells: list[str] = []

    def reset(self, run: RunStart) -> None:
        self.tools = [t.name for t in run.tools]
        names = example_functions(run.system_prompt, set(self.tools)) \
            if run.code_format else set()
        self.names = {n for n in names if not re.search(rf"\b{re.escape(n)}\b", run.task)}
        self.cells = example_cells(run.system_prompt) if run.code_format else []

    def vetoes(self, action: str) -> str | None:
        if any(is_copy(action, cell) for cell in self.cells):
            return ("it is the cell of the prompt's worked example (a task that is not "
                    "yours), nearly as written there")
        if not self.names:
            return None
        used = names_used(action, self.names)
        if not used:
            return None
        quoted = ", ".join(f"`{n}`" for n in used)
        have = (f"your tools are: {listed_names(self.tools, NOTE_TOOLS)}" if self.tools
                else "you have no tools for this task")
        return (f"it uses {quoted}, which only the prompt's illustration has: not a "
                f"function here, and its data is not this task's ({have})")
