"""Robust answer checking: compare a model's free-text answer with an expected value.

The expected value's type decides how the answer is read:

- ``bool``: yes/no/true/false (and a few synonyms), alone or opening a sentence followed
  by punctuation (``"No, it is closed"``; ``"no idea"`` is not a no);
- ``int``/``float``: a number within tolerance (an ``int`` must round to it); thousands
  separators, currency signs, percent signs and units around the number are ignored.
  When the answer is a sentence, its first or last number counts (``"The total is 42 km"``);
- ``list``/``tuple``: a JSON or Python list, or comma/newline separated items, compared
  item by item with these same rules (order matters); a ``set``/``frozenset`` ignores order;
- ``dict``: a JSON or Python mapping, keys compared as strings, values with these rules;
- ``str`` (and anything else): case-insensitive, whitespace collapsed, surrounding quotes,
  backticks and a trailing full stop ignored.
"""

from __future__ import annotations

import ast
import json
import math
import re
from collections.abc import Mapping
from typing import Any

from codeact.syntax import LITERAL_ERRORS

REL_TOL = 1e-3
ABS_TOL = 1e-2 + 1e-9  # answers rounded to two decimals still match

_NUMBER = re.compile(r"[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:[eE][-+]?\d+)?|[-+]?\.\d+")
_TRUE = {"true", "yes", "y", "1", "correct", "t"}
_FALSE = {"false", "no", "n", "0", "incorrect", "f"}


def normalize_text(value: Any) -> str:
    """Lower-case, collapse whitespace, strip quotes/backticks and a trailing full stop."""
    text = str(value).strip()
    text = _strip_wrappers(text)
    text = re.sub(r"\s+", " ", text).strip().lower()
    return text


def _strip_wrappers(text: str) -> str:
    text = text.strip()
    fence = re.fullmatch(r"```[\w+-]*\s*\n?(.*?)\n?```", text, re.S)
    if fence:
        text = fence.group(1).strip()
    changed = True
    while changed and len(text) >= 2:
        changed = False
        if text.endswith(".") and not re.search(r"\d\.$", text[-2:]):
            text = text[:-1].rstrip()
            changed = True
        for a, b in (('"', '"'), ("'", "'"), ("`", "`"), ("**", "**")):
            if len(text) >= 2 * len(a) and text.startswith(a) and text.endswith(b):
                text = text[len(a):-len(b)].strip()
                changed = True
    return text


def parse_number(text: Any) -> float | None:
    """The number a whole answer states (``"$1,234.50"``, ``"42 km"``, ``"12%"``), or None."""
    if isinstance(text, bool):
        return None
    if isinstance(text, int | float):
        return float(text)
    s = _strip_wrappers(str(text)).strip()
    s = s.replace("$", "").replace("€", "").replace("£", "").replace("%", "").strip()
    plain = s.replace(",", "").replace("_", "")
    try:
        return float(plain)
    except ValueError:
        pass
    m = re.fullmatch(rf"\s*({_NUMBER.pattern})\s*[A-Za-z/°]*\s*", s)
    if m:
        return float(m.group(1).replace(",", ""))
    return None


def numbers_in(text: str) -> list[float]:
    """All numbers mentioned in a text, in order."""
    return [float(m.group(0).replace(",", "")) for m in _NUMBER.finditer(str(text))]


def numbers_close(a: float, b: float, rel_tol: float = REL_TOL, abs_tol: float = ABS_TOL) -> bool:
    return math.isclose(a, b, rel_tol=rel_tol, abs_tol=abs_tol)


def _parse_structured(text: str) -> Any:
    s = _strip_wrappers(text)
    for loader in (json.loads, ast.literal_eval):
        try:
            return loader(s)
        except LITERAL_ERRORS:
            continue
    return None


def _as_items(answer: Any) -> list[Any] | None:
    if isinstance(answer, list | tuple | set | frozenset):
        return list(answer)
    text = str(answer)
    parsed = _parse_structured(text)
    if isinstance(parsed, list | tuple | set | frozenset):
        return list(parsed)
    s = _strip_wrappers(text).strip()
    if s.startswith("[") and s.endswith("]"):
        s = s[1:-1]
    if not s.strip():
        return []
    sep = "\n" if "\n" in s.strip() else ","
    items = [re.sub(r"^\s*(?:[-*•]|\d+[.)])\s+", "", part).strip() for part in s.split(sep)]
    return [i for i in items if i]


def answers_match(answer: Any, expected: Any, *, rel_tol: float = REL_TOL,
                  abs_tol: float = ABS_TOL) -> bool:
    """True when ``answer`` (usually the text of ``<solution>``) states ``expected``."""
    if answer is None:
        return expected is None
    if expected is None:
        return normalize_text(answer) in ("none", "null", "")
    if isinstance(expected, bool):
        if isinstance(answer, bool):
            return answer == expected
        word = normalize_text(answer)
        word = re.sub(r"[^a-z0-9]+$", "", word)
        if word in _TRUE:
            return expected is True
        if word in _FALSE:
            return expected is False
        # A sentence counts when it opens with the word and a break ("No, it is closed"),
        # so "no idea" or "not sure" never reads as a "no".
        first = re.match(r"(yes|true|no|false)\s*(?:[,.;:!\-–—(]|$)", word)
        if first:
            return (first.group(1) in ("yes", "true")) == expected
        return False
    if isinstance(expected, int | float):
        if isinstance(answer, bool):
            return False
        if isinstance(expected, int):  # counts, ids, whole amounts: must round to it
            rel_tol, abs_tol = 0.0, 0.5
        value = parse_number(answer)
        if value is not None:
            return numbers_close(value, float(expected), rel_tol, abs_tol)
        found = numbers_in(str(answer))
        if not found:
            return False
        return any(numbers_close(v, float(expected), rel_tol, abs_tol)
                   for v in {found[0], found[-1]})
    if isinstance(expected, set | frozenset):
        items = _as_items(answer)
        if items is None or len(items) != len(expected):
            return False
        remaining = list(expected)
        for item in items:
            for i, exp in enumerate(remaining):
                if answers_match(item, exp, rel_tol=rel_tol, abs_tol=abs_tol):
                    del remaining[i]
                    break
            else:
                return False
        return not remaining
    if isinstance(expected, list | tuple):
        items = _as_items(answer)
        if items is None or len(items) != len(expected):
            return False
        return all(answers_match(a, e, rel_tol=rel_tol, abs_tol=abs_tol)
                   for a, e in zip(items, expected, strict=True))
    if isinstance(expected, Mapping):
        parsed = answer if isinstance(answer, Mapping) else _parse_structured(str(answer))
        if not isinstance(parsed, Mapping):
            return False
        got = {normalize_text(k): v for k, v in parsed.items()}
        want = {normalize_text(k): v for k, v in expected.items()}
        if set(got) != set(want):
            return False
        return all(answers_match(got[k], want[k], rel_tol=rel_tol, abs_tol=abs_tol)
                   for k in want)
    if isinstance(answer, list | tuple) and len(answer) == 1:
        answer = answer[0]
    return normalize_text(answer) == normalize_text(expected)
