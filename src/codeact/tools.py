"""Tools: host-side Python callables that the agent can use.

A Tool carries what every action format needs: a name, a signature string and a
description for the prompt, argument validation for the json/text formats, and the
callable itself (run in the host, or shipped into the kernel when marked ``pure``).
"""

from __future__ import annotations

import importlib
import inspect
import textwrap
import types
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, get_type_hints


class ToolArgumentError(ValueError):
    """Arguments given to a tool do not fit its signature; the message says why."""


class ToolLoadError(ValueError):
    """A ``module:attr`` tool spec could not be loaded."""


_PY_TYPES: dict[str, type | tuple[type, ...]] = {
    "int": int,
    "float": (int, float),
    "str": str,
    "bool": bool,
    "list": list,
    "dict": dict,
}


@dataclass
class Tool:
    """A callable plus what a model needs to know to call it.

    ``pure`` tools have no host state and need nothing outside the sandbox: their
    source is shipped into the kernel and called there, skipping the bridge round trip.
    """

    name: str
    fn: Callable[..., Any]
    description: str = ""
    signature: str = "(*args)"
    pure: bool = False
    _sig: inspect.Signature | None = field(default=None, repr=False)

    @classmethod
    def from_function(
        cls,
        fn: Callable[..., Any],
        *,
        name: str | None = None,
        description: str | None = None,
        pure: bool = False,
    ) -> Tool:
        """Build a tool from a function's own name, signature and docstring."""
        try:
            sig = inspect.signature(fn)
        except (TypeError, ValueError):
            sig = None
        doc = description if description is not None else inspect.getdoc(fn) or ""
        return cls(
            name=name or getattr(fn, "__name__", "tool"),
            fn=fn,
            description=doc.strip(),
            signature=_render_signature(fn, sig) if sig is not None else "(*args)",
            pure=pure,
            _sig=sig,
        )

    @classmethod
    def from_spec(
        cls,
        name: str,
        fn: Callable[..., Any],
        description: str,
        signature: str | None = None,
    ) -> Tool:
        """Wrap a third-party callable whose signature and docs come as strings."""
        try:
            sig = inspect.signature(fn)
        except (TypeError, ValueError):
            sig = None
        if signature is None:
            signature = _render_signature(fn, sig) if sig is not None else "(*args)"
        signature = signature.strip()
        if not signature.startswith("("):
            signature = f"({signature})"
        return cls(name=name, fn=fn, description=description.strip(), signature=signature,
                   _sig=sig)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.fn(*args, **kwargs)

    def python_stub(self) -> str:
        """The tool as a Python ``def`` with its docstring, as shown in prompts."""
        doc = self.description or "No description."
        body = textwrap.indent(f'"""{_escape_doc(doc)}"""', "    ")
        return f"def {self.name}{self.signature}:\n{body}"

    def source(self) -> str:
        """Source code of a pure tool, for shipping into the kernel."""
        if not self.pure:
            raise ValueError(f"tool {self.name!r} is not marked pure")
        src = textwrap.dedent(inspect.getsource(self.fn))
        lines = [ln for ln in src.splitlines() if not ln.lstrip().startswith("@")]
        src = "\n".join(lines) + "\n"
        fn_name = getattr(self.fn, "__name__", self.name)
        if fn_name != self.name:
            src += f"{self.name} = {fn_name}\n"
        return src

    def bind(self, arguments: Any) -> tuple[tuple[Any, ...], dict[str, Any]]:
        """Validate arguments from a json/text action and return (args, kwargs).

        ``arguments`` is a dict (keyword arguments), a list (positional), or a single
        value (one positional argument).
        """
        if isinstance(arguments, Mapping):
            args: tuple[Any, ...] = ()
            kwargs = dict(arguments)
        elif isinstance(arguments, list | tuple):
            args, kwargs = tuple(arguments), {}
        elif arguments is None:
            args, kwargs = (), {}
        else:
            args, kwargs = (arguments,), {}
        if self._sig is None:
            return args, kwargs
        try:
            bound = self._sig.bind(*args, **kwargs)
        except TypeError as exc:
            raise ToolArgumentError(
                f"{self.name}{self.signature}: {exc}"
            ) from None
        hints = _safe_hints(self.fn)
        for pname, value in bound.arguments.items():
            param = self._sig.parameters[pname]
            if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
                continue
            expected = hints.get(pname)
            coerced = _coerce(value, expected)
            if coerced is _MISMATCH:
                tname = getattr(expected, "__name__", str(expected))
                raise ToolArgumentError(
                    f"{self.name}: argument {pname!r} must be {tname}, "
                    f"got {type(value).__name__} {value!r}"
                )
            bound.arguments[pname] = coerced
        return bound.args, bound.kwargs

    def invoke(self, arguments: Any) -> Any:
        """Validate ``arguments`` then call the tool in this process."""
        args, kwargs = self.bind(arguments)
        return self.fn(*args, **kwargs)


_MISMATCH = object()


def _coerce(value: Any, expected: Any) -> Any:
    """Accept a value for a simple annotated type, converting obvious strings."""
    if expected is None or expected is inspect.Parameter.empty or expected is Any:
        return value
    if not isinstance(expected, type):
        return value  # unions, generics: trust the tool to complain
    if expected is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        return _MISMATCH
    if expected is float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):
            try:
                return float(value.strip())
            except ValueError:
                return _MISMATCH
        return _MISMATCH
    if expected is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str):
            try:
                return int(value.strip())
            except ValueError:
                return _MISMATCH
        return _MISMATCH
    if expected is str:
        if isinstance(value, str):
            return value
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
        return _MISMATCH
    if isinstance(value, expected):
        return value
    return _MISMATCH


def _safe_hints(fn: Callable[..., Any]) -> dict[str, Any]:
    try:
        return get_type_hints(fn)
    except Exception:
        return {}


def _render_signature(fn: Callable[..., Any], sig: inspect.Signature) -> str:
    """Render a signature with readable annotations (``int``, not ``<class 'int'>``)."""
    hints = _safe_hints(fn)
    params = []
    for p in sig.parameters.values():
        ann = hints.get(p.name, p.annotation)
        ann_s = _type_name(ann) if ann is not inspect.Parameter.empty else ""
        prefix = {p.VAR_POSITIONAL: "*", p.VAR_KEYWORD: "**"}.get(p.kind, "")
        text = prefix + p.name + (f": {ann_s}" if ann_s else "")
        if p.default is not inspect.Parameter.empty:
            text += (" = " if ann_s else "=") + repr(p.default)
        params.append((p.kind, text))
    parts: list[str] = []
    seen_kw_only = False
    for i, (kind, text) in enumerate(params):
        if kind == inspect.Parameter.KEYWORD_ONLY and not seen_kw_only:
            if not any(k == inspect.Parameter.VAR_POSITIONAL for k, _ in params[:i]):
                parts.append("*")
            seen_kw_only = True
        parts.append(text)
        if kind == inspect.Parameter.POSITIONAL_ONLY and (
            i + 1 == len(params) or params[i + 1][0] != inspect.Parameter.POSITIONAL_ONLY
        ):
            parts.append("/")
    ret = hints.get("return", sig.return_annotation)
    ret_s = f" -> {_type_name(ret)}" if ret is not inspect.Signature.empty else ""
    return f"({', '.join(parts)}){ret_s}"


def _type_name(ann: Any) -> str:
    if ann is None or ann is type(None):
        return "None"
    if isinstance(ann, type) and not isinstance(ann, types.GenericAlias):
        return ann.__name__
    text = str(ann).replace("typing.", "")
    return text


def _escape_doc(doc: str) -> str:
    return doc.replace('"""', r"\"\"\"")


def tool(fn: Callable[..., Any] | None = None, *, name: str | None = None,
         pure: bool = False) -> Any:
    """Decorator: ``@tool`` or ``@tool(pure=True)`` turns a function into a Tool."""

    def wrap(f: Callable[..., Any]) -> Tool:
        return Tool.from_function(f, name=name, pure=pure)

    return wrap(fn) if fn is not None else wrap


def as_tools(items: Iterable[Any]) -> list[Tool]:
    """Normalise a mix of Tools and plain callables into Tools with unique names."""
    result: list[Tool] = []
    seen: set[str] = set()
    for item in items:
        t = item if isinstance(item, Tool) else Tool.from_function(item)
        if t.name in seen:
            raise ToolLoadError(f"two tools are named {t.name!r}")
        if not t.name.isidentifier():
            raise ToolLoadError(f"tool name {t.name!r} is not a Python identifier")
        seen.add(t.name)
        result.append(t)
    return result


def load_tools(spec: str) -> list[Tool]:
    """Load tools from ``module:attr`` (a list, a Tool, a function) or ``module``.

    A bare module contributes every Tool defined at its top level.
    """
    module_name, _, attr = spec.partition(":")
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:
        raise ToolLoadError(f"cannot import tools module {module_name!r}: {exc}") from None
    if not attr:
        found = [v for v in vars(module).values() if isinstance(v, Tool)]
        if not found:
            raise ToolLoadError(f"module {module_name!r} defines no @tool functions")
        return as_tools(found)
    if not hasattr(module, attr):
        raise ToolLoadError(f"module {module_name!r} has no attribute {attr!r}")
    obj = getattr(module, attr)
    if isinstance(obj, Tool) or callable(obj) and not isinstance(obj, Sequence):
        return as_tools([obj])
    if isinstance(obj, Sequence | set | tuple):
        return as_tools(obj)
    if isinstance(obj, Mapping):
        return as_tools(Tool.from_function(v, name=k) if not isinstance(v, Tool) else v
                        for k, v in obj.items())
    raise ToolLoadError(f"{spec!r} is not a tool, a function or a list of them")
