"""Sandboxed, persistent Python execution: Jupyter kernels under bubblewrap.

>>> from codeact.runtime import Session
>>> with Session() as s:
...     s.execute("x = 1 + 1")
...     s.execute("x").result
'2'

Names are imported on first use, so a light submodule (``runtime.workspace``, used by
the server) does not pull in zmq and jupyter_client.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from . import selftest
    from .manager import SessionLimitError, SessionManager, SyncSessionManager
    from .observation import ExecutionError, Observation
    from .sandboxes.base import SandboxConfig, SandboxUnavailable
    from .sandboxes.bwrap import check_bwrap
    from .session import Session

__all__ = [
    "ExecutionError",
    "Observation",
    "SandboxConfig",
    "SandboxUnavailable",
    "Session",
    "SessionLimitError",
    "SessionManager",
    "SyncSessionManager",
    "check_bwrap",
    "selftest",
]

_WHERE = {
    "ExecutionError": "observation", "Observation": "observation",
    "SandboxConfig": "sandboxes.base", "SandboxUnavailable": "sandboxes.base",
    "check_bwrap": "sandboxes.bwrap",
    "Session": "session",
    "SessionLimitError": "manager", "SessionManager": "manager",
    "SyncSessionManager": "manager",
}


def __getattr__(name: str) -> Any:
    if name == "selftest":
        return importlib.import_module(f"{__name__}.selftest")
    where = _WHERE.get(name)
    if where is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{where}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
