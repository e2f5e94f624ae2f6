"""Runaway code: a reply whose code repeats one pattern of lines until the length limit.

Small models fall into writing out cases one by one (``assert f("AEIOUYYY") == 8``,
``points["team67"] = ...``, ``print(f([[1, 2], [2, 3], [3, 4]]))`` with one more item each
line, the same imports again and again) with a counter that changes from line to line,
until the length limit cuts the reply off. Such a reply was not run, and the model,
reading its own runaway in the conversation, wrote it again the next turn.
:func:`cut_runaway` finds the repeated tail and keeps the code before it plus a couple of
instances, so the code can run and the conversation can show the shorter version.

A second kind, :func:`cut_stub_copies`: the reply writes out function definitions,
copies of the given tools' stubs from the system prompt (docstring only, or a made-up
body), then made-up variants with a name that grows each time
(``find_doctors_with_free_hours_and_hours_and_...``), until the limit, and never calls
one. Each line differs, so no pattern repeats; what repeats is the kind of statement.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from codeact.syntax import parses

MIN_REPEATS = 4  # a pattern this many times in a row at the cut end is a runaway
KEEP = 2  # instances of the pattern that are kept (and run)
MAX_PERIOD = 6  # longest pattern, in lines
MIN_STUBS = 3  # copied definitions (bodiless, or a given tool's) in the run that ends a reply


@dataclass(frozen=True)
class Runaway:
    """Code cut back before its runaway: ``code`` to run, the ``pattern``'s first line,
    how many times it ran on (``repeats``, at least), and the ``line`` where it began."""

    code: str
    pattern: str
    repeats: int
    line: int


# after numbers are made equal: one item of a literal list or tuple, repeated (", 0, 0",
# ", [0, 0], [0, 0]"), which a runaway grows by one each line
_REPEATED_ITEM = re.compile(r"(,\s*(?:\[[^\[\]]*\]|\([^()]*\)|[^,\[\]()]+?))\1+")


def skeleton(line: str) -> str:
    """A line with what a runaway counts up made equal: numbers, runs of one letter
    (``"AEIOUYYY"`` and ``"AEIOUYYYY"`` read the same), and a list literal that grows by
    one item each line (``f([[1, 2], [2, 3]])`` and ``f([[1, 2], [2, 3], [3, 4]])``)."""
    shape = re.sub(r"(.)\1{2,}", r"\1\1", re.sub(r"\d+", "0", line.rstrip()))
    return _REPEATED_ITEM.sub(r"\1", shape)


def _tail(shapes: list[str], period: int) -> int:
    """The first line of the run at the end of ``shapes`` that repeats with ``period``."""
    start = len(shapes) - period
    while start - 1 >= 0 and shapes[start - 1] == shapes[start - 1 + period]:
        start -= 1
    return start


def cut_runaway(code: str) -> Runaway | None:
    """The code before its runaway tail, with :data:`KEEP` instances of the pattern, when
    code cut off by the length limit ends in one (None: no runaway, or no whole statement
    could be kept before it). The cut-off last line is never kept; a statement the
    runaway sits inside (a list literal written out) is not split: then None. Only
    statements of their own (at the top level) count: cases written out inside a
    function are its logic, and the function cut after two of them is a wrong one that
    looks finished (a model then re-sent it five times, where the uncut reply, not run,
    was rewritten as a loop)."""
    lines = code.split("\n")[:-1]  # the last line is where the limit cut
    while lines and not lines[-1].strip():
        lines.pop()
    shapes = [skeleton(line) for line in lines]
    best: tuple[int, int] | None = None  # (start, period) of the longest runaway
    for period in range(1, MAX_PERIOD + 1):
        if len(shapes) < period * MIN_REPEATS:
            break
        start = _tail(shapes, period)
        repeats = (len(shapes) - start) // period
        pattern = shapes[start:start + period]
        top_level = bool(pattern[0].strip()) and not pattern[0][0].isspace()
        if repeats >= MIN_REPEATS and top_level and (best is None or start < best[0]):
            best = (start, period)
    if best is None:
        return None
    start, period = best
    end = start + KEEP * period
    while end >= start:  # the kept code must parse: drop a torn last statement
        kept = "\n".join(lines[:end]).rstrip()
        if parses(kept):
            return Runaway(kept, lines[start].strip(), (len(lines) - start) // period,
                           start + 1)
        end -= 1
    return None


@dataclass(frozen=True)
class StubCopies:
    """Code cut back before a run of copied definitions: ``code`` before them (may be
    empty), their ``names`` in order, the ``line`` where the first began, and ``first``:
    the text of that first definition (the reply shown short keeps it)."""

    code: str
    names: tuple[str, ...]
    line: int
    first: str


def _is_stub(node: ast.stmt) -> bool:
    """A function definition whose body does nothing: a docstring, ``pass`` or ``...``."""
    if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        return False
    return all(isinstance(s, ast.Pass) or (isinstance(s, ast.Expr)
               and isinstance(s.value, ast.Constant)
               and (isinstance(s.value.value, str) or s.value.value is Ellipsis))
               for s in node.body)


def _whole_prefix(lines: list[str]) -> str | None:
    """The longest run of leading lines that parses (None: not even one statement)."""
    for end in range(len(lines), 0, -1):
        prefix = "\n".join(lines[:end]).rstrip()
        if parses(prefix):
            return prefix
    return None


def cut_stub_copies(code: str, tool_names: frozenset[str] = frozenset()) -> StubCopies | None:
    """The code before a run of function definitions that goes on to where the length
    limit cut ``code``, when at least :data:`MIN_STUBS` of them are copies: bodiless, or
    named as one of the given ``tool_names`` (the kernel leaves those out anyway); the
    run starts at its first copy (None: no such run). Definitions followed by code that
    uses them are a program, not a copy."""
    lines = code.split("\n")[:-1]  # the last line is where the limit cut
    prefix = _whole_prefix(lines)
    if prefix is None:
        return None
    try:
        body = ast.parse(prefix).body
    except (SyntaxError, ValueError):  # parses() accepts IPython lines ast does not
        return None
    start = len(body)
    while start > 0 and isinstance(body[start - 1], ast.FunctionDef | ast.AsyncFunctionDef):
        start -= 1
    defs = [d for d in body[start:] if isinstance(d, ast.FunctionDef | ast.AsyncFunctionDef)]
    copies = [i for i, d in enumerate(defs) if _is_stub(d) or d.name in tool_names]
    if len(copies) < MIN_STUBS:
        return None
    run = defs[copies[0]:]
    first_line = min([run[0].lineno, *(d.lineno for d in run[0].decorator_list)])
    end_line = run[0].end_lineno or first_line
    prefix_lines = prefix.split("\n")
    before = prefix_lines[:first_line - 1]
    while before and (not before[-1].strip() or before[-1].lstrip().startswith("#")):
        before.pop()  # the comment that introduced the first copy goes with it
    return StubCopies(code="\n".join(before).strip("\n"),
                      names=tuple(d.name for d in run), line=first_line,
                      first="\n".join(prefix_lines[first_line - 1:end_line]))
