"""Where the terminal front-end writes: the consoles and the one-line error exit."""

from __future__ import annotations

import typer
from rich.console import Console

console = Console()
err_console = Console(stderr=True)


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print ``error: message`` on stderr; raise the returned exit (code 2: bad input)."""
    err_console.print(f"[bold red]error:[/] {message}")
    return typer.Exit(code)
