"""Sandboxed, persistent Python execution: Jupyter kernels under bubblewrap.

>>> from codeact.runtime import Session
>>> with Session() as s:
...     s.execute("x = 1 + 1")
...     s.execute("x").result
'2'
"""

from . import selftest
from .manager import SessionLimitError, SessionManager, SyncSessionManager
from .observation import ExecutionError, Observation
from .sandbox import SandboxConfig, SandboxUnavailable, check_bwrap
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
