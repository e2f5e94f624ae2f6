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
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

P = inspect.Parameter
POSITIONAL_ONLY = P.POSITIONAL_ONLY
POSITIONAL_OR_KEYWORD = P.POSITIONAL_OR_KEYWORD
VAR_POSITIONAL = P.VAR_POSITIONAL
KEYWORD_ONLY = P.KEYWORD_ONLY
VAR_KEYWORD = P.VAR_KEYWORD

_KIND_CODES = {POSITIONAL_ONLY: 0, POSITIONAL_OR_KEYWORD: 1, VAR_POSITIONAL: 2,
               KEYWORD_ONLY: 3, VAR_KEYWORD: 4}

# Type names as they appear in loose specs -> the Python types a value may have.
_TYPE_WORDS: dict[str, tuple[type, ...]] = {
    "int": (int,), "integer": (int,), "float": (float, int), "number": (float, int),
    "double": (float, int), "str": (str,), "string": (str,), "bool": (bool,),
    "boolean": (bool,), "list": (list,), "List": (list,), "array": (list,),
    "Sequence": (list,), "tuple": (list,), "Tuple": (list,), "set": (list,),
    "dict": (dict,), "Dict": (dict,), "Mapping": (dict,),
    "None": (type(None),), "NoneType": (type(None),), "null": (type(None),),
}


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


# ---------------------------------------------------------------------- type text
def is_type_expression(text: str) -> bool:
    """True for text that is a Python type expression (``int``, ``list[str]``,
    ``str | None``, ``Callable[[int], str]``), False for ``int/float``,
    ``list of str``, ``int or float`` and anything that is not valid Python."""
    try:
        node = ast.parse(text.strip(), mode="eval").body
    except (SyntaxError, ValueError, RecursionError):
        return False
    return _type_node(node)


def _type_node(node: ast.AST, in_subscript: bool = False) -> bool:
    if isinstance(node, ast.Name):
        return True
    if isinstance(node, ast.Attribute):
        return _type_node(node.value)
    if isinstance(node, ast.Constant):
        if node.value is None or node.value is Ellipsis:
            return True
        if isinstance(node.value, str):  # a forward reference "Foo" or a Literal value
            return in_subscript or is_type_expression(node.value)
        return in_subscript  # Literal[1, True]
    if isinstance(node, ast.Subscript):
        return _type_node(node.value) and _type_node(node.slice, True)
    if isinstance(node, ast.Tuple | ast.List):
        return in_subscript and all(_type_node(e, True) for e in node.elts)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return _type_node(node.left) and _type_node(node.right)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return in_subscript and isinstance(node.operand, ast.Constant)  # Literal[-1]
    return False


def accepted_types(text: str | None) -> tuple[type, ...] | None:
    """The value types an annotation's text allows, for coercing json/text arguments;
    None when unknown (then any value is passed through). Understands Python type
    expressions and the loose forms ``int/float``, ``int or float``, ``list of str``."""
    if not text:
        return None
    text = text.strip()
    m = re.fullmatch(r"(?:an?\s+)?(list|array|sequence|set|tuple)\s+of\s+.+", text, re.I)
    if m:
        return (list,)
    if is_type_expression(text):
        return _node_types(ast.parse(text, mode="eval").body)
    parts = re.split(r"\s*(?:/|\bor\b|\|)\s*", text)
    if len(parts) > 1:
        found: list[type] = []
        for part in parts:
            sub = accepted_types(part)
            if sub is None:
                return None
            found.extend(t for t in sub if t not in found)
        return tuple(found)
    return None


def _node_types(node: ast.AST) -> tuple[type, ...] | None:
    if isinstance(node, ast.Constant):
        if node.value is None:
            return (type(None),)
        return accepted_types(node.value) if isinstance(node.value, str) else None
    if isinstance(node, ast.BinOp):
        left, right = _node_types(node.left), _node_types(node.right)
        if left is None or right is None:
            return None
        return left + tuple(t for t in right if t not in left)
    if isinstance(node, ast.Subscript):
        base = _dotted(node.value)
        if base in ("Optional", "typing.Optional"):
            inner = _node_types(node.slice)
            return None if inner is None else inner + (type(None),)
        if base in ("Union", "typing.Union"):
            elts = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
            found: list[type] = []
            for e in elts:
                sub = _node_types(e)
                if sub is None:
                    return None
                found.extend(t for t in sub if t not in found)
            return tuple(found)
        return _node_types(node.value)  # list[int] -> list
    name = _dotted(node)
    if name is None:
        return None
    short = name.rsplit(".", 1)[-1] if name.startswith("typing.") else name
    return _TYPE_WORDS.get(short)


def _dotted(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return None if base is None else f"{base}.{node.attr}"
    return None


def types_of(annotation: Any) -> tuple[type, ...] | None:
    """The value types a real annotation object allows (``int``, ``list[str]``,
    ``Optional[float]``); None when unknown or unconstrained."""
    if annotation is P.empty or annotation is Any:
        return None
    if annotation is None or annotation is type(None):
        return (type(None),)
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        found: list[type] = []
        for arg in typing.get_args(annotation):
            sub = types_of(arg)
            if sub is None:
                return None
            found.extend(t for t in sub if t not in found)
        return tuple(found)
    if origin is not None:
        annotation = origin
    if isinstance(annotation, str):
        return accepted_types(annotation)
    if annotation is float:
        return (float, int)
    if isinstance(annotation, type):
        if annotation in (tuple, set, frozenset) or (
                issubclass(annotation, Sequence) and not issubclass(annotation, str | bytes)):
            return (list,)
        if issubclass(annotation, Mapping):
            return (dict,)
        return (annotation,)
    return None


def type_name(annotation: Any) -> str:
    """Readable source text for a real annotation (``int``, not ``<class 'int'>``)."""
    if annotation is None or annotation is type(None):
        return "None"
    if isinstance(annotation, str):
        return annotation
    if isinstance(annotation, type) and not isinstance(annotation, types.GenericAlias):
        return annotation.__name__
    return str(annotation).replace("typing.", "")


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
