"""codeact: LLM agents that act by writing Python code run in a sandboxed Jupyter kernel.

The public API, importable from here::

    from codeact import Agent, tool, make_llm, Session, SandboxConfig, Trajectory

Names are loaded on first use (module ``__getattr__``), so ``import codeact`` stays cheap
and never pulls in an inference backend (torch, llama.cpp) or the kernel machinery.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name -> the module that defines it (imported when the name is first used)
_EXPORTS: dict[str, str] = {
    "Agent": "codeact.agent",
    "CodeactError": "codeact.errors",
    "SandboxConfig": "codeact.runtime",
    "Session": "codeact.runtime",
    "Trajectory": "codeact.trajectory",
    "make_llm": "codeact.llm",
    "tool": "codeact.tools",
}

__all__ = [
    "Agent",
    "CodeactError",
    "SandboxConfig",
    "Session",
    "Trajectory",
    "__version__",
    "make_llm",
    "tool",
]

if TYPE_CHECKING:
    from codeact.agent import Agent
    from codeact.errors import CodeactError
    from codeact.llm import make_llm
    from codeact.runtime import SandboxConfig, Session
    from codeact.tools import tool
    from codeact.trajectory import Trajectory


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})
