"""A hint for one error small models cannot read: a name a failed cell never assigned.

Seen in trajectories of a 1.5B model: a cell computing ``total = f(...)`` fails inside
``f``; the model's next cell is ``final_answer(total)``, which fails with ``NameError``,
and it repeats that until the turn limit, never connecting the two. When a ``NameError``
names a variable that an earlier failed cell assigns, the observation says why it is
not defined.
"""

from __future__ import annotations

import ast
import re
from typing import TYPE_CHECKING

from codeact.agent.hints.base import Advice, Hint, RunStart, Step, Verdict

if TYPE_CHECKING:
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


class FailedAssignments(Hint):
    """Per run: names assigned by cells that failed and by no cell that succeeded since."""

    name = "failed_assignments"

    def __init__(self) -> None:
        self.names: set[str] = set()

    def reset(self, run: RunStart | None = None) -> None:
        self.names.clear()

    def after_action(self, step: Step, so_far: Verdict) -> Advice | None:
        if step.observation is None:  # a tool call: no kernel names involved
            return None
        note = self.observe(step.action, step.observation)
        return Advice(note=note) if note else None

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
