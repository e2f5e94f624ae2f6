"""How a kernel process is isolated: SandboxConfig and the bubblewrap command line.

The kernel runs under ``bwrap`` with its own user, PID, network, IPC and UTS namespaces,
a read-only view of the system and of the Python installation, a private ``/tmp``
(size-limited tmpfs), the session workspace at ``/workspace`` and the session's socket
directory at ``/run/codeact``. Nothing else of the host is visible: no home directories,
no project checkout, no ``/run``, no host ``/tmp``.

Resource limits are set by a small launcher that runs first inside the sandbox (see
``LAUNCHER``). The process limit is per user *in the session's own user namespace*, so a
fork bomb in one session cannot use up another session's (or the host's) processes:

* host user not root: ``bwrap --unshare-user`` maps sandbox uid 1000 to the host user.
* host user root: ``RLIMIT_NPROC`` never applies to uid 0, so we create the user namespace
  ourselves, mapping sandbox uid 0 → host root (only for bwrap's own setup, so it can read
  the Python installation under ``/root``) and sandbox uid 1000 → host ``nobody``
  (65534); the launcher drops to uid 1000 before any model code runs.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import sysconfig
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import CodeactError
from .kernel import source

log = logging.getLogger("codeact.runtime")

INSTALL_HINT = (
    "bubblewrap is needed to sandbox model code: install it with "
    "`apt-get install bubblewrap` (Debian/Ubuntu) or `dnf install bubblewrap`; "
    "or opt out explicitly (UNSAFE) with sandbox='none' / --unsafe-no-sandbox"
)

SANDBOX_UID = 1000  # uid/gid of model code inside the sandbox
HOST_NOBODY = 65534  # host uid the sandbox user maps to when the host runs as root

INSIDE_WORKSPACE = "/workspace"
INSIDE_RUN = "/run/codeact"

DEFAULT_ENV_ALLOWLIST = ("LANG", "LC_ALL", "LC_CTYPE", "TZ")


class SandboxUnavailable(CodeactError, RuntimeError):
    """The sandbox cannot be used here (bwrap missing or namespaces refused)."""


@dataclass
class SandboxConfig:
    """Isolation settings for one kernel.

    ``backend``: ``"bwrap"`` (default) or ``"none"`` (UNSAFE: no isolation at all).
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
        if cfg.backend not in ("bwrap", "none"):
            raise ValueError(f"unknown sandbox backend {cfg.backend!r} (use 'bwrap' or 'none')")
        if cfg.cgroups not in ("auto", "off", "required"):
            raise ValueError(f"unknown cgroups setting {cfg.cgroups!r} "
                             "(use 'auto', 'off' or 'required')")
        return cfg

    @classmethod
    def usable(cls, sandbox: str | SandboxConfig | None) -> SandboxConfig:
        """``coerce``, then fail early with an install hint when bwrap is missing."""
        cfg = cls.coerce(sandbox)
        if cfg.backend == "bwrap" and bwrap_path() is None:
            raise SandboxUnavailable("bubblewrap (bwrap) is not installed. " + INSTALL_HINT)
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


def bwrap_path() -> str | None:
    return shutil.which("bwrap")


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


_ETC = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "ssl", "ca-certificates",
        "ca-certificates.conf", "alternatives", "fonts", "mime.types", "nsswitch.conf",
        "host.conf", "hosts", "os-release", "debian_version", "matplotlibrc", "timezone",
        "protocols", "services")


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


def _ancestors(path: str) -> list[str]:
    parts = Path(path).parts[1:-1]
    return ["/" + "/".join(parts[: i + 1]) for i in range(len(parts))]


@dataclass
class SandboxCommand:
    argv: list[str]
    pass_fds: tuple[int, ...]
    env: dict[str, str]


def build_bwrap_argv(
    config: SandboxConfig,
    *,
    workspace: Path,
    run_dir: Path,
    etc_dir: Path,
    kernel_argv: list[str],
    userns_fd: int | None,
    python: str | None = None,
    prefixes: list[str] | None = None,
    extra_ro: Sequence[tuple[str, str]] = (),
) -> SandboxCommand:
    """The full bwrap command that starts the launcher then the kernel.

    ``python`` and ``prefixes``: the kernel's interpreter and the installation
    directories it needs (default: codeact's own). ``extra_ro``: more (host, inside)
    directories to mount read-only, e.g. the session's package overlay.
    """
    bwrap = bwrap_path()
    if bwrap is None:
        raise SandboxUnavailable("bubblewrap (bwrap) is not installed. " + INSTALL_HINT)
    if prefixes is None:
        prefixes = python_prefixes()
    a: list[str] = [bwrap]
    fds: tuple[int, ...] = ()
    if userns_fd is not None:
        a += ["--userns", str(userns_fd), "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
        fds = (userns_fd,)
    else:
        a += ["--unshare-user", "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID)]
    a += ["--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts",
          "--unshare-cgroup-try", "--hostname", "sandbox", "--die-with-parent",
          "--new-session"]
    a += ["--ro-bind", "/usr", "/usr"]
    for d in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(d):
            a += ["--symlink", os.readlink(d), d]
        elif os.path.isdir(d):
            a += ["--ro-bind", d, d]
    a += ["--proc", "/proc", "--dev", "/dev"]
    a += ["--perms", "1777"]
    if config.tmp_size_mb:
        a += ["--size", str(config.tmp_size_mb << 20)]
    a += ["--tmpfs", "/tmp", "--perms", "0755", "--dir", "/etc"]
    for name in _ETC:
        p = f"/etc/{name}"
        if os.path.lexists(p):
            a += ["--ro-bind-try", p, p]
    a += ["--ro-bind", str(etc_dir / "passwd"), "/etc/passwd",
          "--ro-bind", str(etc_dir / "group"), "/etc/group"]
    made: set[str] = {"/usr", "/etc", "/tmp", "/run"}
    for p in prefixes:
        for anc in _ancestors(p):
            if anc not in made:
                made.add(anc)
                a += ["--perms", "0755", "--dir", anc]
        a += ["--ro-bind", p, p]
    for host, inside in extra_ro:
        for anc in _ancestors(inside):
            if anc not in made:
                made.add(anc)
                a += ["--perms", "0755", "--dir", anc]
        a += ["--ro-bind", host, inside]
    a += ["--perms", "0755", "--dir", "/run"]
    a += ["--bind", str(run_dir), INSIDE_RUN, "--bind", str(workspace), INSIDE_WORKSPACE,
          "--chdir", INSIDE_WORKSPACE, "--clearenv"]
    env = sandbox_env(config, prefixes, python)
    for k, v in env.items():
        a += ["--setenv", k, v]
    launcher_args = [f"{k}={v}" for k, v in config.limits().items()]
    a += [os.path.abspath(python or sys.executable), "-s", "-c", LAUNCHER, *launcher_args, "--",
          *kernel_argv]
    return SandboxCommand(a, fds, env)


def write_etc(etc_dir: Path) -> None:
    etc_dir.mkdir(parents=True, exist_ok=True)
    u = SANDBOX_UID
    (etc_dir / "passwd").write_text(
        f"root:x:0:0:root:/root:/usr/sbin/nologin\n"
        f"sandbox:x:{u}:{u}:sandbox:/tmp:/bin/sh\n"
        "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n")
    (etc_dir / "group").write_text(f"root:x:0:\nsandbox:x:{u}:\nnogroup:x:65534:\n")


def is_root() -> bool:
    return os.geteuid() == 0


def make_userns() -> int:
    """(host root only) A fresh user namespace: 0 → root, 1000 → nobody. Returns an fd.

    Root can write any id map for a namespace it created; ``unshare --user sleep`` holds
    the namespace until we have an fd to it.
    """
    unshare = shutil.which("unshare")
    if unshare is None:
        raise SandboxUnavailable("util-linux `unshare` is needed when running as root")
    sleep = shutil.which("sleep") or "/bin/sleep"
    helper = subprocess.Popen([unshare, "--user", "--", sleep, "600"],
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE)
    try:
        me = os.readlink("/proc/self/ns/user")
        deadline = time.monotonic() + 5.0
        while True:
            try:
                if os.readlink(f"/proc/{helper.pid}/ns/user") != me:
                    break
            except FileNotFoundError:
                pass
            if helper.poll() is not None:
                err = helper.stderr.read().decode(errors="replace") if helper.stderr else ""
                raise SandboxUnavailable(
                    f"cannot create a user namespace ({err.strip() or 'unshare failed'}). "
                    + INSTALL_HINT)
            if time.monotonic() > deadline:
                raise SandboxUnavailable("timed out creating a user namespace")
            time.sleep(0.0005)
        maps = f"0 0 1\n{SANDBOX_UID} {HOST_NOBODY} 1\n"
        with open(f"/proc/{helper.pid}/uid_map", "w") as f:
            f.write(maps)
        with open(f"/proc/{helper.pid}/gid_map", "w") as f:
            f.write(maps)
        return os.open(f"/proc/{helper.pid}/ns/user", os.O_RDONLY | os.O_CLOEXEC)
    finally:
        helper.kill()
        helper.wait()
        if helper.stderr:
            helper.stderr.close()


def sandbox_owner() -> tuple[int, int] | None:
    """Host uid/gid that files written in the sandbox belong to (None: the host user)."""
    return (HOST_NOBODY, HOST_NOBODY) if is_root() else None


def check_bwrap() -> tuple[bool, str]:
    """Can we start a bwrap sandbox with all the namespaces we use? (ok, message)."""
    bwrap = bwrap_path()
    if bwrap is None:
        return False, "bubblewrap (bwrap) is not installed. " + INSTALL_HINT
    try:
        ver = subprocess.run([bwrap, "--version"], capture_output=True, text=True,
                             timeout=10).stdout.strip()
    except Exception as exc:  # pragma: no cover
        return False, f"cannot run {bwrap}: {exc}"
    fd = None
    try:
        argv = [bwrap]
        pass_fds: tuple[int, ...] = ()
        if is_root():
            fd = make_userns()
            argv += ["--userns", str(fd)]
            pass_fds = (fd,)
        else:
            argv += ["--unshare-user"]
        argv += ["--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts",
                 "--die-with-parent", "--ro-bind", "/usr", "/usr"]
        for d in ("/bin", "/lib", "/lib64"):
            if os.path.islink(d):
                argv += ["--symlink", os.readlink(d), d]
            elif os.path.isdir(d):
                argv += ["--ro-bind", d, d]
        argv += ["--proc", "/proc", "--", "true"]
        r = subprocess.run(argv, capture_output=True, text=True, timeout=20, pass_fds=pass_fds)
    except SandboxUnavailable as exc:
        return False, str(exc)
    except Exception as exc:
        return False, f"bwrap failed: {exc}"
    finally:
        if fd is not None:
            os.close(fd)
    if r.returncode != 0:
        return False, (f"{ver} is installed but cannot create namespaces here: "
                       f"{r.stderr.strip()}. Unprivileged user namespaces may be disabled "
                       "(sysctl kernel.unprivileged_userns_clone=1, or on Ubuntu 24.04+ "
                       "kernel.apparmor_restrict_unprivileged_userns=0)")
    return True, f"{ver}: user, pid, network, ipc and uts namespaces work"
