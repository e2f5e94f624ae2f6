"""`codeact sandbox ...` (is the sandbox working here?) and `codeact kernel-env ...` (the
environment kernels run in); both mounted by codeact.cli."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from ..errors import CodeactError
from . import kernel_env

app = typer.Typer(help="Inspect the code-execution sandbox.", no_args_is_help=True)


@app.callback()
def _sandbox() -> None:
    """Inspect the code-execution sandbox."""


@app.command()
def check(
    runtime: Annotated[str | None, typer.Option(
        "--runtime", help="Run the attacks on kernels of these gateways instead "
        "(URL[,URL...], e.g. http://127.0.0.1:8888; env CODEACT_RUNTIME is not read here: "
        "without --runtime the local sandbox is checked).")] = None,
    runtime_token: Annotated[str | None, typer.Option(
        "--runtime-token", envvar="CODEACT_RUNTIME_TOKEN",
        help="The gateways' token. Env: CODEACT_RUNTIME_TOKEN.")] = None,
    runtime_kernel: Annotated[str | None, typer.Option(
        "--runtime-kernel", envvar="CODEACT_RUNTIME_KERNEL",
        help="The kernelspec to start on the gateways (one `codeact kernelspec install` "
        "wrote). Env: CODEACT_RUNTIME_KERNEL.")] = None,
) -> None:
    """Say whether bubblewrap and namespaces work, then run the attack self-test (on a
    gateway's kernels with --runtime)."""
    from . import selftest
    from .sandboxes import SandboxConfig
    from .sandboxes.bwrap import check_bwrap

    console = Console()
    config = None
    if runtime:
        urls = tuple(u.strip() for u in runtime.split(",") if u.strip())
        config = SandboxConfig(backend="gateway", gateway_urls=urls, interrupt_grace=1.0)
        if runtime_token:
            config.gateway_token = runtime_token
        if runtime_kernel:
            config.gateway_kernel = runtime_kernel
        console.print(f"[bold]kernels on:[/] {', '.join(urls)} (kernelspec "
                      f"{config.gateway_kernel}); the bait (secret, files, port, process) is "
                      "on this host: those attacks prove most when the gateway runs here")
    else:
        ok, message = check_bwrap()
        console.print(f"[bold]bubblewrap:[/] {'[green]ok[/]' if ok else '[red]unavailable[/]'}"
                      f" - {message}")
        if not ok:
            raise typer.Exit(1)
    logging.getLogger("codeact.runtime").setLevel(logging.ERROR)
    plan = selftest.cgroup_plan()
    if config is None:
        console.print("[bold]session cgroups:[/] "
                      + ("[green]on[/] - " if plan.active else "[yellow]off[/] - ")
                      + plan.describe())
    if config is None and not plan.active:
        console.print("  rlimits only: memory and CPU time are limited per process, not per "
                      "session; the session-wide attacks are skipped")
    table = Table(title="sandbox attack self-test")
    table.add_column("attack")
    table.add_column("result")
    table.add_column("detail", overflow="fold")
    t0 = time.monotonic()
    with console.status("running attacks in a sandboxed kernel..."):
        try:
            results = selftest.run(config=config)
        except CodeactError as exc:  # the gateway refused or could not be reached
            console.print(f"[bold red]error:[/] {exc}")
            raise typer.Exit(1) from None
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


kernel_env_app = typer.Typer(help="The Python environment sandboxed kernels run in.",
                             no_args_is_help=True)


@kernel_env_app.callback()
def _kernel_env() -> None:
    """The Python environment sandboxed kernels run in (ipykernel and a data stack)."""


def create_with_progress(console: Console, path: Path | None = None, *,
                         force: bool = False) -> kernel_env.KernelEnv:
    """Create the kernel environment from the lock, showing a progress bar."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    target = path or kernel_env.default_path()
    console.print(f"creating the kernel environment in {target} "
                  f"({len(kernel_env.pins())} packages from the lock; about a minute)")
    with Progress(TextColumn("{task.description:<40}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=console, transient=True) as bar:
        task = bar.add_task("starting", total=len(kernel_env.pins()))

        def note(message: str, done: int, total: int) -> None:
            bar.update(task, description=message[:40], completed=done, total=total)

        return kernel_env.create(path, force=force, progress=note)


@kernel_env_app.command("create")
def create_cmd(
    path: Annotated[Path | None, typer.Option(
        "--path", help="Where to create it (default: under the user data dir).")] = None,
    force: Annotated[bool, typer.Option(
        "--force", help="Recreate it even if it is up to date with the lock.")] = False,
) -> None:
    """Create the kernel environment: ipykernel, numpy, pandas, scipy, sympy, matplotlib,
    scikit-learn, openpyxl, networkx, beautifulsoup4, pyyaml, tabulate (pinned)."""
    console = Console()
    t0 = time.monotonic()
    try:
        env = create_with_progress(console, path, force=force)
    except kernel_env.KernelEnvError as exc:
        console.print(f"[bold red]error:[/] {exc}")
        raise typer.Exit(1) from None
    took = time.monotonic() - t0
    size = kernel_env.size_bytes(Path(env.path or "")) / 1e6
    console.print(f"[green]kernel environment ready[/]: {env.path} (Python {env.version}, "
                  f"{size:,.0f} MB, {took:.0f}s)")


@kernel_env_app.command("info")
def info_cmd(
    kernel_env_path: Annotated[str | None, typer.Option(
        "--kernel-env", help="An environment to inspect instead of the configured one.")] = None,
) -> None:
    """Say which environment kernels use and what it has."""
    console = Console()
    try:
        env = kernel_env.resolve(kernel_env_path)
    except kernel_env.KernelEnvError as exc:
        console.print(f"[bold red]error:[/] {exc}")
        raise typer.Exit(1) from None
    console.print(f"[bold]kernel environment:[/] {env.describe()}")
    console.print(f"[bold]interpreter:[/] {env.python}")
    console.print(f"[bold]mounted read-only:[/] {', '.join(env.prefixes)}")
    if env.packages:
        console.print(f"[bold]packages:[/] {', '.join(env.packages)}")
    if env.own:
        console.print(f"(no kernel environment at {kernel_env.default_path()}: create it "
                      "with `codeact kernel-env create`)")
