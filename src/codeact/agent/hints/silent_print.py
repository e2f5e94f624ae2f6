"""A hint for a cell that calls ``print`` but printed nothing.

Seen in third-party tool tasks with a 1.5B model: ``for date in week_dates(): if '13:00'
<= date <= '17:00': ... print(event_id)`` compares a date with a time, the condition is
never true, and the observation is "Executed successfully with no output". The model
reads that as success, or re-sends a variant with another time, for six turns, never
looking at the values the condition tests. When a cell that calls ``print`` printed
nothing (no output, no value, no image), the note says the printing code did not run
and to print what the condition tests.
"""

from __future__ import annotations

import ast

from codeact.agent.hints.base import Advice, Hint, Step, Verdict


def calls_print(code: str) -> bool:
    """Whether the cell calls ``print`` anywhere (a syntax error: no)."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return False
    return any(isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and
               node.func.id == "print" for node in ast.walk(tree))


class SilentPrint(Hint):
    """Stateless: looks at one cell and its output."""

    name = "silent_print"

    def after_action(self, step: Step, so_far: Verdict) -> Advice | None:
        obs = step.observation
        if obs is None or not obs.ok or obs.final_answer is not None:
            return None
        if obs.stdout.strip() or obs.stderr.strip() or obs.result is not None or obs.images:
            return None
        if not calls_print(step.action):
            return None
        return Advice(note="Note: your cell calls print() but printed nothing, so the code "
                           "that prints never ran: a condition around it was never true, or "
                           "a loop went over nothing. Print the values that condition or "
                           "loop uses, to see why, before you change anything else.")
