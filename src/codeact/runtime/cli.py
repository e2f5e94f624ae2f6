"""`codeact sandbox ...`: check that the sandbox works here (mounted by codeact.cli)."""

from __future__ import annotations

import logging
import time

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(help="Inspect the code-execution sandbox.", no_args_is_help=True)


@app.callback()
def _sandbox() -> None:
    """Inspect the code-execution sandbox."""


@app.command()
def check() -> None:
    """Say whether bubblewrap and namespaces work, then run the attack self-test."""
    from . import selftest
    from .sandbox import check_bwrap

    console = Console()
    ok, message = check_bwrap()
    console.print(f"[bold]bubblewrap:[/] {'[green]ok[/]' if ok else '[red]unavailable[/]'}"
                  f" - {message}")
    if not ok:
        raise typer.Exit(1)
    logging.getLogger("codeact.runtime").setLevel(logging.ERROR)
    plan = selftest.cgroup_plan()
    console.print("[bold]session cgroups:[/] "
                  + ("[green]on[/] - " if plan.active else "[yellow]off[/] - ")
                  + plan.describe())
    if not plan.active:
        console.print("  rlimits only: memory and CPU time are limited per process, not per "
                      "session; the session-wide attacks are skipped")
    table = Table(title="sandbox attack self-test")
    table.add_column("attack")
    table.add_column("result")
    table.add_column("detail", overflow="fold")
    t0 = time.monotonic()
    with console.status("running attacks in a sandboxed kernel..."):
        results = selftest.run()
    for r in results:
        verdict = "[green]blocked[/]" if r.blocked else "[bold red]NOT BLOCKED[/]"
        table.add_row(r.name, verdict, r.detail)
    console.print(table)
    bad = [r for r in results if not r.blocked]
    took = time.monotonic() - t0
    if bad:
        console.print(f"[bold red]{len(bad)} of {len(results)} attacks were NOT blocked[/]"
                      f" ({took:.1f}s)")
        raise typer.Exit(1)
    console.print(f"[green]all {len(results)} attacks blocked[/] ({took:.1f}s)")
