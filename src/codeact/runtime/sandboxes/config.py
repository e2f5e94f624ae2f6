"""SandboxConfig, the settings every sandbox backend reads, and the kernel's environment.

``SandboxConfig.backend`` names a backend in the registry (:mod:`.base`); the limits,
environment allow-list and timeouts apply to every backend.
"""

from __future__ import annotations

import os
import sys
import sysconfig
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .base import get_backend

__all__ = ["DEFAULT_ENV_ALLOWLIST", "SandboxConfig", "prefixes_to_mount", "python_prefixes",
           "sandbox_env"]

DEFAULT_ENV_ALLOWLIST = ("LANG", "LC_ALL", "LC_CTYPE", "TZ")


@dataclass
class SandboxConfig:
    """Isolation settings for one kernel.

    ``backend``: a registered sandbox backend (``runtime/sandboxes``): ``"bwrap"``
    (default) or ``"none"`` (UNSAFE: no isolation at all).
    Limits (``None`` disables one): ``memory_mb`` (address space per process),
    ``max_processes`` (processes and threads in the session), ``file_size_mb`` (largest
    file written), ``cpu_seconds`` (CPU time per process, a safety net: a kernel that
    uses it up is killed and restarted), ``tmp_size_mb`` (the private /tmp),
    ``open_files``. ``env_allowlist``: host variables copied into the sandbox (nothing
    else of the host environment is); ``env``: extra variables set inside.
    ``interrupt_grace``: seconds an interrupted cell gets to stop before the kernel is
    killed and restarted. ``start_timeout``: seconds a kernel gets to come up.
    ``cgroups``: per-session cgroup limits (see ``runtime/cgroups.py``): ``"auto"`` (use
    them where the host allows, else rlimits only, with a warning), ``"off"``, or
    ``"required"`` (fail rather than run without them); default ``$CODEACT_CGROUPS`` or
    ``"auto"``. With cgroups, ``memory_mb`` also caps all processes of the session
    together and ``max_processes`` counts them in the group; sessions get equal CPU weights.
    ``kernel_env``: the Python environment kernels run in (see ``runtime/kernel_env.py``):
    a venv path, ``"self"`` for codeact's own interpreter, or None for
    ``$CODEACT_KERNEL_ENV`` / the default kernel environment when it exists.
    ``packages``: what ``%pip install`` in the kernel may install through the host (see
    ``runtime/packages.py``); None: ``$CODEACT_PACKAGES`` or ``"allow"``.
    """

    backend: str = "bwrap"
    memory_mb: int | None = 4096
    max_processes: int | None = 256
    file_size_mb: int | None = 512
    cpu_seconds: int | None = 3600
    tmp_size_mb: int | None = 256
    open_files: int | None = 1024
    env_allowlist: tuple[str, ...] = DEFAULT_ENV_ALLOWLIST
    env: Mapping[str, str] = field(default_factory=dict)
    interrupt_grace: float = 3.0
    start_timeout: float = 30.0
    threads: int = 4  # OMP/OpenBLAS/MKL thread count inside
    cgroups: str = field(default_factory=lambda: os.environ.get("CODEACT_CGROUPS", "auto"))
    kernel_env: str | None = None
    packages: Any = None  # a runtime.packages.PackagePolicy, "allow"/"deny"/"ask" or None

    @classmethod
    def coerce(cls, sandbox: str | SandboxConfig | None) -> SandboxConfig:
        if isinstance(sandbox, SandboxConfig):
            cfg = sandbox
        elif sandbox is None:
            cfg = cls()
        elif isinstance(sandbox, str):
            cfg = cls(backend=sandbox)
        else:
            raise TypeError(f"sandbox must be 'bwrap', 'none' or a SandboxConfig, not {sandbox!r}")
        get_backend(cfg.backend)  # ValueError naming the registered ones
        if cfg.cgroups not in ("auto", "off", "required"):
            raise ValueError(f"unknown cgroups setting {cfg.cgroups!r} "
                             "(use 'auto', 'off' or 'required')")
        return cfg

    @classmethod
    def usable(cls, sandbox: str | SandboxConfig | None) -> SandboxConfig:
        """``coerce``, then fail early with a hint when the backend cannot work here
        (e.g. bwrap is missing)."""
        cfg = cls.coerce(sandbox)
        get_backend(cfg.backend).check_usable(cfg)
        return cfg

    def limits(self) -> dict[str, int]:
        """rlimits for the launcher: name → value."""
        out: dict[str, int] = {"RLIMIT_CORE": 0}
        if self.memory_mb:
            out["RLIMIT_AS"] = self.memory_mb << 20
        if self.max_processes:
            out["RLIMIT_NPROC"] = self.max_processes
        if self.file_size_mb:
            out["RLIMIT_FSIZE"] = self.file_size_mb << 20
        if self.cpu_seconds:
            out["RLIMIT_CPU"] = self.cpu_seconds
        if self.open_files:
            out["RLIMIT_NOFILE"] = self.open_files
        return out


def python_prefixes() -> list[str]:
    """codeact's own Python installation directories (the kernel's when it runs in
    codeact's interpreter), read-only."""
    cands = [sys.base_prefix, sys.prefix, sys.exec_prefix, sys.base_exec_prefix,
             os.path.dirname(os.path.dirname(os.path.realpath(sys.executable)))]
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        p = sysconfig.get_paths().get(key)
        if p:
            cands.append(p)
    return prefixes_to_mount(cands)


def prefixes_to_mount(cands: list[str]) -> list[str]:
    """The smallest set of existing directories covering ``cands`` (outside /usr, which
    is mounted anyway), both as given and with symlinks resolved."""
    out: list[str] = []
    for c in cands:
        for p in {os.path.abspath(c), os.path.realpath(c)}:
            if not os.path.isdir(p) or _under_system(p):
                continue
            if any(p == q or p.startswith(q + "/") for q in out):
                continue
            out = [q for q in out if not q.startswith(p + "/")]
            out.append(p)
    return sorted(out)


def _under_system(p: str) -> bool:
    return p == "/usr" or p.startswith("/usr/")


def sandbox_env(config: SandboxConfig, prefixes: list[str],
                python: str | None = None) -> dict[str, str]:
    bins = [os.path.dirname(os.path.abspath(python or sys.executable))]
    bins += [f"{p}/bin" for p in prefixes if f"{p}/bin" not in bins]
    env = {
        "PATH": ":".join(bins + ["/usr/local/bin", "/usr/bin", "/bin"]),
        "HOME": "/tmp",
        "USER": "sandbox",
        "LANG": "C.UTF-8",
        "TERM": "dumb",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONNOUSERSITE": "1",
        "IPYTHONDIR": "/tmp/.ipython",
        "MPLBACKEND": "module://matplotlib_inline.backend_inline",
        "MPLCONFIGDIR": "/tmp/.matplotlib",
        "OMP_NUM_THREADS": str(config.threads),
        "OPENBLAS_NUM_THREADS": str(config.threads),
        "MKL_NUM_THREADS": str(config.threads),
        "MALLOC_ARENA_MAX": "2",
    }
    for name in config.env_allowlist:
        if name in os.environ:
            env[name] = os.environ[name]
    env.update(config.env)
    env.pop("JPY_PARENT_PID", None)  # ipykernel exits at once when its "parent" is pid 1
    return env
