"""The text of type annotations: is it a Python type expression, and which values fit.

Loose specs write ``int/float``, ``list of str``, ``int or float``; real functions carry
annotation objects. Both are reduced here to the value types a json/text argument may
have (for coercion) and to text that is valid in a rendered ``def``.
"""

from __future__ import annotations

import ast
import inspect
import re
import types
import typing
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["accepted_types", "is_type_expression", "type_name", "types_of"]

_EMPTY = inspect.Parameter.empty

# Type names as they appear in loose specs -> the Python types a value may have.
_TYPE_WORDS: dict[str, tuple[type, ...]] = {
    "int": (int,), "integer": (int,), "float": (float, int), "number": (float, int),
    "double": (float, int), "str": (str,), "string": (str,), "bool": (bool,),
    "boolean": (bool,), "list": (list,), "List": (list,), "array": (list,),
    "Sequence": (list,), "tuple": (list,), "Tuple": (list,), "set": (list,),
    "dict": (dict,), "Dict": (dict,), "Mapping": (dict,),
    "None": (type(None),), "NoneType": (type(None),), "null": (type(None),),
}


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
    if annotation is _EMPTY or annotation is Any:
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
