"""JSON Schema to a Python signature and docstring, through codeact's own renderer.

An MCP tool describes its arguments with a JSON Schema object (``inputSchema``) and,
optionally, its structured result (``outputSchema``). This module turns them into a
:class:`codeact.tools.signatures.ToolSignature` (so the stub, the kernel-side function and the
json/text argument check are the ones every other tool gets) and the ``Args:`` /
``Returns:`` lines of the docstring.

Types: ``string`` → ``str``, ``integer`` → ``int``, ``number`` → ``float``, ``boolean`` →
``bool``, ``null`` → ``None``, ``array`` → ``list[...]``, ``object`` → ``dict`` (or
``dict[str, X]``), ``enum``/``const`` → ``Literal[...]``, a list of types or
``anyOf``/``oneOf`` → ``X | Y``, local ``$ref`` → the referenced schema. What cannot be
written as a Python type is left unannotated (the docstring still describes it).
Required properties come first, in schema order; optional ones default to the schema's
``default`` or to ``None`` (meaning "not sent").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from codeact.mcp.names import assign
from codeact.tools.signatures import (
    POSITIONAL_OR_KEYWORD,
    VAR_KEYWORD,
    Param,
    ToolSignature,
    accepted_types,
    is_type_expression,
)

_SIMPLE = {"string": "str", "integer": "int", "number": "float", "boolean": "bool",
           "null": "None"}
MAX_DEPTH = 6  # nested $ref / arrays deeper than this are left as their base type
MAX_DEFAULT = 80  # longer default values are shown as ``...``
MAX_LITERALS = 30  # longer enums are shown as their base type (the doc lists them)


@dataclass(frozen=True)
class ArgInfo:
    """One MCP argument: its wire name, Python name and what the callee needs to know."""

    name: str  # as the MCP server spells it
    python: str  # the parameter name in the stub
    required: bool
    nullable: bool  # the schema allows null, so None is sent rather than dropped


@dataclass(frozen=True)
class CallShape:
    """What the stub's parameters mean on the wire: positional order and None handling."""

    args: tuple[ArgInfo, ...]
    extra_kwargs: bool  # the schema allows properties it does not list (``**kwargs``)

    def arguments(self, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> dict[str, Any]:
        """The MCP ``arguments`` object for a call ``f(*args, **kwargs)``.

        Positional values take the stub's parameter order; keyword names may be the
        Python or the MCP spelling. ``None`` for an optional argument whose schema does
        not allow null means "leave it out".
        """
        if len(args) > len(self.args):
            raise TypeError(f"takes at most {len(self.args)} positional arguments "
                            f"({len(args)} given)")
        by_python = {a.python: a for a in self.args}
        by_name = {a.name: a for a in self.args}
        out: dict[str, Any] = {}
        for info, value in zip(self.args, args, strict=False):
            out[info.name] = value
        for key, value in kwargs.items():
            info = by_python.get(key) or by_name.get(key)
            if info is None:
                if not self.extra_kwargs:
                    raise TypeError(f"got an unexpected keyword argument {key!r}")
                out[key] = value
                continue
            if info.name in out:
                raise TypeError(f"got multiple values for argument {info.python!r}")
            out[info.name] = value
        missing = [a.python for a in self.args if a.required and a.name not in out]
        if missing:
            raise TypeError(f"missing required argument(s): {', '.join(map(repr, missing))}")
        for info in self.args:
            if out.get(info.name, 0) is None and not info.required and not info.nullable:
                del out[info.name]
        return out


class _Types:
    """Schema → type text, resolving local ``$ref``s against the root schema."""

    def __init__(self, root: Mapping[str, Any]) -> None:
        self.root = root

    def resolve(self, schema: Any, depth: int = 0) -> Mapping[str, Any]:
        while isinstance(schema, Mapping) and isinstance(schema.get("$ref"), str) and depth < 20:
            target = self._lookup(schema["$ref"])
            if target is None:
                return {}
            schema, depth = target, depth + 1
        return schema if isinstance(schema, Mapping) else {}

    def _lookup(self, ref: str) -> Mapping[str, Any] | None:
        if not ref.startswith("#"):
            return None
        node: Any = self.root
        for part in ref[1:].split("/"):
            if not part:
                continue
            part = part.replace("~1", "/").replace("~0", "~")
            if not isinstance(node, Mapping) or part not in node:
                return None
            node = node[part]
        return node if isinstance(node, Mapping) else None

    def text(self, schema: Any, depth: int = 0) -> str | None:
        """Python type text for ``schema``; None when unknown or unconstrained."""
        if depth > MAX_DEPTH:
            return None
        s = self.resolve(schema)
        if not s:
            return None
        if "const" in s:
            return _literal([s["const"]])
        if isinstance(s.get("enum"), list) and s["enum"]:
            lit = _literal(s["enum"]) if len(s["enum"]) <= MAX_LITERALS else None
            if lit is not None:
                return lit
        for key in ("anyOf", "oneOf"):
            if isinstance(s.get(key), list) and s[key]:
                return self._union([self.text(m, depth + 1) for m in s[key]])
        if isinstance(s.get("allOf"), list) and len(s["allOf"]) == 1:
            return self.text(s["allOf"][0], depth + 1)
        kind = s.get("type")
        if isinstance(kind, list):
            return self._union([self.text({**s, "type": k}, depth + 1) for k in kind])
        if kind in _SIMPLE:
            return _SIMPLE[kind]
        if kind == "array":
            items = s.get("items")
            inner = self.text(items, depth + 1) if isinstance(items, Mapping) else None
            return f"list[{inner}]" if inner else "list"
        if kind == "object" or "properties" in s:
            extra = s.get("additionalProperties")
            if isinstance(extra, Mapping) and not s.get("properties"):
                inner = self.text(extra, depth + 1)
                if inner:
                    return f"dict[str, {inner}]"
            return "dict"
        return None

    @staticmethod
    def _union(parts: list[str | None]) -> str | None:
        if not parts or any(p is None for p in parts):
            return None
        seen: list[str] = []
        for p in parts:
            for piece in _split_union(p or ""):
                if piece not in seen:
                    seen.append(piece)
        if "None" in seen:  # ``X | None`` reads best with None last
            seen.remove("None")
            seen.append("None")
        return " | ".join(seen)

    def describe(self, schema: Any, depth: int = 0) -> str:
        """A short phrase for the docstring: keys of objects, allowed values, bounds."""
        s = self.resolve(schema)
        bits: list[str] = []
        if isinstance(s.get("enum"), list) and len(s["enum"]) > MAX_LITERALS:
            bits.append("one of " + ", ".join(map(repr, s["enum"][:MAX_LITERALS])) + ", ...")
        props = s.get("properties")
        if isinstance(props, Mapping) and props and depth < 2:
            required = set(s.get("required") or ())
            keys = []
            for key, sub in list(props.items())[:20]:
                t = self.text(sub, depth + 1) or "any"
                keys.append(f"{key}{'' if key in required else '?'}: {t}")
            bits.append("keys " + "{" + ", ".join(keys) + "}")
        if s.get("type") == "array" and isinstance(s.get("items"), Mapping):
            inner = self.describe(s["items"], depth + 1)
            if inner:
                bits.append(f"items: {inner}")
        for key, word in (("minimum", ">="), ("exclusiveMinimum", ">"), ("maximum", "<="),
                          ("exclusiveMaximum", "<")):
            if isinstance(s.get(key), int | float) and not isinstance(s.get(key), bool):
                bits.append(f"{word} {s[key]}")
        for key in ("format", "pattern", "minLength", "maxLength", "minItems", "maxItems"):
            if key in s and isinstance(s[key], str | int) and not isinstance(s[key], bool):
                bits.append(f"{key} {s[key]}")
        return "; ".join(bits)


def _split_union(text: str) -> list[str]:
    depth, start, out = 0, 0, []
    for i, ch in enumerate(text):
        if ch in "[(":
            depth += 1
        elif ch in "])":
            depth -= 1
        elif ch == "|" and depth == 0:
            out.append(text[start:i].strip())
            start = i + 1
    out.append(text[start:].strip())
    return [p for p in out if p]


def _literal(values: list[Any]) -> str | None:
    if not all(v is None or isinstance(v, str | int | bool) and not isinstance(v, float)
               for v in values):
        return None
    parts = [repr(v) for v in values if v is not None]
    text = f"Literal[{', '.join(parts)}]" if parts else "None"
    if parts and any(v is None for v in values):
        text += " | None"
    return text


def _default_text(value: Any) -> str:
    """A schema default as a Python literal (JSON values are Python literals too)."""
    text = repr(value)
    if len(text) > MAX_DEFAULT:
        return "..."
    return text


def _allows_null(types: _Types, schema: Any) -> bool:
    s = types.resolve(schema)
    kind = s.get("type")
    if kind == "null" or isinstance(kind, list) and "null" in kind:
        return True
    if isinstance(s.get("enum"), list) and None in s["enum"]:
        return True
    return any(_allows_null(types, m) for key in ("anyOf", "oneOf")
               for m in (s.get(key) or []) if isinstance(m, Mapping))


def build_signature(input_schema: Mapping[str, Any] | None, *, tool: str = ""
                    ) -> tuple[ToolSignature, CallShape, list[str]]:
    """The stub signature, the call shape and the docstring's ``Args:`` lines.

    Raises :class:`~codeact.mcp.errors.MCPLoadError` when two argument names map to the
    same identifier.
    """
    schema = input_schema if isinstance(input_schema, Mapping) else {}
    types = _Types(schema)
    schema = types.resolve(schema) or {}
    props = schema.get("properties")
    props = props if isinstance(props, Mapping) else {}
    required = [r for r in (schema.get("required") or []) if isinstance(r, str) and r in props]
    order = required + [k for k in props if k not in required]
    names = assign(order, tool=False, what="argument", where=f"of tool {tool!r}" if tool else "")
    params: list[Param] = []
    infos: list[ArgInfo] = []
    doc: list[str] = []
    for key in order:
        sub = props[key]
        py = names[key]
        ann = types.text(sub)
        if ann is not None and not is_type_expression(ann):
            ann = None
        is_required = key in required
        default = None
        if not is_required:
            s = types.resolve(sub)
            default = _default_text(s["default"]) if "default" in s else "None"
        params.append(Param(py, POSITIONAL_OR_KEYWORD, ann, default,
                            source_name=key if key != py else None,
                            accepts=accepted_types(ann)))
        infos.append(ArgInfo(key, py, is_required, _allows_null(types, sub)))
        line = _arg_line(types, py, key, sub, is_required)
        if line:
            doc.append(line)
    extra = schema.get("additionalProperties")
    extra_kwargs = extra is True or isinstance(extra, Mapping) and bool(extra)
    if extra_kwargs:
        kw = "kwargs" if "kwargs" not in names.values() else "extra"
        ann = types.text(extra) if isinstance(extra, Mapping) else None
        params.append(Param(kw, VAR_KEYWORD, ann if ann and is_type_expression(ann) else None))
    sig = ToolSignature(tuple(params), None, None, exact=True)
    try:  # the same checks ``def`` makes: never hand the kernel a stub it cannot define
        sig.to_inspect()
        compile(f"def _f{sig.text}: pass", "<mcp signature>", "exec")
    except (SyntaxError, ValueError):
        plain = tuple(Param(p.name, p.kind, None, "None" if p.default else None,
                            p.source_name) for p in params)
        sig = ToolSignature(plain, None, None, exact=True)
    return sig, CallShape(tuple(infos), extra_kwargs), doc


def _arg_line(types: _Types, py: str, key: str, sub: Any, required: bool) -> str:
    s = types.resolve(sub)
    parts: list[str] = []
    desc = s.get("description") or (sub.get("description") if isinstance(sub, Mapping) else "")
    if isinstance(desc, str) and desc.strip():
        parts.append(" ".join(desc.split()))
    extra = types.describe(sub)
    if extra:
        parts.append(f"({extra})")
    if py != key:
        parts.append(f"(MCP name {key!r})")
    if not parts:
        return ""
    return f"{py}: {' '.join(parts)}"


def _is_wrapped(output_schema: Mapping[str, Any]) -> bool:
    """True for the ``{"result": X}`` wrapper that SDK servers put around a non-object
    result (structured content must be an object)."""
    if output_schema.get("x-fastmcp-wrap-result"):
        return True
    props = output_schema.get("properties")
    return (isinstance(props, Mapping) and list(props) == ["result"]
            and list(output_schema.get("required") or []) == ["result"])


def returns(output_schema: Mapping[str, Any] | None) -> tuple[str | None, bool, str]:
    """``(annotation, unwrap, doc)`` for a tool's ``outputSchema``.

    ``unwrap``: the result object is a ``{"result": X}`` wrapper, so ``X`` is returned.
    """
    if not isinstance(output_schema, Mapping) or not output_schema:
        return None, False, ""
    types = _Types(output_schema)
    unwrap = _is_wrapped(types.resolve(output_schema))
    schema = types.resolve(output_schema)
    target = schema["properties"]["result"] if unwrap else schema
    ann = types.text(target)
    if ann is not None and not is_type_expression(ann):
        ann = None
    t = types.resolve(target)
    desc = t.get("description") if isinstance(t.get("description"), str) else ""
    extra = types.describe(target)
    bits = [b for b in (" ".join(desc.split()) if desc else "", f"({extra})" if extra else "")
            if b]
    doc = f"Returns: {ann or 'a JSON value'} {' '.join(bits)}" if bits else ""
    return ann, unwrap, doc
