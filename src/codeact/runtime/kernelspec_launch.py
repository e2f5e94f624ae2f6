"""The kernelspec launcher: one gateway kernel in codeact's sandbox.

``python -m codeact.runtime.kernelspec_launch [settings] CONNECTION_FILE`` is the argv a
codeact kernelspec gives Jupyter (``runtime/kernelspec.py``). The gateway wrote the
connection file: TCP, ports already chosen, on its own network. The sandbox has no
network (``bwrap --unshare-net``), so the kernel cannot bind those ports itself; instead
this launcher, still in the host's network namespace,

1. binds and listens on each of the five ports at the connection file's address,
2. starts the kernel through the sandbox backend (the same bwrap command line, rlimits and
   per-kernel cgroup as a local session: ``KernelProcess``), passing the five listening
   sockets as inherited file descriptors and ``$CODEACT_LISTEN_FDS=PORT:FD,...``,
3. and the kernel-side launcher makes ipykernel's zmq sockets adopt them (``ZMQ_USE_FD``)
   instead of binding.

So model code still has no network at all (its namespace has only its own loopback);
what it holds are five listening sockets that accept the gateway's connections and can
open none. The launcher stays the kernel's parent: it relays SIGTERM, stops the kernel
when the gateway that started it dies (as a plain ipykernel does: Jupyter starts kernels
in a session of their own, so a gateway's crash would otherwise leave them running),
kills the sandbox when it dies itself (``PR_SET_PDEATHSIG``, even on SIGKILL), and
removes the kernel's run directory and workspace when the kernel exits; a launcher killed
with SIGKILL cannot, so the next one removes what it left (:func:`sweep_orphans`).
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import logging
import os
import shutil
import signal
import socket
import sys
import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..errors import CodeactError
from . import kernel_env
from . import workspace as wsfiles
from .kernel_process import KernelProcess, run_base
from .kernelspec import KernelspecError, KernelspecSettings, parse_launch_args
from .sandboxes import LaunchRequest, LaunchSpec, SandboxBackend, SandboxConfig, get_backend

__all__ = ["CHANNELS", "LISTEN_FDS", "launch", "listen", "main", "mark_owner", "read_connection",
           "sweep_orphans"]

log = logging.getLogger("codeact.runtime")

CHANNELS = ("shell", "iopub", "stdin", "control", "hb")
LISTEN_FDS = "CODEACT_LISTEN_FDS"  # read by runtime/kernel/launcher.py
BACKLOG = 128
OWNER_FILE = "launcher.pid"  # in a kernel's run directory: the launcher that owns it

# Kills this process when its parent (the launcher) dies, then becomes argv[2:].
_PDEATHSIG = ("import ctypes, os, signal, sys\n"
              "ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)\n"
              "if os.getppid() != int(sys.argv[1]):\n    os._exit(1)\n"
              "os.execvp(sys.argv[2], sys.argv[2:])\n")


def read_connection(path: str | Path) -> dict[str, Any]:
    """The gateway's connection file; only TCP can be served from a sandbox."""
    try:
        conn = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise KernelspecError(f"cannot read the connection file {path}: {exc}") from None
    if conn.get("transport", "tcp") != "tcp":
        raise KernelspecError(f"connection file {path}: transport {conn.get('transport')!r}"
                              " is not supported (only tcp)")
    missing = [c for c in CHANNELS if not conn.get(f"{c}_port")]
    if missing:
        raise KernelspecError(f"connection file {path}: no port for {', '.join(missing)}")
    return conn


def listen(ip: str, ports: list[int]) -> list[socket.socket]:
    """Listening TCP sockets on ``ip`` for ``ports``, inheritable by the kernel."""
    host = "0.0.0.0" if ip in ("*", "") else ip
    family = socket.AF_INET6 if ipaddress.ip_address(host).version == 6 else socket.AF_INET
    out: list[socket.socket] = []
    try:
        for port in ports:
            s = socket.socket(family, socket.SOCK_STREAM)
            out.append(s)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((host, port))
            s.listen(BACKLOG)
            s.set_inheritable(True)
    except OSError as exc:
        for s in out:
            s.close()
        raise KernelspecError(f"cannot listen on {host}: {exc}") from None
    return out


def _start_time(pid: int) -> str | None:
    """A process's start time (clock ticks since boot), or None when it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rpartition(")")[2].split()[19]


def mark_owner(run_dir: Path) -> None:
    """Record this launcher in ``run_dir`` (pid and start time, so a reused pid is not
    taken for it), for :func:`sweep_orphans`."""
    (run_dir / OWNER_FILE).write_text(f"{os.getpid()} {_start_time(os.getpid())}\n")


def sweep_orphans(base: Path) -> int:
    """Remove run directories under ``base`` whose launcher is gone (it was killed with
    SIGKILL, e.g. by a gateway's forced shutdown, and could not clean up). Returns how
    many. Directories without an owner file (local sessions') are never touched."""
    removed = 0
    for owner in base.glob(f"codeact-*/{OWNER_FILE}"):
        try:
            pid, started = owner.read_text().split()
        except (OSError, ValueError):
            continue
        if _start_time(int(pid)) == started:
            continue
        shutil.rmtree(owner.parent, ignore_errors=True)
        removed += 1
    return removed


class _ListeningBackend(SandboxBackend):
    """The configured backend, with the listening sockets passed to the kernel and the
    whole sandbox killed when the launcher dies."""

    def __init__(self, inner: SandboxBackend, fds: tuple[int, ...]) -> None:
        super().__init__(inner.config)
        self.inner = inner
        self.fds = fds

    def owner(self) -> tuple[int, int] | None:
        return self.inner.owner()

    def run_path(self, ipc_dir: Path) -> str:
        return self.inner.run_path(ipc_dir)

    def site_path(self, site_dir: Path) -> str:
        return self.inner.site_path(site_dir)

    def launch(self, request: LaunchRequest) -> LaunchSpec:
        spec = self.inner.launch(request)
        argv = [sys.executable, "-s", "-c", _PDEATHSIG, str(os.getpid()), *spec.argv]
        return LaunchSpec(argv, spec.env, spec.cwd, (*spec.pass_fds, *self.fds),
                          spec.close_fds)

    def start_failure(self, message: str, stderr: str) -> Exception:
        return self.inner.start_failure(message, stderr)


PARENT_POLL = 1.0  # seconds between looks at whether the gateway is still the parent


async def _gateway_gone(parent: int) -> None:
    """Return once this process's parent is no longer ``parent`` (the gateway died)."""
    while os.getppid() == parent:
        await asyncio.sleep(PARENT_POLL)


async def launch(settings: KernelspecSettings, connection_file: str) -> int:
    """Run one kernel for ``connection_file`` until it exits (or SIGTERM, or the gateway
    that started it dies); its status."""
    parent = os.getppid()
    conn = read_connection(connection_file)
    ports = [int(conn[f"{c}_port"]) for c in CHANNELS]
    socks = listen(str(conn.get("ip") or "127.0.0.1"), ports)
    fd_map = ",".join(f"{p}:{s.fileno()}" for p, s in zip(ports, socks, strict=True))
    base = settings.to_config()
    config: SandboxConfig = replace(base, env={**base.env, LISTEN_FDS: fd_map})
    env = kernel_env.resolve(config.kernel_env)
    backend = _ListeningBackend(get_backend(config.backend)(config),
                                tuple(s.fileno() for s in socks))
    proc = KernelProcess(f"gw-{uuid.uuid4().hex[:8]}", config, backend)
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stopping.set)
    loop.add_signal_handler(signal.SIGINT, lambda: None)  # interrupts come as messages
    try:
        sweep_orphans(Path(run_base()))
        ipc = proc.make_run_dir()
        assert proc.run_dir is not None
        mark_owner(proc.run_dir)
        workspace = proc.run_dir / "workspace"
        site = proc.run_dir / "site"
        workspace.mkdir(mode=0o700)
        site.mkdir(mode=0o755)
        owner = backend.owner()
        if owner:
            wsfiles.chown_tree(workspace, owner)
        inside = backend.run_path(ipc)
        (ipc / "kernel.json").write_text(json.dumps({**conn, "transport": "tcp"}))
        if owner:
            os.chown(ipc / "kernel.json", *owner)
        kargv = ["ipykernel", "-f", f"{inside}/kernel.json", "--HistoryManager.enabled=False",
                 "--IPKernelApp.quiet=True", "--InteractiveShell.colors=NoColor"]
        proc.launch(LaunchRequest(config=config, workspace=workspace, run_dir=proc.run_dir,
                                  ipc_dir=ipc, kernel_argv=kargv, python=env.python,
                                  prefixes=list(env.prefixes), site_dir=site))
        for s in socks:  # the kernel holds them now
            s.close()
        stop = asyncio.ensure_future(stopping.wait())
        orphaned = asyncio.ensure_future(_gateway_gone(parent))
        await asyncio.wait([proc.died, stop, orphaned], return_when=asyncio.FIRST_COMPLETED)
        stop.cancel()
        orphaned.cancel()
        rc = proc.died.result() if proc.died.done() else None
        if rc:
            sys.stderr.write(f"codeact kernel: {proc.exit_reason()}\n{proc.stderr_text()}\n")
        return 0 if rc is None else rc
    finally:
        for s in socks:
            s.close()
        await proc.stop()
        await proc.cleanup()


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m codeact.runtime.kernelspec_launch``."""
    logging.basicConfig(level=logging.WARNING, format="codeact kernel: %(message)s")
    try:
        settings, connection_file = parse_launch_args(list(sys.argv[1:] if argv is None
                                                           else argv))
        rc = asyncio.run(launch(settings, connection_file))
    except CodeactError as exc:  # bad arguments, no bwrap, ports taken
        sys.stderr.write(f"codeact kernel: {exc}\n")
        return 2
    with contextlib.suppress(Exception):
        sys.stdout.flush()
    return rc if rc >= 0 else 128 - rc


if __name__ == "__main__":
    sys.exit(main())
