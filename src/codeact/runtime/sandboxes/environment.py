"""The kernel's environment, for every backend: its variables and the interpreter
directories it must be able to read."""

from __future__ import annotations

import os
import sys
import sysconfig

from .base import SandboxConfig

__all__ = ["prefixes_to_mount", "python_prefixes", "sandbox_env"]


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
