"""Jupyter kernelspecs that start sandboxed kernels: ``codeact kernelspec install``.

A gateway host (Jupyter Kernel Gateway, Enterprise Gateway with local kernels, or any
Jupyter server) starts a kernel from its kernelspec's ``argv``. The spec written here runs
:mod:`codeact.runtime.kernelspec_launch`, which starts ipykernel inside codeact's sandbox
(bubblewrap, rlimits, a per-kernel cgroup where the host allows) with the limits fixed
at install time, so remote kernels get the isolation local ones have.

The launcher's command line is the contract between the two modules:
:meth:`KernelspecSettings.to_args` writes it, :func:`parse_launch_args` reads it.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..errors import CodeactError
from .sandboxes import SandboxConfig

__all__ = ["LAUNCH_MODULE", "METADATA_KEY", "InstalledSpec", "KernelspecError",
           "KernelspecSettings", "install", "kernel_json", "list_specs", "parse_launch_args",
           "remove"]

LAUNCH_MODULE = "codeact.runtime.kernelspec_launch"
METADATA_KEY = "codeact"  # kernel.json "metadata" entry that marks codeact's specs
SANDBOXES = ("bwrap", "none")
LIMITS = ("memory_mb", "max_processes", "file_size_mb", "cpu_seconds", "tmp_size_mb",
          "open_files")


class KernelspecError(CodeactError, ValueError):
    """A kernelspec cannot be written, found or removed, or its launcher was misused."""


def _default(name: str) -> Any:
    return getattr(SandboxConfig(), name)


@dataclass(frozen=True)
class KernelspecSettings:
    """The sandbox every kernel of one kernelspec gets (fixed when the spec is written).

    ``sandbox``: ``bwrap`` or ``none`` (UNSAFE). Limits as in :class:`SandboxConfig`
    (None: no limit). ``cgroups``: ``auto`` / ``off`` / ``required`` (per kernel).
    ``kernel_env``: the Python environment kernels run in on the gateway host (a venv
    path or ``self``; None: the host's default). ``env_allowlist``: host variables copied
    into the sandbox.
    """

    sandbox: str = "bwrap"
    memory_mb: int | None = field(default_factory=lambda: _default("memory_mb"))
    max_processes: int | None = field(default_factory=lambda: _default("max_processes"))
    file_size_mb: int | None = field(default_factory=lambda: _default("file_size_mb"))
    cpu_seconds: int | None = field(default_factory=lambda: _default("cpu_seconds"))
    tmp_size_mb: int | None = field(default_factory=lambda: _default("tmp_size_mb"))
    open_files: int | None = field(default_factory=lambda: _default("open_files"))
    threads: int = field(default_factory=lambda: _default("threads"))
    cgroups: str = "auto"
    kernel_env: str | None = None
    env_allowlist: tuple[str, ...] = field(default_factory=lambda: _default("env_allowlist"))

    def __post_init__(self) -> None:
        if self.sandbox not in SANDBOXES:
            raise KernelspecError(f"unknown sandbox {self.sandbox!r} (use bwrap or none)")
        if self.cgroups not in ("auto", "off", "required"):
            raise KernelspecError(f"unknown cgroups setting {self.cgroups!r} "
                                  "(use auto, off or required)")
        for name in LIMITS:
            value = getattr(self, name)
            if value is not None and value < 0:
                raise KernelspecError(f"{name} must be >= 0 (0: no limit), not {value}")

    def to_config(self) -> SandboxConfig:
        """The :class:`SandboxConfig` the launcher starts kernels with."""
        return SandboxConfig(
            backend=self.sandbox, memory_mb=self.memory_mb or None,
            max_processes=self.max_processes or None, file_size_mb=self.file_size_mb or None,
            cpu_seconds=self.cpu_seconds or None, tmp_size_mb=self.tmp_size_mb or None,
            open_files=self.open_files or None, threads=self.threads, cgroups=self.cgroups,
            kernel_env=self.kernel_env, env_allowlist=self.env_allowlist)

    def to_args(self) -> list[str]:
        """The launcher's options (every setting spelt out, so kernel.json says it all)."""
        out = ["--sandbox", self.sandbox]
        for name in LIMITS:
            out += [_flag(name), str(getattr(self, name) or 0)]
        out += ["--threads", str(self.threads), "--cgroups", self.cgroups]
        if self.kernel_env:
            out += ["--kernel-env", self.kernel_env]
        out += ["--env-allow", ",".join(self.env_allowlist)]
        return out


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=f"python -m {LAUNCH_MODULE}",
                                description="Start one ipykernel in codeact's sandbox.")
    p.add_argument("--sandbox", choices=SANDBOXES, default="bwrap")
    for name in LIMITS:
        p.add_argument(_flag(name), type=int, default=None)
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--cgroups", default="auto")
    p.add_argument("--kernel-env", default=None)
    p.add_argument("--env-allow", default=None)
    p.add_argument("connection_file")
    return p


def parse_launch_args(argv: list[str]) -> tuple[KernelspecSettings, str]:
    """The launcher's command line → (settings, connection file path)."""
    try:
        ns = _parser().parse_args(argv)
    except SystemExit as exc:
        raise KernelspecError(f"bad launcher arguments: {' '.join(argv)}") from exc
    kw: dict[str, Any] = {"sandbox": ns.sandbox, "cgroups": ns.cgroups,
                          "kernel_env": ns.kernel_env}
    for name in LIMITS:
        value = getattr(ns, name)
        if value is not None:
            kw[name] = value or None
    if ns.threads is not None:
        kw["threads"] = ns.threads
    if ns.env_allow is not None:
        kw["env_allowlist"] = tuple(n for n in ns.env_allow.split(",") if n)
    return KernelspecSettings(**kw), ns.connection_file


def kernel_json(settings: KernelspecSettings, *, display_name: str,
                python: str | None = None) -> dict[str, Any]:
    """The kernelspec: ``python -m codeact.runtime.kernelspec_launch ... {connection_file}``.

    ``interrupt_mode`` is ``message``: the kernel runs in its own session and PID
    namespace, out of reach of the gateway's SIGINT to the launcher's process group.
    """
    argv = [python or sys.executable, "-m", LAUNCH_MODULE, *settings.to_args(),
            "{connection_file}"]
    meta = asdict(settings)
    meta["env_allowlist"] = list(settings.env_allowlist)
    return {"argv": argv, "display_name": display_name, "language": "python",
            "interrupt_mode": "message", "metadata": {METADATA_KEY: meta}}


def _manager() -> Any:
    from jupyter_client.kernelspec import KernelSpecManager

    return KernelSpecManager()


def install(settings: KernelspecSettings, *, name: str = "codeact",
            display_name: str | None = None, user: bool = False,
            prefix: str | Path | None = None, python: str | None = None) -> Path:
    """Write the kernelspec ``name`` (replacing one of that name); returns its directory.

    Where, as for ``jupyter kernelspec install``: ``user`` (the user's Jupyter data dir),
    ``prefix`` (``PREFIX/share/jupyter/kernels``, e.g. ``sys.prefix`` for a venv), or
    else the system-wide directory (needs root).
    """
    if user and prefix is not None:
        raise KernelspecError("choose one of --user, --prefix and --sys-prefix")
    _check_name(name)
    spec = kernel_json(settings, display_name=display_name or f"Python 3 (codeact, {name})",
                       python=python)
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "kernel.json").write_text(json.dumps(spec, indent=1) + "\n")
        try:
            where = _manager().install_kernel_spec(
                tmp, name, user=user, prefix=str(prefix) if prefix is not None else None)
        except OSError as exc:
            raise KernelspecError(f"cannot write the kernelspec {name!r}: {exc} "
                                  "(try --user or --prefix)") from None
    return Path(where)


def _check_name(name: str) -> None:
    from jupyter_client.kernelspec import _is_valid_kernel_name

    if not _is_valid_kernel_name(name):
        raise KernelspecError(f"invalid kernelspec name {name!r}: use letters, digits, "
                              "'.', '_' and '-'")


@dataclass(frozen=True)
class InstalledSpec:
    """One kernelspec Jupyter finds, and the codeact settings it was written with (None:
    not one of codeact's)."""

    name: str
    path: Path
    display_name: str
    settings: dict[str, Any] | None


def list_specs(*, codeact_only: bool = True) -> list[InstalledSpec]:
    """The kernelspecs on Jupyter's search path (``$JUPYTER_PATH``, user, venv, system)."""
    out = []
    for name, info in sorted(_manager().get_all_specs().items()):
        spec = info.get("spec", {})
        meta = (spec.get("metadata") or {}).get(METADATA_KEY)
        if codeact_only and meta is None:
            continue
        out.append(InstalledSpec(name, Path(info["resource_dir"]),
                                 spec.get("display_name", name), meta))
    return out


def remove(name: str) -> Path:
    """Delete the codeact kernelspec ``name``; returns where it was. Refuses other specs."""
    found = {s.name: s for s in list_specs(codeact_only=False)}
    spec = found.get(name)
    if spec is None:
        raise KernelspecError(f"no kernelspec named {name!r}")
    if spec.settings is None:
        raise KernelspecError(f"kernelspec {name!r} ({spec.path}) was not written by codeact; "
                              "remove it with `jupyter kernelspec remove`")
    try:
        shutil.rmtree(spec.path)
    except OSError as exc:
        raise KernelspecError(f"cannot remove {spec.path}: {exc}") from None
    return spec.path

