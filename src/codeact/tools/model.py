"""Tools: host-side Python callables that the agent can use.

A Tool carries what every action format needs: a name, a signature string and a
description for the prompt, argument validation for the json/text formats, and the
callable itself (run in the host, or shipped into the kernel when marked ``pure``).
"""

from __future__ import annotations

import ast
import importlib
import inspect
import json
import keyword
import textwrap
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, get_type_hints

from codeact.errors import CodeactError
from codeact.syntax import LITERAL_ERRORS
from codeact.tools.signatures import (
    VAR_KEYWORD,
    VAR_POSITIONAL,
    ToolSignature,
    from_inspect,
    parse_signature,
)


class ToolArgumentError(CodeactError, ValueError):
    """Arguments given to a tool do not fit its signature; the message says why."""


class ToolLoadError(CodeactError, ValueError):
    """A ``module:attr`` tool spec could not be loaded."""


RESERVED_NAMES = frozenset({"final_answer"})  # defined by the kernel itself


@dataclass
class Tool:
    """A callable plus what a model needs to know to call it.

    ``signature`` may be given as loose text (``"f(x: int) -> int/float"``); it is parsed
    once (:mod:`codeact.tools.signatures`) and this attribute then holds the valid Python
    rendering, the one every prompt format shows and every call is checked against.
    ``pure`` tools have no host state and need nothing outside the sandbox: their
    source is shipped into the kernel and called there, skipping the bridge round trip.
    """

    name: str
    fn: Callable[..., Any]
    description: str = ""
    signature: str = "(*args, **kwargs)"
    pure: bool = False
    _sig: ToolSignature | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self._sig is None:
            self._sig = parse_signature(self.signature)
        self.signature = self._sig.text

    @property
    def parsed_signature(self) -> ToolSignature:
        """The parsed signature behind stubs, the kernel-side function and ``bind``."""
        assert self._sig is not None
        return self._sig

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
        doc = description if description is not None else inspect.getdoc(fn) or ""
        return cls(name=name or getattr(fn, "__name__", "tool"), fn=fn,
                   description=doc.strip(), pure=pure, _sig=_function_signature(fn))

    @classmethod
    def from_spec(
        cls,
        name: str,
        fn: Callable[..., Any],
        description: str,
        signature: str | None = None,
    ) -> Tool:
        """Wrap a third-party callable whose signature and docs come as strings.

        The signature may include the function's name, leave out the parentheses or
        use non-Python type names; without one, the callable's own is used.
        """
        if signature is not None and not isinstance(signature, str):
            raise ToolLoadError(f"tool {name!r}: the signature must be a string, got "
                                f"{type(signature).__name__}")
        sig = (parse_signature(signature) if signature and signature.strip()
               else _function_signature(fn))
        return cls(name=name, fn=fn, description=(description or "").strip(), _sig=sig)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.fn(*args, **kwargs)

    def doc(self) -> str:
        """The description, plus the signature as the spec wrote it when the rendered
        one had to differ (e.g. a non-Python type name was left out)."""
        doc = self.description or "No description."
        note = self.parsed_signature.note(self.name)
        return f"{doc}\n\n{note}" if note else doc

    def python_stub(self) -> str:
        """The tool as a Python ``def`` with its docstring, as shown in prompts."""
        body = textwrap.indent(_docstring(self.doc()), "    ")
        return f"def {self.name}{self.signature}:\n{body}"

    def listing(self) -> str:
        """The tool as a list entry (json/text formats): signature line, indented doc."""
        doc = self.doc().strip().replace("\n", "\n    ")
        return f"- {self.name}{self.signature}\n    {doc}"

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
        value (one positional argument). Values are checked and obvious strings
        converted ("3" for an int) against the parsed signature's types.
        """
        kwargs: dict[str, Any]
        if isinstance(arguments, Mapping):
            args: tuple[Any, ...] = ()
            kwargs = dict(arguments)
        elif isinstance(arguments, list | tuple):
            args, kwargs = tuple(arguments), {}
        elif arguments is None:
            args, kwargs = (), {}
        else:
            args, kwargs = (arguments,), {}
        sig = self.parsed_signature
        by_name = {p.name: p for p in sig.params}
        renamed = {p.source_name: p.name for p in sig.params if p.source_name}
        kwargs = {renamed.get(k, k): v for k, v in kwargs.items()}
        try:
            bound = sig.to_inspect().bind(*args, **kwargs)
        except TypeError as exc:
            raise ToolArgumentError(f"{self.name}{self.signature}: {exc}") from None
        for pname, value in bound.arguments.items():
            param = by_name[pname]
            if param.kind == VAR_POSITIONAL:
                bound.arguments[pname] = tuple(
                    self._coerce(pname, v, param.accepts, f"{pname}[{i}]")
                    for i, v in enumerate(value))
            elif param.kind == VAR_KEYWORD:
                bound.arguments[pname] = {k: self._coerce(k, v, param.accepts, k)
                                          for k, v in value.items()}
            elif not (value is None and param.default == "None"):
                bound.arguments[pname] = self._coerce(pname, value, param.accepts, pname)
        out_kwargs = {by_name[k].source_name or k if k in by_name else k: v
                      for k, v in bound.kwargs.items()}
        return bound.args, out_kwargs

    def _coerce(self, pname: str, value: Any, accepts: tuple[type, ...] | None,
                label: str) -> Any:
        if accepts is None:
            return value
        coerced = _coerce(value, accepts)
        if coerced is _MISMATCH:
            tname = " or ".join(t.__name__ if t is not type(None) else "None"
                                for t in accepts)
            raise ToolArgumentError(
                f"{self.name}: argument {label!r} must be {tname}, "
                f"got {type(value).__name__} {value!r}"
            )
        return coerced

    def invoke(self, arguments: Any) -> Any:
        """Validate ``arguments`` then call the tool in this process."""
        args, kwargs = self.bind(arguments)
        return self.fn(*args, **kwargs)


_MISMATCH = object()


def _coerce(value: Any, accepts: tuple[type, ...]) -> Any:
    """Accept a value for the allowed types, converting obvious strings and numbers."""
    for t in accepts:
        if t is bool and isinstance(value, bool) or t is type(None) and value is None:
            return value
        if t is not bool and isinstance(value, t) and not isinstance(value, bool):
            return value
    for t in accepts:
        coerced = _coerce_one(value, t)
        if coerced is not _MISMATCH:
            return coerced
    return _MISMATCH


def _coerce_one(value: Any, expected: type) -> Any:
    if expected is bool:
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        return _MISMATCH
    if isinstance(value, bool):
        return _MISMATCH
    if expected is float:
        if isinstance(value, int):
            return float(value)
        if isinstance(value, str):
            try:
                return float(value.strip())
            except ValueError:
                return _MISMATCH
        return _MISMATCH
    if expected is int:
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str):
            try:
                return int(value.strip())
            except ValueError:
                return _MISMATCH
        return _MISMATCH
    if expected is str:
        if isinstance(value, int | float):
            return str(value)
        return _MISMATCH
    if expected in (list, dict):
        if expected is list and isinstance(value, tuple | set | frozenset):
            return list(value)
        if isinstance(value, str):
            try:
                parsed = json.loads(value)
            except (ValueError, RecursionError):
                try:
                    parsed = ast.literal_eval(value.strip())
                except LITERAL_ERRORS:
                    return _MISMATCH
            if expected is list and isinstance(parsed, tuple):
                parsed = list(parsed)
            return parsed if isinstance(parsed, expected) else _MISMATCH
    return _MISMATCH


def _safe_hints(fn: Callable[..., Any]) -> dict[str, Any]:
    try:
        return get_type_hints(fn)
    except Exception:
        return {}


def _function_signature(fn: Callable[..., Any]) -> ToolSignature:
    """A real callable's signature; ``(*args, **kwargs)`` when it has none to read."""
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return parse_signature("(*args, **kwargs)")
    return from_inspect(sig, _safe_hints(fn))


def _docstring(doc: str) -> str:
    """A docstring literal that keeps the stub valid Python whatever the text holds
    (raw when it has backslashes, so the model reads them as written)."""
    if "\\" in doc and '"""' not in doc and not doc.endswith(("\\", '"')):
        return f'r"""{doc}"""'
    doc = doc.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    if doc.endswith('"'):
        doc = doc[:-1] + '\\"'
    return f'"""{doc}"""'


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
        if not t.name.isidentifier() or keyword.iskeyword(t.name):
            raise ToolLoadError(f"tool name {t.name!r} is not a Python identifier")
        if t.name in RESERVED_NAMES:
            raise ToolLoadError(
                f"a tool may not be named {t.name!r}: the code format's kernel defines "
                f"{t.name}(value) itself, to end the run with an answer; rename the tool")
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
