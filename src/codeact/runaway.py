"""Runaway code: a reply whose code repeats one pattern of lines until the length limit.

Small models fall into writing out cases one by one (``assert f("AEIOUYYY") == 8``,
``points["team67"] = ...``, ``print(f([[1, 2], [2, 3], [3, 4]]))`` with one more item each
line, the same imports again and again) with a counter that changes from line to line,
until the length limit cuts the reply off. Such a reply was not run, and the model,
reading its own runaway in the conversation, wrote it again the next turn.
:func:`cut_runaway` finds the repeated tail and keeps the code before it plus a couple of
instances, so the code can run and the conversation can show the shorter version.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from codeact.syntax import parses

MIN_REPEATS = 4  # a pattern this many times in a row at the cut end is a runaway
KEEP = 2  # instances of the pattern that are kept (and run)
MAX_PERIOD = 6  # longest pattern, in lines


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
