"""The ``bwrap`` sandbox backend (the default): the bubblewrap command line.

The kernel runs under ``bwrap`` with its own user, PID, network, IPC and UTS namespaces,
a read-only view of the system and of the Python installation, a private ``/tmp``
(size-limited tmpfs), the session workspace at ``/workspace`` and the session's socket
directory at ``/run/codeact``. Nothing else of the host is visible: no home directories,
no project checkout, no ``/run``, no host ``/tmp``.

Resource limits are set by a small launcher that runs first inside the sandbox (see
``kernel/launcher.py``). The process limit is per user *in the session's own user namespace*, so a
fork bomb in one session cannot use up another session's (or the host's) processes:

* host user not root: ``bwrap --unshare-user`` maps sandbox uid 1000 to the host user.
* host user root: ``RLIMIT_NPROC`` never applies to uid 0, so we create the user namespace
  ourselves, mapping sandbox uid 0 → host root (only for bwrap's own setup, so it can read
  the Python installation under ``/root``) and sandbox uid 1000 → host ``nobody``
  (65534); the launcher drops to uid 1000 before any model code runs.
"""

from __future__ import annotations

import functools
import logging
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..packages import INSIDE_SITE
from . import seccomp
from .base import (
    LaunchRequest,
    LaunchSpec,
    SandboxBackend,
    SandboxConfig,
    SandboxUnavailable,
    launcher_argv,
)
from .environment import python_prefixes, sandbox_env

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


def bwrap_path() -> str | None:
    return shutil.which("bwrap")


def needs_userns_filter() -> bool:
    """Whether sandboxes here need the seccomp filter to refuse user namespaces: on a root
    host, or where this bwrap has no ``--disable-userns``."""
    return is_root() or not userns_can_be_disabled()


def userns_filter_fd() -> int | None:
    """A pipe's read end holding the :mod:`.seccomp` filter (None where none is defined
    for this machine, or none is needed); the caller closes it once bwrap has started."""
    program = seccomp.userns_filter() if needs_userns_filter() else None
    if program is None:
        return None
    read, write = os.pipe()
    try:
        os.write(write, program)  # a few hundred bytes: the pipe's buffer takes them
    finally:
        os.close(write)
    return read


@functools.cache
def userns_can_be_disabled() -> bool:
    """Whether this bwrap can keep the sandbox from making user namespaces of its own
    (``--disable-userns``: bubblewrap 0.8+, not setuid, only with ``--unshare-user``, so
    not on a root host, whose sandbox joins a namespace prepared for it)."""
    bwrap = bwrap_path()
    if bwrap is None or is_root():
        return False
    try:
        return subprocess.run([bwrap, "--unshare-user", "--disable-userns", "--ro-bind", "/",
                               "/", "true"], capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


_ETC = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "ssl", "ca-certificates",
        "ca-certificates.conf", "alternatives", "fonts", "mime.types", "nsswitch.conf",
        "host.conf", "hosts", "os-release", "debian_version", "matplotlibrc", "timezone",
        "protocols", "services")


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
    seccomp_fd: int | None = None,
) -> SandboxCommand:
    """The full bwrap command that starts the launcher then the kernel.

    ``python`` and ``prefixes``: the kernel's interpreter and the installation
    directories it needs (default: codeact's own). ``extra_ro``: more (host, inside)
    directories to mount read-only, e.g. the session's package overlay. ``seccomp_fd``:
    a descriptor to read the :mod:`.seccomp` filter from, used where ``--disable-userns``
    is not (see :func:`needs_userns_filter`).
    """
    bwrap = bwrap_path()
    if bwrap is None:
        raise SandboxUnavailable("bubblewrap (bwrap) is not installed. " + INSTALL_HINT)
    if prefixes is None:
        prefixes = python_prefixes()
    a: list[str] = [bwrap]
    fds: tuple[int, ...] = ()
    if userns_fd is not None:
        # bwrap run by root keeps every capability unless told: the launcher needs only
        # these two, to drop to the sandbox uid (and then clears them)
        a += ["--userns", str(userns_fd), "--cap-drop", "ALL",
              "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
        fds = (userns_fd,)
    else:
        a += ["--unshare-user", "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID)]
        if userns_can_be_disabled():  # no user namespaces of its own inside (more kernel
            a += ["--disable-userns"]  # code to attack, namespaces to rearrange)
    if seccomp_fd is not None:
        a += ["--seccomp", str(seccomp_fd)]
        fds = (*fds, seccomp_fd)
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
    # /tmp and /dev/shm: private, writable, bounded; a root-owned /dev/shm made every
    # multiprocessing lock fail (joblib's warning on each `import sklearn`)
    for private in ("/tmp", "/dev/shm"):
        a += ["--perms", "1777"]
        if config.tmp_size_mb:
            a += ["--size", str(config.tmp_size_mb << 20)]
        a += ["--tmpfs", private]
    a += ["--perms", "0755", "--dir", "/etc"]
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
    # the launcher starts in / and enters the workspace once it is the sandbox user
    a += ["--bind", str(run_dir), INSIDE_RUN, "--bind", str(workspace), INSIDE_WORKSPACE,
          "--chdir", "/", "--clearenv"]
    env = sandbox_env(config, prefixes, python)
    for k, v in env.items():
        a += ["--setenv", k, v]
    a += launcher_argv(os.path.abspath(python or sys.executable), config.limits(), kernel_argv,
                       cwd=INSIDE_WORKSPACE)
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


class BwrapSandbox(SandboxBackend):
    """Namespaces, a read-only system, a private /tmp; the workspace at /workspace."""

    isolated = True

    @classmethod
    def check_usable(cls, config: SandboxConfig) -> None:
        if bwrap_path() is None:
            raise SandboxUnavailable("bubblewrap (bwrap) is not installed. " + INSTALL_HINT)

    def owner(self) -> tuple[int, int] | None:
        return sandbox_owner()

    def run_path(self, ipc_dir: Path) -> str:
        return INSIDE_RUN

    def site_path(self, site_dir: Path) -> str:
        return INSIDE_SITE

    def launch(self, request: LaunchRequest) -> LaunchSpec:
        etc = request.run_dir / "etc"
        write_etc(etc)
        userns_fd = make_userns() if is_root() else None
        seccomp_fd = None
        try:
            seccomp_fd = userns_filter_fd()
            cmd = build_bwrap_argv(request.config, workspace=request.workspace,
                                   run_dir=request.ipc_dir, etc_dir=etc,
                                   kernel_argv=request.kernel_argv, userns_fd=userns_fd,
                                   python=request.python, prefixes=list(request.prefixes),
                                   extra_ro=[(str(request.site_dir), INSIDE_SITE)],
                                   seccomp_fd=seccomp_fd)
        except BaseException:
            for fd in (userns_fd, seccomp_fd):
                if fd is not None:
                    os.close(fd)
            raise
        close = tuple(fd for fd in (userns_fd, seccomp_fd) if fd is not None)
        return LaunchSpec(cmd.argv, {}, None, cmd.pass_fds, close)

    def start_failure(self, message: str, stderr: str) -> Exception:
        if "bwrap" in stderr or "namespace" in stderr:
            return SandboxUnavailable(message + ". " + INSTALL_HINT)
        return RuntimeError(message)
