"""Hints for one error small models cannot read: a name a failed cell never assigned.

Seen in trajectories of a 1.5B model: a cell computing ``total = f(...)`` fails inside
``f``; the model's next cell is ``final_answer(total)``, which fails with ``NameError``,
and it repeats that until the turn limit, never connecting the two. When a ``NameError``
names a variable that an earlier failed cell assigns, the observation says why it is
not defined.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable

from codeact.runtime.observation import Observation

_UNDEFINED = re.compile(r"name '([A-Za-z_][A-Za-z0-9_]*)' is not defined")


def assigned_names(code: str) -> set[str]:
    """Names the cell binds at top level (assignments, for targets, with, imports, defs).

    Statements nested in ``if``/``for``/``while``/``try``/``with`` blocks count too:
    they bind module-level names just the same."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return set()
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            if not isinstance(node, ast.Lambda):
                names.add(node.name)
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.alias):
            names.add((node.asname or node.name).split(".")[0])
    return names - _local_names(tree)


def _local_names(tree: ast.AST) -> set[str]:
    """Names bound only inside function bodies (not module-level variables)."""
    local: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            for inner in ast.walk(node):
                if inner is not node and isinstance(inner, ast.Name) and \
                        isinstance(inner.ctx, ast.Store):
                    local.add(inner.id)
            args = node.args
            for a in [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg,
                      args.kwarg]:
                if a is not None:
                    local.add(a.arg)
    return local


class FailedAssignments:
    """Per run: names assigned by cells that failed and by no cell that succeeded since."""

    def __init__(self) -> None:
        self.names: set[str] = set()

    def reset(self) -> None:
        self.names.clear()

    def observe(self, code: str, obs: Observation) -> str | None:
        """Record one executed cell; return a note for the model, or None."""
        if obs.restarted:  # a new kernel: nothing of before exists, for any reason
            self.names.clear()
        note = None
        error = obs.error
        if error is not None and error.name == "NameError":
            match = _UNDEFINED.search(error.message)
            if match and match.group(1) in self.names:
                name = match.group(1)
                note = (f"Note: `{name}` is not defined because the earlier cell that "
                        f"assigns it failed with an error before `{name}` was set. Fix "
                        "the error in that cell and run it again; then use the value.")
        assigned = assigned_names(code)
        if obs.ok:
            self.names -= assigned
        else:
            self.names |= assigned
        return note


# A function the task names as code: called or defined (``has_close_elements(``), in
# backticks (`` `rotate_letters` ``) or a snake_case name (``rotate_letters``). A plain
# word does not count: "the factorial of 37" does not ask for a function called factorial.
_NAMED_AS_CODE = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\(|`([A-Za-z_][A-Za-z0-9_]*)`"
                            r"|\b([A-Za-z][A-Za-z0-9]*_[A-Za-z0-9_]*[A-Za-z0-9])\b")


def defined_functions(code: str) -> list[str]:
    """Names of the functions a cell defines at module level, in order."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return []
    return [node.name for node in tree.body
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))]


class RequestedFunction:
    """Per run: notices when a cell defines the function the task names.

    Seen in HumanEval trajectories of a 1.5B model: it writes the right function in its
    first cell, which prints nothing, then defines it again word for word each turn until
    the run stops as stuck, never submitting it. A task that names a function as code
    (``def count_distinct_characters(...)`` in the instruction, not the bare word) is
    asking for it: once a successful cell defines it, the observation names the exact
    call that submits it, and a run that would stop as stuck on such a cell submits it
    instead.
    """

    def __init__(self) -> None:
        self.task_words: set[str] = set()
        self._noted: set[str] = set()

    def reset(self, task: str, tool_names: Iterable[str] = ()) -> None:
        """Read the names ``task`` asks for; a tool's own name is never one (a task that
        says "use `convert_units`" asks for a call, not a definition)."""
        named = {"".join(groups) for groups in _NAMED_AS_CODE.findall(task)}
        self.task_words = named - set(tool_names)
        self._noted.clear()

    def requested(self, code: str, obs: Observation) -> str | None:
        """The function a successful cell defines that the task names (the last such
        definition), or None."""
        if not obs.ok:
            return None
        names = [name for name in defined_functions(code) if name in self.task_words]
        return names[-1] if names else None

    def first_note(self, name: str | None) -> str | None:
        """A note the first time a cell defines the requested function."""
        if name is None or name in self._noted:
            return None
        self._noted.add(name)
        return (f"Note: your cell defines `{name}`, the function the task asks for. If you "
                f"have not checked it yet, test it on an example from the task; when it "
                f"is right, submit it with final_answer({name}).")

    @staticmethod
    def repeat_note(name: str) -> str:
        """Added to the repeat guard's note when the repeated cell defines it."""
        return (f" Your cell defines `{name}`, the function the task asks for: submit it "
                f"with final_answer({name}).")
