"""The one base class of codeact's own exceptions.

Every error the project raises on purpose derives from :class:`CodeactError`, so a caller
can catch "anything codeact refused or could not do" in one ``except`` clause. Each
exception keeps its historical built-in base too (``class SessionLimitError(CodeactError,
RuntimeError)``), so code that caught ``RuntimeError`` before still works.
"""

from __future__ import annotations

__all__ = ["CodeactError"]


class CodeactError(Exception):
    """Base of the exceptions codeact raises on purpose (bad input, refused action, limit)."""
