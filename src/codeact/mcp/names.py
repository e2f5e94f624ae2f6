"""MCP names as Python identifiers: one rule, used for tool and parameter names.

MCP tool names may be ``get-weather``, ``files.read`` or ``2fa_code``; in the code format
each tool is a Python function, so its name must be an identifier. The rule:

1. every character other than an ASCII letter, digit or ``_`` becomes ``_``;
2. a name that starts with a digit gets a leading ``_``;
3. a Python keyword (``class``), or, for tool names, a builtin (``print``, ``open``) or a
   name the kernel defines itself (``final_answer``), gets a trailing ``_``.

So ``get-weather`` is ``get_weather``, ``files.read`` is ``files_read`` and ``class`` is
``class_``. Two names that map to the same identifier are a load error
(:class:`~codeact.mcp.errors.MCPLoadError`), never a silent rename.
"""

from __future__ import annotations

import builtins
import keyword
import re
from collections.abc import Iterable

from codeact.mcp.errors import MCPLoadError
from codeact.tools import RESERVED_NAMES

_NOT_IDENT = re.compile(r"[^A-Za-z0-9_]")
_BUILTINS = frozenset(n for n in dir(builtins) if not n.startswith("_"))


def python_name(name: str, *, tool: bool = True) -> str:
    """The Python identifier for an MCP name (see the module docstring for the rule).

    ``tool=False`` (parameter names) leaves builtin names alone: a parameter called
    ``id`` or ``format`` shadows nothing a caller sees.
    """
    text = _NOT_IDENT.sub("_", name) or "_"
    if text[0].isdigit():
        text = "_" + text
    if keyword.iskeyword(text):
        text += "_"
    elif tool and (text in _BUILTINS or text in RESERVED_NAMES):
        text += "_"
    return text


def assign(names: Iterable[str], *, tool: bool = True, what: str = "tool",
           where: str = "") -> dict[str, str]:
    """Map each original name to its identifier; raise if two collide.

    ``what`` and ``where`` only shape the error message ("tool", "of server X").
    """
    result: dict[str, str] = {}
    taken: dict[str, str] = {}
    for original in names:
        py = python_name(original, tool=tool)
        if py in taken and taken[py] != original:
            suffix = f" {where}" if where else ""
            raise MCPLoadError(
                f"MCP {what}s {taken[py]!r} and {original!r}{suffix} both become the Python "
                f"name {py!r} (non-identifier characters map to '_'); rename one of them "
                "on the server, or leave one of the servers out")
        taken[py] = original
        result[original] = py
    return result
