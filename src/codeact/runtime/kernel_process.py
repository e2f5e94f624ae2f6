"""One kernel process: its run directory, its launch through a sandbox backend, its
session cgroup, and its death.

:meth:`KernelProcess.launch` asks the backend (``runtime/sandboxes``) for the command,
wraps it to start inside the session's cgroup (``runtime/cgroups.py``) when there is one,
and starts it in a new process group; ``died`` resolves with the exit status. An OOM kill
in the cgroup stops the whole session. :meth:`stop` kills everything the kernel started.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import os
import shutil
import signal
import subprocess
import tempfile
import uuid
from pathlib import Path

from . import cgroups as cg
from .sandboxes import LaunchRequest, SandboxBackend, SandboxConfig, SandboxUnavailable

__all__ = ["KernelProcess", "exit_reason", "run_base"]

log = logging.getLogger("codeact.runtime")


def exit_reason(rc: int | None) -> str:
    """A kernel exit status in words, with a hint for the usual fatal signals."""
    if rc is None:
        return "the kernel stopped responding"
    sig = -rc if rc < 0 else rc - 128 if rc > 128 else 0
    if sig:
        try:
            name = signal.Signals(sig).name
        except ValueError:
            name = f"signal {sig}"
        hint = {
            "SIGSEGV": " (a crash: segmentation fault, e.g. through ctypes or a stack overflow)",
            "SIGKILL": " (killed: out of memory or a resource limit)",
            "SIGXCPU": " (the CPU time limit)",
            "SIGXFSZ": " (the file size limit)",
            "SIGABRT": " (aborted)",
            "SIGBUS": " (a bus error)",
        }.get(name, "")
        return f"the kernel died from {name}{hint}"
    return f"the kernel exited with status {rc}"


def run_base() -> str:
    """A short directory for run dirs (unix socket paths are limited to 107 bytes)."""
    base = os.environ.get("CODEACT_RUN_DIR") or tempfile.gettempdir()
    if len(base) > 60:
        base = "/tmp"
    return base


class KernelProcess:
    """One started kernel (bwrap, the launcher, or whatever the backend runs)."""

    def __init__(self, session_id: str, config: SandboxConfig, backend: SandboxBackend) -> None:
        self.session_id = session_id
        self.config = config
        self.backend = backend
        self.proc: subprocess.Popen[bytes] | None = None
        self.run_dir: Path | None = None
        self.died: asyncio.Future[int | None] = asyncio.get_running_loop().create_future()
        self.stderr_tail: collections.deque[bytes] = collections.deque(maxlen=64)
        self.tasks: list[asyncio.Task[None]] = []
        self.cgroup: cg.SessionCgroup | None = None  # this kernel's cgroup, if in force
        self.stop_note: str | None = None  # why we stopped the whole session, if we did

    def make_run_dir(self) -> Path:
        """A fresh private run directory; returns its ``run`` subdirectory (the sockets),
        owned by the backend's sandbox user where it has one."""
        self.run_dir = Path(tempfile.mkdtemp(prefix="codeact-", dir=run_base()))
        ipc = self.run_dir / "run"
        ipc.mkdir(mode=0o700)
        owner = self.backend.owner()
        if owner:
            os.chown(ipc, *owner)
        return ipc

    def launch(self, request: LaunchRequest) -> None:
        """Start the kernel as the backend says, inside the session's cgroup if any."""
        loop = asyncio.get_running_loop()
        spec = self.backend.launch(request)
        try:
            argv = self._join_cgroup(spec.argv)
            self.proc = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE, pass_fds=spec.pass_fds, env=spec.env, cwd=spec.cwd,
                start_new_session=True)
        finally:
            for fd in spec.close_fds:
                os.close(fd)
        self._watch(loop)
        if self.cgroup is not None:
            self.tasks.append(loop.create_task(self._watch_oom()))

    def failure(self) -> Exception:
        """The error for a kernel that died before it answered (the backend's kind)."""
        err = self.stderr_text().strip()
        msg = f"the kernel failed to start ({exit_reason(self.died.result())})"
        if err:
            msg += f": {err}"
        return self.backend.start_failure(msg, err)

    # -- session cgroup (runtime/cgroups.py) ---------------------------------------------
    def _join_cgroup(self, argv: list[str]) -> list[str]:
        """Create this kernel's cgroup and return ``argv`` wrapped to start inside it."""
        cfg = self.config
        try:
            plan = cg.plan_for(cfg.cgroups)
        except cg.CgroupUnavailable as exc:
            raise SandboxUnavailable(str(exc)) from None
        if not plan.active:
            if cfg.cgroups == "auto":  # "off" was asked for: no need to warn
                cg.warn_fallback(plan)
            return argv
        limits = cg.Limits(memory_bytes=(cfg.memory_mb << 20) if cfg.memory_mb else None,
                           pids=cfg.max_processes)
        group = cg.SessionCgroup(plan, cg.group_name(self.session_id, uuid.uuid4().hex[:6]), limits)
        try:
            group.create()
        except OSError as exc:
            group.remove()
            if cfg.cgroups == "required":
                raise SandboxUnavailable(f"cannot create the session cgroup: {exc}") from None
            cg.warn_fallback(cg.Plan("off", f"creating the session cgroup failed: {exc}"))
            return argv
        self.cgroup = group
        return group.wrap(argv)

    def _oom_note(self) -> str:
        mb = self.config.memory_mb
        return (f"the session ran out of memory (memory cap: {mb} MB for all its processes "
                f"together) and the out-of-memory killer stopped a process, so all its "
                "processes were stopped")

    async def _watch_oom(self) -> None:
        """An OOM kill in the group stops the whole session (v1 kills only one process)."""
        g = self.cgroup
        assert g is not None
        while not self.died.done():
            await asyncio.sleep(0.2)
            if g.new_oom_kills():
                self.stop_note = self._oom_note()
                log.warning("session %s: %s", self.session_id, self.stop_note)
                g.kill_all()
                return

    def exit_reason(self) -> str:
        """Why the kernel died: the session's memory cap, or its exit status."""
        if self.stop_note is None and self.cgroup is not None and self.cgroup.new_oom_kills():
            self.stop_note = self._oom_note()
        if self.stop_note is not None:
            return self.stop_note
        return exit_reason(self.died.result() if self.died.done() else None)

    def _watch(self, loop: asyncio.AbstractEventLoop) -> None:
        assert self.proc is not None
        proc = self.proc
        err = proc.stderr
        if err is not None:
            fd = err.fileno()
            os.set_blocking(fd, False)

            def on_err() -> None:
                try:
                    chunk = os.read(fd, 65536)
                except BlockingIOError:
                    return
                except OSError:
                    chunk = b""
                if chunk:
                    self.stderr_tail.append(chunk[-4096:])
                else:
                    loop.remove_reader(fd)

            loop.add_reader(fd, on_err)
        try:
            pidfd = os.pidfd_open(proc.pid)
        except (AttributeError, OSError):
            pidfd = None

        def exited() -> None:
            rc = proc.poll()
            if rc is None:
                return
            if pidfd is not None:
                loop.remove_reader(pidfd)
                os.close(pidfd)
            if not self.died.done():
                self.died.set_result(rc)

        if pidfd is not None:
            loop.add_reader(pidfd, exited)
        else:  # pragma: no cover - kernels without pidfd_open
            async def poll() -> None:
                while not self.died.done():
                    exited()
                    await asyncio.sleep(0.05)

            self.tasks.append(loop.create_task(poll()))

    def stderr_text(self) -> str:
        """The end of what the kernel wrote to stderr (for error messages)."""
        return b"".join(self.stderr_tail).decode(errors="replace")[-4000:]

    async def stop(self) -> None:
        """Kill the kernel and everything it started; wait for it."""
        proc = self.proc
        if self.cgroup is not None:  # everything in the session, setsid'd processes too
            self.cgroup.kill_all()
        if proc is not None and proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            try:
                proc.kill()
            except ProcessLookupError:
                pass
            try:
                await asyncio.wait_for(asyncio.shield(self.died), 5.0)
            except TimeoutError:
                pass
        if proc is not None:
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:  # pragma: no cover
                log.error("kernel process %d did not exit", proc.pid)
            if proc.stderr is not None:
                try:
                    asyncio.get_running_loop().remove_reader(proc.stderr.fileno())
                except (ValueError, OSError):
                    pass
                proc.stderr.close()
        for t in self.tasks:
            t.cancel()

    async def cleanup(self) -> None:
        """Remove the run directory and the cgroup (after :meth:`stop`)."""
        if self.run_dir is not None:
            shutil.rmtree(self.run_dir, ignore_errors=True)
            self.run_dir = None
        if self.cgroup is not None:
            group, self.cgroup = self.cgroup, None
            await asyncio.to_thread(group.remove)
