"""The tool model: a tool is a Python function plus its signature.

``model`` holds :class:`Tool` (from a function, a decorator, or a third-party spec with a
signature string), ``signatures`` parses loose signature strings once and renders valid
Python stubs from them (``signature_model``: the data model; ``signature_types``: type
names), so the same tool looks the same in the code prompt, in json/text listings and in
the kernel.
"""

from __future__ import annotations

from codeact.tools.model import (
    RESERVED_NAMES,
    Tool,
    ToolArgumentError,
    ToolLoadError,
    as_tools,
    load_tools,
    tool,
)

__all__ = ["RESERVED_NAMES", "Tool", "ToolArgumentError", "ToolLoadError", "as_tools",
           "load_tools", "tool"]
