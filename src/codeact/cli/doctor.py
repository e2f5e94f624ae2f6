"""`codeact doctor`: the facts a bug report needs, gathered in one place.

Versions of the packages the runtime depends on (a silent break last time came from a
new ipykernel), bubblewrap, what the kernel allows for namespaces, and the sandbox
self-test summary; :func:`doctor` is the command that prints them.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Annotated

import typer

# the packages whose versions change how kernels, messages and models behave
RUNTIME_PACKAGES = ("codeact", "jupyter_client", "ipykernel", "ipython", "pyzmq", "tornado",
                    "traitlets", "openai", "httpx", "llama_cpp_python", "fastapi", "uvicorn",
                    "sqlalchemy", "numpy", "matplotlib")

# kernel switches that decide whether unprivileged user namespaces (bwrap) work
NAMESPACE_KNOBS = ("/proc/sys/kernel/unprivileged_userns_clone",
                   "/proc/sys/user/max_user_namespaces",
                   "/proc/sys/kernel/apparmor_restrict_unprivileged_userns")


@dataclass
class Report:
    """Everything `codeact doctor` prints, as data (also written as JSON)."""

    python: str
    platform: str
    packages: dict[str, str | None]
    libzmq: str | None
    bubblewrap: str | None
    bwrap_ok: bool
    bwrap_message: str
    namespaces: dict[str, str | None]
    is_root: bool
    cgroups: dict[str, str] = field(default_factory=dict)
    selftest: dict[str, object] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return dict(self.__dict__)


def package_versions(names: tuple[str, ...] = RUNTIME_PACKAGES) -> dict[str, str | None]:
    """Installed version of each distribution, None when it is not installed."""
    out: dict[str, str | None] = {}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def libzmq_version() -> str | None:
    try:
        import zmq

        return str(zmq.zmq_version())
    except ImportError:  # pragma: no cover - a dependency
        return None


def bubblewrap_version() -> str | None:
    from codeact.runtime.sandboxes.bwrap import bwrap_path

    path = bwrap_path()
    if path is None:
        return None
    try:
        out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"{path} (cannot run: {exc})"
    return f"{out.stdout.strip() or out.stderr.strip()} ({path})"


def namespace_settings() -> dict[str, str | None]:
    """The kernel release and each namespace switch (None: this kernel has no such file)."""
    out: dict[str, str | None] = {"kernel": platform.release()}
    for knob in NAMESPACE_KNOBS:
        try:
            out[Path(knob).name] = Path(knob).read_text().strip()
        except OSError:
            out[Path(knob).name] = None
    return out


def cgroup_mode() -> dict[str, str]:
    """Which per-session cgroup kind sessions get here (``off``: rlimits only)."""
    from codeact.runtime import selftest

    plan = selftest.cgroup_plan()
    return {"mode": plan.mode, "detail": plan.describe()}


def selftest_summary() -> dict[str, object]:
    """Run the attack self-test; blocked/total and the names of any attack not blocked."""
    from codeact.runtime import selftest

    results = selftest.run()
    return {"blocked": sum(r.blocked for r in results), "total": len(results),
            "not_blocked": [r.name for r in results if not r.blocked]}


def gather(*, run_selftest: bool = True) -> Report:
    """Collect the report; the self-test only when bubblewrap works."""
    from codeact.runtime.sandboxes.bwrap import check_bwrap

    ok, message = check_bwrap()
    report = Report(
        python=sys.version.split()[0], platform=platform.platform(),
        packages=package_versions(), libzmq=libzmq_version(),
        bubblewrap=bubblewrap_version(), bwrap_ok=ok, bwrap_message=message,
        namespaces=namespace_settings(), is_root=os.geteuid() == 0, cgroups=cgroup_mode())
    if run_selftest and ok:
        report.selftest = selftest_summary()
    elif run_selftest:
        report.selftest = {"skipped": "bubblewrap does not work here"}
    else:
        report.selftest = {"skipped": "--no-selftest"}
    return report


def doctor(
    selftest: Annotated[bool, typer.Option(
        "--selftest/--no-selftest", help="Run the sandbox attack self-test (about 20 s).")] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Print versions, bubblewrap, namespace support and the sandbox check, for bug reports."""
    import contextlib
    import json
    import logging

    from rich.table import Table

    from codeact.cli.output import console

    logging.getLogger("codeact.runtime").setLevel(logging.ERROR)
    busy = contextlib.nullcontext() if as_json else console.status("checking the sandbox...")
    with busy:
        report = gather(run_selftest=selftest)
    if as_json:
        print(json.dumps(report.as_dict(), indent=2))
        return
    table = Table(title="codeact doctor", show_header=False)
    table.add_column("what", style="bold")
    table.add_column("value", overflow="fold")
    table.add_row("python", f"{report.python} on {report.platform}")
    for name, version in report.packages.items():
        table.add_row(name, version or "[dim]not installed[/]")
    table.add_row("libzmq", report.libzmq or "?")
    table.add_row("bubblewrap", report.bubblewrap or "[red]not installed[/]")
    table.add_row("sandbox", ("[green]works[/] - " if report.bwrap_ok else "[red]unavailable[/] - ")
                  + report.bwrap_message)
    for knob, value in report.namespaces.items():
        table.add_row(knob, "[dim]n/a[/]" if value is None else value)
    table.add_row("running as root", str(report.is_root))
    cgm = report.cgroups.get("mode", "off")
    table.add_row("session cgroups", ("[green]" if cgm != "off" else "[yellow]")
                  + report.cgroups.get("detail", "") + "[/]"
                  + ("" if cgm != "off" else " (memory and CPU limited per process only)"))
    st = report.selftest
    if "total" in st:
        not_blocked = st.get("not_blocked")
        bad = list(not_blocked) if isinstance(not_blocked, (list, tuple)) else []
        verdict = (f"[green]{st['blocked']}/{st['total']} attacks blocked[/]" if not bad else
                   f"[bold red]{st['blocked']}/{st['total']} blocked; NOT blocked: "
                   f"{', '.join(map(str, bad))}[/]")
        table.add_row("sandbox self-test", verdict)
    else:
        table.add_row("sandbox self-test", f"[dim]skipped ({st.get('skipped')})[/]")
    console.print(table)
