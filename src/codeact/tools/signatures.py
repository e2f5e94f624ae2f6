"""Tool signatures: parsed once, rendered as valid Python everywhere.

Third-party tool specs write signatures as strings, often loosely:
``"convert_currency(base_price: float, rate: float) -> int/float"``, ``"(x: int)"``,
``"items: list of str"``, ``"*args: float"``. :func:`parse_signature` turns any of them
into a :class:`ToolSignature` whose rendering is always a valid parameter list: the
function name is dropped, annotations that are not Python type expressions are left out
(the original text is kept for the docstring), and odd parameter orders are repaired so
that ``def`` accepts them. The same object drives the prompt stubs, the kernel-side
function and argument checking, so what the model reads is what the call accepts.
"""

from __future__ import annotations

import ast
import inspect
import keyword
import re
from collections.abc import Mapping
from typing import Any

from codeact.tools.signature_model import (
    KEYWORD_ONLY,
    POSITIONAL_ONLY,
    POSITIONAL_OR_KEYWORD,
    VAR_KEYWORD,
    VAR_POSITIONAL,
    P,
    Param,
    ToolSignature,
)
from codeact.tools.signature_types import accepted_types, is_type_expression, type_name, types_of

# Param, ToolSignature and the type-text helpers live in signature_model / signature_types;
# every name stays importable from here.
__all__ = [
    "KEYWORD_ONLY",
    "POSITIONAL_ONLY",
    "POSITIONAL_OR_KEYWORD",
    "VAR_KEYWORD",
    "VAR_POSITIONAL",
    "Param",
    "ToolSignature",
    "accepted_types",
    "from_inspect",
    "is_type_expression",
    "parse_signature",
    "type_name",
    "types_of",
]


# ---------------------------------------------------------------------- parsing
class _Unparseable(ValueError):
    pass


def parse_signature(text: str) -> ToolSignature:
    """Parse a signature string as third-party specs write it; never raises.

    Accepts ``name(params) -> ret``, ``(params)``, ``params`` without parentheses, an
    optional leading ``def``, ``*args``/``**kwargs``, ``/`` and ``*`` markers, and
    defaults. What cannot be parsed at all becomes ``(*args, **kwargs)``.
    """
    source = text if isinstance(text, str) else str(text)
    try:
        params, returns, exact = _parse(source)
        sig = ToolSignature(tuple(params), returns, source, exact)
        sig.to_inspect()  # the same checks def would make
        compile(f"def _f{sig.text}: pass", "<signature>", "exec")
        return sig
    except (_Unparseable, ValueError, SyntaxError, RecursionError):
        return ToolSignature((Param("args", VAR_POSITIONAL), Param("kwargs", VAR_KEYWORD)),
                             None, source, exact=False, parsed=False)


def from_inspect(sig: inspect.Signature, hints: Mapping[str, Any] | None = None
                 ) -> ToolSignature:
    """The signature of a real function (``hints`` from ``get_type_hints``, if any)."""
    hints = hints or {}
    params: list[Param] = []
    exact = True
    for p in sig.parameters.values():
        ann = hints.get(p.name, p.annotation)
        ann_text = type_name(ann) if ann is not P.empty else None
        if ann_text is not None and not is_type_expression(ann_text):
            ann_text, exact = None, False
        default = None
        if p.default is not P.empty:
            default = repr(p.default)
            if not _is_expression(default):
                default = "..."
        params.append(Param(p.name, p.kind, ann_text, default,
                            accepts=types_of(ann) if ann is not P.empty else None))
    ret = hints.get("return", sig.return_annotation)
    ret_text = type_name(ret) if ret is not inspect.Signature.empty else None
    if ret_text is not None and not is_type_expression(ret_text):
        ret_text = None
    return ToolSignature(tuple(params), ret_text, None, exact)


def _is_expression(text: str) -> bool:
    try:
        ast.parse(text, mode="eval")
        return True
    except (SyntaxError, ValueError, RecursionError):
        return False


def _parse(source: str) -> tuple[list[Param], str | None, bool]:
    s = source.strip()
    s = re.sub(r"^(async\s+)?def\s+", "", s).strip()
    if s.endswith(":") and not s.endswith("::"):
        s = s[:-1].rstrip()
    m = re.match(r"^[A-Za-z_][\w.]*\s*(?=\()", s)
    if m:
        s = s[m.end():]
    if s.startswith("("):
        close = _matching_paren(s)
        inner, rest = s[1:close], s[close + 1:].strip()
    else:
        arrow = _top_level_find(s, "->")
        inner, rest = (s, "") if arrow < 0 else (s[:arrow], s[arrow:])
    returns: str | None = None
    exact = True
    if rest:
        if not rest.startswith("->"):
            raise _Unparseable(f"unexpected text after the parameters: {rest!r}")
        raw_ret = rest[2:].strip()
        if raw_ret and is_type_expression(raw_ret):
            returns = " ".join(raw_ret.split())
        elif raw_ret:
            exact = False
    params, params_exact = _parse_params(_split_top_level(inner))
    return params, returns, exact and params_exact


def _parse_params(pieces: list[str]) -> tuple[list[Param], bool]:
    params: list[Param] = []
    exact = True
    kind = POSITIONAL_OR_KEYWORD
    seen_slash = seen_star = seen_varkw = False
    for piece in pieces:
        if seen_varkw:
            raise _Unparseable("parameters after **kwargs")
        if piece == "/":
            if seen_slash or seen_star or not params:
                raise _Unparseable("misplaced '/'")
            seen_slash = True
            params = [Param(p.name, POSITIONAL_ONLY, p.annotation, p.default, p.source_name,
                            p.raw_annotation, p.accepts) for p in params]
            continue
        if piece == "*":
            if seen_star:
                raise _Unparseable("two '*' markers")
            seen_star = True
            kind = KEYWORD_ONLY
            continue
        if piece in ("...", "…"):
            piece = "*args"
            exact = False
        star = len(piece) - len(piece.lstrip("*"))
        if star > 2:
            raise _Unparseable(f"bad parameter {piece!r}")
        body = piece[star:].strip()
        if star == 1:
            if seen_star:
                raise _Unparseable("two '*' markers")
            seen_star = True
            this_kind, kind = VAR_POSITIONAL, KEYWORD_ONLY
        elif star == 2:
            this_kind, seen_varkw = VAR_KEYWORD, True
        else:
            this_kind = kind
        param, ok = _parse_param(body, this_kind)
        exact = exact and ok
        params.append(param)
    names = [p.name for p in params]
    if len(set(names)) != len(names):
        raise _Unparseable("duplicate parameter names")
    # ``def f(a=1, b)`` is not Python: give the later positional parameters a default
    # (so the call stays permissive) rather than drop one the model may pass.
    fixed: list[Param] = []
    seen_default = False
    for p in params:
        if p.kind in (POSITIONAL_ONLY, POSITIONAL_OR_KEYWORD):
            if p.default is not None:
                seen_default = True
            elif seen_default:
                p = Param(p.name, p.kind, p.annotation, "None", p.source_name,
                          p.raw_annotation, p.accepts)
                exact = False
        fixed.append(p)
    return fixed, exact


_NAME_ANN = re.compile(r"^([A-Za-z_]\w*)\s*(\??)\s*(?::\s*(.*)|\((.*)\))?$", re.S)


def _parse_param(body: str, kind: inspect._ParameterKind) -> tuple[Param, bool]:
    exact = True
    default: str | None = None
    eq = _top_level_find(body, "=")
    if eq >= 0 and kind not in (VAR_POSITIONAL, VAR_KEYWORD):
        default = body[eq + 1:].strip()
        body = body[:eq].strip()
        if not default or not _is_expression(default):
            default, exact = "...", False
        else:
            default = " ".join(default.split()) if "\n" in default else default
    m = _NAME_ANN.match(body)
    if not m:
        raise _Unparseable(f"cannot read parameter {body!r}")
    source_name, optional, ann_colon, ann_paren = m.groups()
    raw_ann = ann_colon if ann_colon is not None else ann_paren
    raw_ann = " ".join(raw_ann.split()) if raw_ann else None
    if ann_paren is not None or optional:
        exact = False
    if optional and default is None and kind not in (VAR_POSITIONAL, VAR_KEYWORD):
        default = "None"  # TypeScript-style ``name?: type``
    name = source_name
    if keyword.iskeyword(name) or name in ("True", "False", "None"):
        name, exact = name + "_", False
    annotation = raw_ann if raw_ann and is_type_expression(raw_ann) else None
    if raw_ann and annotation is None:
        exact = False
    return Param(name, kind, annotation, default,
                 source_name if name != source_name else None, raw_ann,
                 accepted_types(raw_ann)), exact


# ---------------------------------------------------------------------- scanning
_OPEN = {"(": ")", "[": "]", "{": "}"}


def _scan(text: str):
    """Yield (index, char, depth) for characters outside string literals."""
    depth = 0
    quote: str | None = None
    i = 0
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\":
                i += 2
                continue
            if text.startswith(quote, i):
                i += len(quote)
                quote = None
                continue
            i += 1
            continue
        if ch in "\"'":
            quote = text[i:i + 3] if text[i:i + 3] in ('"""', "'''") else ch
            i += len(quote)
            continue
        if ch in _OPEN:
            depth += 1
        elif ch in ")]}":
            depth -= 1
            if depth < 0:
                yield i, ch, depth
                return
        yield i, ch, depth
        i += 1


def _matching_paren(s: str) -> int:
    for i, ch, depth in _scan(s):
        if ch == ")" and depth == 0:
            return i
    raise _Unparseable("unbalanced parentheses")


def _top_level_find(s: str, token: str) -> int:
    for i, _ch, depth in _scan(s):
        if depth != 0 or not s.startswith(token, i):
            continue
        if token == "=":
            if s[i - 1:i] in ("=", "!", "<", ">", ":") or s[i + 1:i + 2] == "=":
                continue
        return i
    return -1


def _split_top_level(s: str) -> list[str]:
    pieces: list[str] = []
    start = 0
    for i, ch, depth in _scan(s):
        if depth < 0:
            raise _Unparseable("unbalanced brackets")
        if ch == "," and depth == 0:
            pieces.append(s[start:i])
            start = i + 1
    pieces.append(s[start:])
    pieces = [p.strip() for p in pieces]
    if pieces and pieces[-1] == "":
        pieces.pop()  # a trailing comma
    if any(not p for p in pieces):
        raise _Unparseable("empty parameter")
    return pieces
