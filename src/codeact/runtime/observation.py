"""What one execution in a session produced."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ExecutionError:
    """An exception raised by executed code (traceback has ANSI colours stripped)."""

    name: str
    message: str
    traceback: str = ""


@dataclass
class Observation:
    """The result of ``Session.execute``.

    ``timed_out``: the cell ran past its timeout and was interrupted.
    ``restarted``: the kernel died or had to be killed and was restarted, so variables
    were lost (files in the workspace stay); ``restart_reason`` says why.
    ``interrupted``: the cell was stopped by ``Session.interrupt()``.
    ``final_answer``: the answer the cell submitted by calling ``final_answer(value)``
    (a structured marker in the kernel's reply, not parsed from output), else None.
    """

    stdout: str = ""
    stderr: str = ""
    result: str | None = None  # text/plain of the last expression's value
    images: list[bytes] = field(default_factory=list)  # PNG bytes
    error: ExecutionError | None = None
    duration: float = 0.0
    truncated: bool = False
    timed_out: bool = False
    restarted: bool = False
    restart_reason: str | None = None
    interrupted: bool = False  # stopped by Session.interrupt()
    final_answer: str | None = None  # what the cell submitted with final_answer(...)

    @property
    def ok(self) -> bool:
        """True when the code ran to the end without an error, timeout or crash."""
        return self.error is None and not self.timed_out and not self.restarted
