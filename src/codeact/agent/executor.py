"""What the agent needs from a code runtime, and how a runtime tells it that it broke.

The agent talks to :class:`Executor`, not to :class:`codeact.runtime.Session` itself, so
its loop can be unit-tested with a small in-memory executor (no kernel, no sandbox) and a
different runtime (a remote sandbox, a container) can drive it without subclassing.
A ``Session`` satisfies the protocol as it is.

:class:`SandboxFailure` is the host-side signal that the runtime itself failed (it could
not start or crashed beyond repair) and the run cannot go on. It is a real exception
type raised on the host, never matched by name, so code in the kernel that defines its
own ``class SandboxFailure(Exception)`` raises an ordinary error the model can read.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from codeact.errors import CodeactError

if TYPE_CHECKING:
    from codeact.runtime.observation import Observation
    from codeact.tools import Tool

__all__ = ["Executor", "OutputCallback", "SandboxFailure"]

OutputCallback = Callable[[str, str], Any]
"""``on_output(stream_name, text)``: called as stdout/stderr text arrives."""


class SandboxFailure(CodeactError, RuntimeError):
    """The runtime could not run the code at all (start-up failed, crashed beyond repair).

    Raised on the host by the agent, never by code in the kernel; the run ends with stop
    reason ``error``.
    """


@runtime_checkable
class Executor(Protocol):
    """A persistent Python runtime the agent runs code actions in.

    State (variables, imports) persists across :meth:`execute` calls until
    :meth:`restart`. Optional attributes the agent reads when present: ``packages``
    (names for the system prompt) and ``package_policy`` (whose ``mode`` says whether
    ``%pip install`` works).
    """

    def execute(self, code: str, timeout: float = 60.0,
                on_output: OutputCallback | None = None) -> Observation:
        """Run ``code``; raise only when the runtime itself is broken."""
        ...

    def interrupt(self) -> None:
        """Stop the running cell (called from another thread; a no-op when idle)."""
        ...

    def restart(self) -> None:
        """Forget all state (files in the workspace stay)."""
        ...

    def close(self) -> None:
        """Release the runtime."""
        ...

    def set_tools(self, tools: Sequence[Tool]) -> None:
        """Make ``tools`` callable from the code the runtime runs."""
        ...
