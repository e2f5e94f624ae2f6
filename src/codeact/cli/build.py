"""The agent of ``run`` and ``chat``: :func:`codeact.assemble.build_agent` with the
terminal's hooks (a loud unsafe warning, a progress bar for the first kernel
environment, a y/N question for ``--packages ask``) and its one-line errors."""

from __future__ import annotations

import sys
from typing import Any

from codeact import assemble
from codeact.cli.output import err_console, fail
from codeact.config import Settings


def ask_on_terminal(question: str) -> bool:
    """--packages ask: the user at the terminal decides (a host-side worker thread asks)."""
    reply = err_console.input(f"[bold magenta]{question}[/] [y/N] ")
    return reply.strip().lower() in ("y", "yes")


def _create_env() -> object:
    from codeact.runtime.cli import create_with_progress

    return create_with_progress(err_console)


def _warn(message: str) -> None:
    err_console.print(f"[yellow]warning:[/] {message}")


def terminal_agent(settings: Settings, *, chat: bool) -> Any:
    """Load the model, the tools and the agent; known failures exit with one line."""
    try:
        unsafe = assemble.unsafe_warning(settings)
        if unsafe:
            err_console.print(f"[bold red on yellow] {unsafe} [/]")
        return assemble.build_agent(
            settings, chat=chat, ask=ask_on_terminal if sys.stdin.isatty() else None,
            create_env=_create_env, warn=_warn)
    except assemble.AssembleError as exc:
        raise fail(str(exc)) from None
