"""The sandbox extension point: the settings, how a kernel is launched, the registry.

:class:`SandboxConfig` is what every backend reads (``backend`` names one in the
registry; limits, environment allow-list and timeouts apply to all).

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
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from ...errors import CodeactError
from ..kernel import source

__all__ = ["DEFAULT_ENV_ALLOWLIST", "LAUNCHER", "LaunchRequest", "LaunchSpec", "SandboxBackend",
           "SandboxConfig", "SandboxUnavailable", "backend_names", "get_backend",
           "launcher_argv", "register"]

DEFAULT_ENV_ALLOWLIST = ("LANG", "LC_ALL", "LC_CTYPE", "TZ")


def _env_urls(var: str) -> tuple[str, ...]:
    """Comma-separated URLs from an environment variable (stripped, no empties)."""
    return tuple(u.strip().rstrip("/") for u in os.environ.get(var, "").split(",")
                 if u.strip())


class SandboxUnavailable(CodeactError, RuntimeError):
    """The sandbox cannot be used here (bwrap missing or namespaces refused)."""


@dataclass
class SandboxConfig:
    """Isolation settings for one kernel.

    ``backend``: a registered sandbox backend (``runtime/sandboxes``): ``"bwrap"``
    (default) or ``"none"`` (UNSAFE: no isolation at all).
    Limits (``None`` disables one): ``memory_mb`` (address space per process),
    ``max_processes`` (processes and threads in the session), ``file_size_mb`` (largest
    file written), ``cpu_seconds`` (CPU time per process, a safety net: a kernel that
    uses it up is killed and restarted), ``tmp_size_mb`` (each of the private /tmp and /dev/shm),
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
    ``gateway_urls`` / ``gateway_token`` / ``gateway_kernel``: for ``backend="gateway"``,
    the Jupyter Kernel/Enterprise Gateways kernels are placed on, their token and the
    kernelspec to start (defaults ``$CODEACT_RUNTIME`` (comma-separated),
    ``$CODEACT_RUNTIME_TOKEN``, ``$CODEACT_RUNTIME_KERNEL`` or ``codeact``, the name
    ``codeact kernelspec install`` writes). Before a kernel starts, the gateway's spec is
    checked: one codeact wrote with bubblewrap is used; any other (``python3``, or a
    codeact spec with sandbox ``none``) is refused unless ``gateway_allow_unsandboxed``
    (UNSAFE: model code then runs with the gateway user's rights on its machine; the CLI
    sets it for ``--unsafe-no-sandbox`` together with ``--runtime``).
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
    gateway_urls: tuple[str, ...] = field(
        default_factory=lambda: _env_urls("CODEACT_RUNTIME"))
    gateway_token: str | None = field(
        default_factory=lambda: os.environ.get("CODEACT_RUNTIME_TOKEN") or None)
    gateway_kernel: str = field(
        default_factory=lambda: os.environ.get("CODEACT_RUNTIME_KERNEL") or "codeact")
    gateway_allow_unsandboxed: bool = False

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


# Runs first inside the sandbox (python -c): drop to the sandbox uid where we start as
# uid 0 of the session user namespace, clear capabilities, set rlimits, then become the
# IPython kernel. argv: limits as NAME=VALUE..., "--", kernel argv. (kernel/launcher.py)
LAUNCHER = source("launcher")


def launcher_argv(python: str, limits: Mapping[str, int], kernel_argv: list[str], *,
                  unsafe: bool = False, cwd: str | None = None) -> list[str]:
    """``python -s -c LAUNCHER [--unsafe-no-sandbox] [--cwd DIR] NAME=VALUE... -- kernel
    argv``. ``cwd``: the folder the kernel works in, entered only after the launcher has
    dropped privileges (start the launcher elsewhere: a sandbox root without capabilities
    may not enter the sandbox user's workspace, and should import nothing from it)."""
    flags = ["--unsafe-no-sandbox"] if unsafe else []
    if cwd is not None:
        flags += ["--cwd", cwd]
    return [python, "-s", "-c", LAUNCHER, *flags, *(f"{k}={v}" for k, v in limits.items()),
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
    #: The kernel lives elsewhere (a gateway): the session drives it over the network
    #: instead of launching it (``runtime/gateway/``); :meth:`launch` is never called.
    remote: ClassVar[bool] = False

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
