"""Named answer checkers, for generated tasks and for extra JSONL / dataset sources.

A JSONL source line may name one (``{"instruction", "expected", "checker": "number"}``):

- ``match`` (default): :func:`codeact.bench.check.answers_match`, the type of
  ``expected`` decides (numbers with tolerance, lists, dicts, yes/no, text);
- ``exact``: the answer text equals ``expected`` after trimming;
- ``text``: equal after lower-casing and collapsing whitespace;
- ``number``: a number within 1e-6 relative (or ``abs_tol`` 0.01 for 2-decimal answers);
- ``contains``: ``expected`` occurs in the answer (case-insensitive);
- ``unordered``: the same items as the ``expected`` list in any order;
- ``python_tests``: the answer is Python code and ``expected`` is test code (asserts);
  both run together in a fresh sandboxed session, never in the host.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from typing import Any

from codeact.bench.check import answers_match, normalize_text, numbers_in, parse_number


def number_checker(expected: float, *, abs_tol: float = 0.0,
                   rel_tol: float = 1e-6) -> Callable[[str | None], bool]:
    """Accept the number ``expected`` (the whole answer, or its first or last number)."""
    def check(answer: str | None) -> bool:
        if answer is None:
            return False
        value = parse_number(answer)
        candidates = [value] if value is not None else []
        if not candidates:
            found = numbers_in(str(answer))
            candidates = [found[0], found[-1]] if found else []
        return any(math.isclose(v, float(expected), rel_tol=rel_tol, abs_tol=abs_tol + 1e-9)
                   for v in candidates)
    return check


def choice_checker(expected: str, candidates: Iterable[str]) -> Callable[[str | None], bool]:
    """Accept an answer that names ``expected`` and no other candidate (a region, a
    product): "The answer is North." passes, "North or South" does not."""
    names = {str(c) for c in candidates} | {str(expected)}

    def mentioned(answer: str) -> set[str]:
        text = normalize_text(answer)
        return {n for n in names if re.search(rf"(?<![\w-]){re.escape(n.lower())}(?![\w-])",
                                              text)}

    def check(answer: str | None) -> bool:
        if answer is None:
            return False
        found = mentioned(answer)
        # a longer name that contains a shorter one ("Dune-10" vs "Dune-1") is not both
        found = {n for n in found if not any(n != m and n.lower() in m.lower()
                                             for m in found)}
        return found == {str(expected)}
    return check


def python_tests_checker(tests: str) -> Callable[..., tuple[bool, str]]:
    """Run the answer's code followed by ``tests`` in a fresh sandboxed session."""
    def check(answer: str | None, ctx: Any) -> tuple[bool, str]:
        from codeact.bench.humaneval import extract_code, run_in_sandbox

        if not answer or not answer.strip():
            return False, "no solution"
        program = f"{extract_code(answer)}\n\n{tests}\n"
        return run_in_sandbox(program, getattr(ctx, "sandbox", "bwrap"),
                              getattr(ctx, "exec_timeout", 30.0))
    return check


def _make(name: str, expected: Any) -> Callable[..., Any] | None:
    if name == "match":
        return None  # the Task default: answers_match
    if name == "exact":
        return lambda a: a is not None and a.strip() == str(expected).strip()
    if name == "text":
        return lambda a: a is not None and normalize_text(a) == normalize_text(expected)
    if name == "number":
        try:
            return number_checker(float(expected), abs_tol=0.01)
        except (TypeError, ValueError):
            raise ValueError(f"checker 'number' needs a numeric expected value, "
                             f"got {expected!r}") from None
    if name == "contains":
        return lambda a: a is not None and str(expected).lower() in a.lower()
    if name == "unordered":
        if not isinstance(expected, list):
            raise ValueError("checker 'unordered' needs a list as expected value")
        return lambda a: answers_match(a, frozenset(map(_hashable, expected)))
    if name == "python_tests":
        return python_tests_checker(str(expected))
    raise ValueError(f"unknown checker {name!r}; known: {', '.join(CHECKERS)}")


def _hashable(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_hashable(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _hashable(v)) for k, v in value.items()))
    return value


CHECKERS = ("match", "exact", "text", "number", "contains", "unordered", "python_tests")


def make_checker(name: str | None, expected: Any) -> Callable[..., Any] | None:
    """The checker called ``name`` for ``expected`` (None: the default ``match``)."""
    return _make(name or "match", expected)
