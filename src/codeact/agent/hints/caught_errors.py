"""A hint for a cell that caught an exception and printed it, so the cell "succeeded".

Seen in a generated library task with a 1.5B model: ``for book_id in books: try:
checkout(book_id, "M661") ... except Exception as e: print(f"Failed to check out
{book_id}: {e}")`` passed whole dicts as ids; every call failed with ``unhashable type:
'dict'``, the cell ran without error, and the model answered from the count it kept (0):
no traceback, no tool reminder, nothing said the calls were wrong. When a cell that ran
without error printed the text of one of its own ``except`` branches that shows the
exception, the note says the code inside ``try`` failed and shows the signatures of the
tools it calls.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import TYPE_CHECKING

from codeact.agent.hints.base import Advice, Hint, RunStart, Step, Verdict
from codeact.agent.hints.tool_reminder import MAX_TOOLS, ToolReminder

if TYPE_CHECKING:
    from codeact.tools import Tool

MIN_FRAGMENT = 4  # characters of a handler's own text that mark its line in the output
MAX_LINE = 200  # characters of the quoted output line


@dataclass(frozen=True)
class Handler:
    """An ``except ... as name`` branch that prints the exception: the constant text
    of its print calls, and the functions its ``try`` body calls."""

    fragments: tuple[str, ...]
    calls: tuple[str, ...]


def _mentions(node: ast.AST, name: str) -> bool:
    return any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(node))


def _fragments(call: ast.Call) -> list[str]:
    """The constant text of a print call's arguments (f-string parts too)."""
    found = []
    for arg in call.args:
        for node in ast.walk(arg):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                text = node.value.strip(" :-\n")
                if len(text) >= MIN_FRAGMENT:
                    found.append(text)
    return found


def printing_handlers(code: str) -> list[Handler]:
    """The cell's ``except ... as e`` branches that print ``e`` with some text of their
    own (a syntax error: none)."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return []
    handlers = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Try):
            continue
        calls = tuple(dict.fromkeys(
            n.func.id for stmt in node.body for n in ast.walk(stmt)
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)))
        for handler in node.handlers:
            if handler.name is None:
                continue
            fragments = [f for n in ast.walk(handler) if isinstance(n, ast.Call) and
                         isinstance(n.func, ast.Name) and n.func.id == "print" and
                         _mentions(n, handler.name) for f in _fragments(n)]
            if fragments:
                handlers.append(Handler(tuple(fragments), calls))
    return handlers


class CaughtErrors(Hint):
    """Per run: the tools by name, to show the ones the failing ``try`` calls."""

    name = "caught_errors"

    def __init__(self) -> None:
        self.tools: dict[str, Tool] = {}

    def reset(self, run: RunStart) -> None:
        self.tools = {t.name: t for t in run.tools}

    def after_action(self, step: Step, so_far: Verdict) -> Advice | None:
        obs = step.observation
        if obs is None or not obs.ok or obs.final_answer is not None or not obs.stdout:
            return None
        lines = obs.stdout.splitlines()
        for handler in printing_handlers(step.action):
            hits = [line for line in lines if any(f in line for f in handler.fragments)]
            if not hits:
                continue
            times = f" ({len(hits)} times)" if len(hits) > 1 else ""
            shown = hits[0].strip()[:MAX_LINE]
            tools = [c for c in handler.calls if c in self.tools][:MAX_TOOLS]
            entries = "".join("\n" + ToolReminder.entry(self.tools[t]) for t in tools)
            about = (" It calls tools already defined: call them as described here."
                     if tools else "")
            return Advice(
                note=f"Note: your code caught an error and printed it{times}: `{shown}`. "
                     "The code inside `try` failed, so it did not do what it should. Read "
                     f"that message and fix the call it is about.{about}{entries}",
                problem=True)
        return None
