"""The parsed form of a tool signature: :class:`Param` and :class:`ToolSignature`.

A ``ToolSignature`` renders as a valid Python parameter list, binds arguments through
:mod:`inspect`, and describes itself to the kernel side as JSON. Building one from a
string or a function is :mod:`codeact.signatures`.
"""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "KEYWORD_ONLY",
    "POSITIONAL_ONLY",
    "POSITIONAL_OR_KEYWORD",
    "VAR_KEYWORD",
    "VAR_POSITIONAL",
    "Param",
    "ToolSignature",
]

P = inspect.Parameter
POSITIONAL_ONLY = P.POSITIONAL_ONLY
POSITIONAL_OR_KEYWORD = P.POSITIONAL_OR_KEYWORD
VAR_POSITIONAL = P.VAR_POSITIONAL
KEYWORD_ONLY = P.KEYWORD_ONLY
VAR_KEYWORD = P.VAR_KEYWORD

_KIND_CODES = {POSITIONAL_ONLY: 0, POSITIONAL_OR_KEYWORD: 1, VAR_POSITIONAL: 2,
               KEYWORD_ONLY: 3, VAR_KEYWORD: 4}


@dataclass(frozen=True)
class Param:
    """One parameter. ``name`` is a valid identifier (``source_name`` is how the spec
    wrote it, when that was a keyword); ``annotation`` and ``default`` are source text,
    ``None`` when absent or not valid Python."""

    name: str
    kind: inspect._ParameterKind
    annotation: str | None = None
    default: str | None = None
    source_name: str | None = None
    raw_annotation: str | None = None
    accepts: tuple[type, ...] | None = field(default=None, compare=False)

    @property
    def required(self) -> bool:
        return self.default is None and self.kind not in (VAR_POSITIONAL, VAR_KEYWORD)

    def render(self) -> str:
        prefix = {VAR_POSITIONAL: "*", VAR_KEYWORD: "**"}.get(self.kind, "")
        text = prefix + self.name
        if self.annotation:
            text += f": {self.annotation}"
        if self.default is not None:
            text += f" = {self.default}" if self.annotation else f"={self.default}"
        return text


class _Default:
    """A default shown by its source text (the kernel never evaluates it)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


@dataclass(frozen=True)
class ToolSignature:
    """A tool's parameters and return type, always renderable as valid Python.

    ``source`` is the signature text as the spec gave it (None when built from a real
    function); ``exact`` is False when rendering had to change something, in which case
    the stub's docstring repeats the source text.
    """

    params: tuple[Param, ...]
    returns: str | None = None
    source: str | None = None
    exact: bool = True
    parsed: bool = True  # False: the source could not be read at all

    # ------------------------------------------------------------------ rendering
    @property
    def text(self) -> str:
        """``(a: int, b=2, *args: float) -> float``: valid after ``def name``."""
        parts: list[str] = []
        kinds = [p.kind for p in self.params]
        for i, p in enumerate(self.params):
            if p.kind == KEYWORD_ONLY and (i == 0 or kinds[i - 1] not in (KEYWORD_ONLY,
                                                                          VAR_POSITIONAL)):
                parts.append("*")
            parts.append(p.render())
            if p.kind == POSITIONAL_ONLY and (i + 1 == len(kinds)
                                              or kinds[i + 1] != POSITIONAL_ONLY):
                parts.append("/")
        ret = f" -> {self.returns}" if self.returns else ""
        return f"({', '.join(parts)}){ret}"

    def note(self, name: str) -> str | None:
        """The docstring line that keeps the spec's own text, when rendering changed it."""
        if self.exact or not self.source:
            return None
        text = _with_name(self.source, name) if self.parsed else " ".join(self.source.split())
        return f"Signature as given: {text}"

    # ------------------------------------------------------------------ binding
    def to_inspect(self) -> inspect.Signature:
        """An :class:`inspect.Signature` with the same parameters (for ``bind``)."""
        return inspect.Signature(
            [P(p.name, p.kind,
               default=P.empty if p.default is None else _Default(p.default),
               annotation=p.annotation if p.annotation else P.empty)
             for p in self.params],
            return_annotation=self.returns if self.returns else inspect.Signature.empty)

    def to_spec(self) -> list[Any]:
        """A JSON-able description for the kernel side: ``[params, returns]``."""
        return [[[p.name, _KIND_CODES[p.kind], p.annotation, p.default,
                  p.source_name or p.name] for p in self.params], self.returns]


def _with_name(source: str, name: str) -> str:
    src = " ".join(source.split())
    src = re.sub(r"^(async\s+)?def\s+", "", src).rstrip(":").strip()
    if re.match(r"^[A-Za-z_][\w.]*\s*\(", src):
        return src
    if not src.startswith("("):
        src = f"({src})"
    return name + src
