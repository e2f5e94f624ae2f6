"""The sandbox extension point: how a kernel process is launched, and the registry.

A backend turns a :class:`LaunchRequest` (the run directory with the kernel's sockets,
the workspace, the kernel's argv and interpreter) into a :class:`LaunchSpec` (argv, env,
cwd, fds) that the session starts, inside the session's cgroup when there is one. It also
says where the kernel sees the run directory and the package overlay, and which host user
the workspace must belong to. Everything else (the kernel protocol, timeouts, restarts,
output caps) is the session's and the same for every backend.

To add one: write ``sandboxes/NAME.py`` with a :class:`SandboxBackend` subclass, and add
``register("NAME", MyBackend)`` (the built-ins do it in ``sandboxes/__init__.py``); then
``Session(sandbox="NAME")`` or ``SandboxConfig(backend="NAME")`` uses it. See
``tests/test_runtime_sandboxes.py`` for a toy backend registered in one line.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from ...errors import CodeactError
from ..kernel import source

if TYPE_CHECKING:
    from .config import SandboxConfig

__all__ = ["LAUNCHER", "LaunchRequest", "LaunchSpec", "SandboxBackend", "SandboxUnavailable",
           "backend_names", "get_backend", "launcher_argv", "register"]


class SandboxUnavailable(CodeactError, RuntimeError):
    """The sandbox cannot be used here (bwrap missing or namespaces refused)."""


# Runs first inside the sandbox (python -c): drop to the sandbox uid where we start as
# uid 0 of the session user namespace, clear capabilities, set rlimits, then become the
# IPython kernel. argv: limits as NAME=VALUE..., "--", kernel argv. (kernel/launcher.py)
LAUNCHER = source("launcher")


def launcher_argv(python: str, limits: Mapping[str, int], kernel_argv: list[str], *,
                  unsafe: bool = False) -> list[str]:
    """``python -s -c LAUNCHER [--unsafe-no-sandbox] NAME=VALUE... -- kernel argv``."""
    flag = ["--unsafe-no-sandbox"] if unsafe else []
    return [python, "-s", "-c", LAUNCHER, *flag, *(f"{k}={v}" for k, v in limits.items()),
            "--", *kernel_argv]


@dataclass(frozen=True)
class LaunchRequest:
    """What a backend needs to start one kernel.

    ``run_dir``: a fresh private host directory for this kernel start (the backend may
    write its own files there); ``ipc_dir`` (inside it) holds the connection file, the
    zmq sockets and the tool-bridge socket, and must be reachable by the kernel at
    :meth:`SandboxBackend.run_path`. ``kernel_argv``: ipykernel's argv, its paths already
    as the kernel sees them. ``python`` / ``prefixes``: the kernel environment's
    interpreter and installation directories. ``site_dir``: the session's package overlay
    on the host (read-only for the kernel, at :meth:`SandboxBackend.site_path`).
    """

    config: SandboxConfig
    workspace: Path
    run_dir: Path
    ipc_dir: Path
    kernel_argv: list[str]
    python: str
    prefixes: list[str]
    site_dir: Path


@dataclass
class LaunchSpec:
    """How to start the kernel process: ``subprocess.Popen(argv, env=env, cwd=cwd,
    pass_fds=pass_fds)``; ``close_fds`` are closed in the host once it has started."""

    argv: list[str]
    env: dict[str, str]
    cwd: str | None = None
    pass_fds: tuple[int, ...] = ()
    close_fds: tuple[int, ...] = field(default=())


class SandboxBackend(abc.ABC):
    """One way to isolate a kernel; an instance serves one session's configuration."""

    #: Model code is isolated from the host (False: it runs with the user's own rights).
    isolated: ClassVar[bool] = True

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config

    @classmethod
    def check_usable(cls, config: SandboxConfig) -> None:
        """Raise :class:`SandboxUnavailable` early (with a hint) when it cannot work here."""
        return None

    def owner(self) -> tuple[int, int] | None:
        """Host uid/gid the workspace and run directory must belong to (None: ours)."""
        return None

    def run_path(self, ipc_dir: Path) -> str:
        """Where the kernel sees the run directory with its sockets."""
        return str(ipc_dir)

    def site_path(self, site_dir: Path) -> str:
        """Where the kernel sees the session's package overlay."""
        return str(site_dir)

    @abc.abstractmethod
    def launch(self, request: LaunchRequest) -> LaunchSpec:
        """The command that starts the launcher, then the kernel, for ``request``."""

    def start_failure(self, message: str, stderr: str) -> Exception:
        """The error to raise when the kernel died before it answered."""
        return RuntimeError(message)


_BACKENDS: dict[str, type[SandboxBackend]] = {}


def register(name: str, backend: type[SandboxBackend]) -> type[SandboxBackend]:
    """Make ``backend`` usable as ``sandbox=name``; returns it (usable as a decorator's
    body). Registering a name twice with another class is an error."""
    if not (isinstance(backend, type) and issubclass(backend, SandboxBackend)):
        raise TypeError(f"a sandbox backend must subclass SandboxBackend, not {backend!r}")
    old = _BACKENDS.get(name)
    if old is not None and old is not backend:
        raise ValueError(f"sandbox backend {name!r} is already registered ({old.__name__})")
    _BACKENDS[name] = backend
    return backend


def get_backend(name: str) -> type[SandboxBackend]:
    """The backend class registered as ``name``; ValueError naming the known ones."""
    try:
        return _BACKENDS[name]
    except (KeyError, TypeError):
        known = " or ".join(repr(n) for n in backend_names())
        raise ValueError(f"unknown sandbox backend {name!r} (use {known})") from None


def backend_names() -> list[str]:
    """Registered backend names, in registration order."""
    return list(_BACKENDS)
