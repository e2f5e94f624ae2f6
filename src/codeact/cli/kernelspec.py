"""``codeact kernelspec install|list|remove``: Jupyter kernelspecs whose kernels start in
codeact's sandbox, for gateway hosts (Kernel Gateway, Enterprise Gateway)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Literal

import typer

from codeact.cli.output import console, fail
from codeact.runtime.kernelspec import (
    KernelspecError,
    KernelspecSettings,
    install,
    list_specs,
    remove,
)
from codeact.runtime.sandboxes import SandboxConfig

__all__ = ["app"]

app = typer.Typer(help="Jupyter kernelspecs that start kernels in codeact's sandbox.",
                  no_args_is_help=True)

_D = SandboxConfig()
LIMIT_HELP = " (0: no limit)"


@app.callback()
def _kernelspec() -> None:
    """Jupyter kernelspecs that start kernels in codeact's sandbox (for gateway hosts)."""


@app.command("install")
def install_cmd(
    name: Annotated[str, typer.Option("--name", help="Kernelspec name (what a gateway "
                                      "client asks for, or its default kernel).")] = "codeact",
    display_name: Annotated[str | None, typer.Option("--display-name")] = None,
    user: Annotated[bool, typer.Option("--user", help="Into your Jupyter data directory "
                                       "(the default without --prefix/--sys-prefix).")] = False,
    prefix: Annotated[Path | None, typer.Option(
        "--prefix", help="Into PREFIX/share/jupyter/kernels.")] = None,
    sys_prefix: Annotated[bool, typer.Option(
        "--sys-prefix", help="Into this Python environment (sys.prefix).")] = False,
    system: Annotated[bool, typer.Option(
        "--system", help="Into the system-wide Jupyter directory (needs root).")] = False,
    sandbox: Annotated[Literal["bwrap", "none"], typer.Option(
        "--sandbox", help="bwrap (namespaces, read-only system, no network) or none "
        "(UNSAFE: rlimits only).")] = "bwrap",
    memory_mb: Annotated[int, typer.Option(help="Address space per process, MB; with "
                                           "cgroups also the kernel's total" + LIMIT_HELP)]
    = _D.memory_mb or 0,
    max_processes: Annotated[int, typer.Option(help="Processes and threads" + LIMIT_HELP)]
    = _D.max_processes or 0,
    file_size_mb: Annotated[int, typer.Option(help="Largest file written, MB" + LIMIT_HELP)]
    = _D.file_size_mb or 0,
    cpu_seconds: Annotated[int, typer.Option(help="CPU time per process" + LIMIT_HELP)]
    = _D.cpu_seconds or 0,
    tmp_size_mb: Annotated[int, typer.Option(help="Size of the private /tmp (and of /dev/shm), MB"
                                             + LIMIT_HELP)] = _D.tmp_size_mb or 0,
    open_files: Annotated[int, typer.Option(help="Open files per process" + LIMIT_HELP)]
    = _D.open_files or 0,
    threads: Annotated[int, typer.Option(help="OMP/OpenBLAS/MKL threads inside.")]
    = _D.threads,
    cgroups: Annotated[Literal["auto", "off", "required"], typer.Option(
        help="A cgroup per kernel: where the host allows (auto), never, or fail "
        "without.")] = "auto",
    kernel_env: Annotated[str | None, typer.Option(
        "--kernel-env", help="The Python environment kernels run in on this host (a venv "
        "path or 'self'; default: the host's default kernel environment).")] = None,
    env_allow: Annotated[list[str] | None, typer.Option(
        "--env-allow", help="A host variable copied into the sandbox (repeat; default: "
        + ", ".join(_D.env_allowlist) + ").")] = None,
) -> None:
    """Write a kernelspec whose kernels start in codeact's sandbox with these limits."""
    where = [user, prefix is not None, sys_prefix, system]
    if sum(where) > 1:
        raise fail("choose one of --user, --prefix, --sys-prefix and --system")
    target = prefix if prefix is not None else Path(sys.prefix) if sys_prefix else None
    try:
        settings = KernelspecSettings(
            sandbox=sandbox, memory_mb=memory_mb, max_processes=max_processes,
            file_size_mb=file_size_mb, cpu_seconds=cpu_seconds, tmp_size_mb=tmp_size_mb,
            open_files=open_files, threads=threads, cgroups=cgroups, kernel_env=kernel_env,
            env_allowlist=tuple(env_allow) if env_allow is not None else _D.env_allowlist)
        path = install(settings, name=name, display_name=display_name,
                       user=not system and target is None, prefix=target)
    except KernelspecError as exc:
        raise fail(str(exc)) from None
    if sandbox == "none":
        console.print("[bold red]UNSAFE:[/] kernels of this spec run WITHOUT a sandbox")
    else:  # a warning, not an error: an image build cannot create namespaces either
        from codeact.runtime.sandboxes import bwrap

        ok, why = bwrap.check_bwrap()
        if not ok:
            console.print(f"[yellow]warning:[/] the sandbox does not work here ({why}); "
                          "kernels of this spec start only where it does (check with "
                          "`codeact sandbox check`)")
    console.print(f"installed kernelspec [bold]{name}[/] in {path}")


@app.command("list")
def list_cmd(
    all_specs: Annotated[bool, typer.Option("--all", help="Also kernelspecs not written "
                                            "by codeact.")] = False,
) -> None:
    """The kernelspecs Jupyter finds here, with each codeact spec's sandbox and limits."""
    from rich.table import Table

    specs = list_specs(codeact_only=not all_specs)
    if not specs:
        console.print("no codeact kernelspecs (write one with `codeact kernelspec install`)")
        return
    table = Table()
    for col in ("name", "sandbox", "limits", "path"):
        table.add_column(col, overflow="fold")
    for s in specs:
        meta = s.settings
        if meta is None:
            table.add_row(s.name, "(not codeact)", "", str(s.path))
            continue
        limits = ", ".join(f"{k}={meta.get(k) or 'none'}" for k in
                           ("memory_mb", "max_processes", "file_size_mb", "cpu_seconds"))
        table.add_row(s.name, f"{meta.get('sandbox')} (cgroups {meta.get('cgroups')})",
                      limits, str(s.path))
    console.print(table)


@app.command("remove")
def remove_cmd(name: Annotated[str, typer.Argument(help="The kernelspec's name.")]) -> None:
    """Delete a kernelspec written by codeact."""
    try:
        path = remove(name)
    except KernelspecError as exc:
        raise fail(str(exc)) from None
    console.print(f"removed kernelspec [bold]{name}[/] ({path})")
