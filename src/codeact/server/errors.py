"""The chat app's own exceptions, in one leaf module every other server module can import.

Each derives from :class:`codeact.errors.CodeactError` and keeps its historical built-in
base, so ``except RuntimeError`` / ``except LookupError`` written before still catch them.
"""

from __future__ import annotations

from codeact.errors import CodeactError

__all__ = ["Busy", "Conflict", "NotFound"]


class Busy(CodeactError, RuntimeError):
    """No kernel can be started now (the live-kernel cap is reached)."""


class Conflict(CodeactError, RuntimeError):
    """The conversation already has a run in progress."""


class NotFound(CodeactError, LookupError):
    """No such conversation (or item)."""
