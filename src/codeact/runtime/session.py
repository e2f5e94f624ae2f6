"""Session: one persistent IPython kernel, normally inside a bubblewrap sandbox.

All kernel I/O runs on one background asyncio loop (``_loop.py``); the sync methods block
on it, the async ones await it from any loop. Each kernel start gets a fresh private
run directory (zmq ``ipc`` sockets, the tool-bridge socket, the connection file), bound
into the sandbox at ``/run/codeact``.
"""

from __future__ import annotations

import asyncio
import base64
import collections
import json
import logging
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import zmq
import zmq.asyncio
from jupyter_client.session import Session as JupyterSession

from ..tools import Tool, as_tools
from . import cgroups as cg
from . import kernel_env
from . import sandbox as sb
from . import workspace as wsfiles
from ._loop import run_async, run_sync, runtime_loop
from .bridge import ToolBridge
from .kernel_code import DROP_MARK, final_answer_from_payload, setup_code, tools_code
from .observation import ExecutionError, Observation
from .output import BoundedText, strip_ansi
from .packages import INSIDE_SITE, Installer, PackagePolicy, overlay_prefix, remove_overlay

log = logging.getLogger("codeact.runtime")

OutputCallback = Callable[[str, str], Any]

MAX_MSG_BYTES = 32 << 20  # a bigger zmq message from a kernel drops that connection
MAX_IMAGES = 32
IOPUB_GRACE = 2.0  # seconds iopub may trail an execute_reply before we probe the channel
PROBE_TIMEOUT = 10.0  # seconds a healthy kernel needs to answer a probe on shell + iopub
_DROP_RE = re.compile(re.escape(DROP_MARK) + r"(\d+)\x00")
_ctx: zmq.asyncio.Context | None = None


def _zmq_ctx() -> zmq.asyncio.Context:
    global _ctx
    if _ctx is None:
        _ctx = zmq.asyncio.Context()
    return _ctx


def _exit_reason(rc: int | None) -> str:
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


class _Exec:
    """Collects what one execute_request produces."""

    def __init__(self, limit: int, on_output: OutputCallback | None) -> None:
        self.stdout = BoundedText(limit)
        self.stderr = BoundedText(limit)
        self.result: str | None = None
        self.images: list[bytes] = []
        self.error: ExecutionError | None = None
        self.on_output = on_output
        self.reply: asyncio.Future[dict] = asyncio.get_running_loop().create_future()
        self.idle = asyncio.Event()
        self.iopub_silent = False  # the reply came but its output stream never finished
        self.interrupt = asyncio.Event()
        self.final_answer: str | None = None  # what final_answer(...) submitted

    def stream(self, name: str, text: str) -> None:
        buf = self.stderr if name == "stderr" else self.stdout
        text = strip_ansi(text)  # pip and other coloured output: no escape codes for the model
        pos = 0
        for m in _DROP_RE.finditer(text):
            self._emit(buf, name, text[pos:m.start()])
            buf.add_dropped(int(m.group(1)))
            if self.on_output:
                self._callback(name, f"\n[... {int(m.group(1)):,} characters dropped ...]\n")
            pos = m.end()
        self._emit(buf, name, text[pos:])

    def _emit(self, buf: BoundedText, name: str, text: str) -> None:
        if not text:
            return
        buf.append(text)
        self._callback(name, text)

    def _callback(self, name: str, text: str) -> None:
        if self.on_output is None:
            return
        try:
            self.on_output(name, text)
        except Exception:  # a UI callback must not break execution
            log.exception("on_output callback failed")

    def data(self, data: dict, *, is_result: bool) -> None:
        png = data.get("image/png")
        if isinstance(png, str) and len(self.images) < MAX_IMAGES:
            try:
                self.images.append(base64.b64decode(png))
            except ValueError:
                pass
        text = data.get("text/plain")
        if is_result:
            if isinstance(text, str):
                self.result = text[: self.stdout.limit] if len(text) > self.stdout.limit else text
        elif png is None and isinstance(text, str):
            self._emit(self.stdout, "stdout", text + "\n")


class _Kernel:
    """One running kernel process and the host ends of its sockets."""

    def __init__(self, session: Session) -> None:
        self.s = session
        self.proc: subprocess.Popen[bytes] | None = None
        self.run_dir: Path | None = None
        self.jsession: JupyterSession | None = None
        self.sockets: dict[str, zmq.asyncio.Socket] = {}
        self.tasks: list[asyncio.Task[None]] = []
        self.died: asyncio.Future[int | None] = asyncio.get_running_loop().create_future()
        self.stderr_tail: collections.deque[bytes] = collections.deque(maxlen=64)
        self.pending: dict[str, _Exec] = {}
        self.replies: dict[str, asyncio.Future[dict]] = {}
        self.saw_iopub = asyncio.Event()
        self.bridge: ToolBridge | None = None
        self._fds: list[int] = []
        self.cgroup: cg.SessionCgroup | None = None  # this kernel's cgroup, if in force
        self.stop_note: str | None = None  # why we stopped the whole session, if we did

    # -- start ---------------------------------------------------------------------------
    async def start(self) -> None:
        s = self.s
        cfg = s.config
        loop = asyncio.get_running_loop()
        self.run_dir = Path(tempfile.mkdtemp(prefix="codeact-", dir=_run_base()))
        ipc = self.run_dir / "run"
        ipc.mkdir(mode=0o700)
        key = uuid.uuid4().hex
        owner = sb.sandbox_owner() if cfg.backend == "bwrap" else None
        if owner:
            os.chown(ipc, *owner)
        inside = sb.INSIDE_RUN if cfg.backend == "bwrap" else str(ipc)
        conn = {"transport": "ipc", "ip": f"{inside}/k", "shell_port": 1, "iopub_port": 2,
                "stdin_port": 3, "control_port": 4, "hb_port": 5, "key": key,
                "signature_scheme": "hmac-sha256", "kernel_name": "codeact"}
        (ipc / "kernel.json").write_text(json.dumps(conn))
        self.bridge = ToolBridge(str(ipc / "bridge.sock"), s._tools, owner,
                                 installer=s.installer.install)
        await self.bridge.start()
        kargv = ["ipykernel", "-f", f"{inside}/kernel.json", "--HistoryManager.enabled=False",
                 "--IPKernelApp.quiet=True", "--InteractiveShell.colors=NoColor"]
        if cfg.backend == "bwrap":
            sb.write_etc(self.run_dir / "etc")
            userns_fd = sb.make_userns() if sb.is_root() else None
            if userns_fd is not None:
                self._fds.append(userns_fd)
            cmd = sb.build_bwrap_argv(cfg, workspace=s.workspace, run_dir=ipc,
                                      etc_dir=self.run_dir / "etc", kernel_argv=kargv,
                                      userns_fd=userns_fd, python=s.kernel_env.python,
                                      prefixes=list(s.kernel_env.prefixes),
                                      extra_ro=[(str(s.installer.site_dir), INSIDE_SITE)])
            argv, pass_fds, env, cwd = cmd.argv, cmd.pass_fds, {}, None
        else:
            log.warning(
                "UNSAFE: sandbox='none': model code runs WITHOUT ANY ISOLATION, with your "
                "user's full access to files, network and processes")
            env = sb.sandbox_env(cfg, list(s.kernel_env.prefixes), s.kernel_env.python)
            env["HOME"] = str(s.workspace)
            env["IPYTHONDIR"] = str(self.run_dir / "ipython")
            env["MPLCONFIGDIR"] = str(self.run_dir / "mpl")
            limits = [f"{k}={v}" for k, v in cfg.limits().items() if k != "RLIMIT_NPROC"]
            argv = [s.kernel_env.python, "-s", "-c", sb.LAUNCHER, "--unsafe-no-sandbox",
                    *limits, "--", *kargv]
            pass_fds, cwd = (), str(s.workspace)
        argv = self._join_cgroup(argv)
        try:
            self.proc = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE, pass_fds=pass_fds, env=env, cwd=cwd,
                start_new_session=True)
        finally:
            for fd in self._fds:
                os.close(fd)
            self._fds.clear()
        self._watch_process(loop)
        if self.cgroup is not None:
            self.tasks.append(loop.create_task(self._watch_oom()))
        self.jsession = JupyterSession(key=key.encode(), signature_scheme="hmac-sha256",
                                       username="codeact", check_pid=False)
        ctx = _zmq_ctx()
        host = f"ipc://{ipc}/k"
        for name, kind, port in (("shell", zmq.DEALER, 1), ("control", zmq.DEALER, 4),
                                 ("iopub", zmq.SUB, 2)):
            sock = ctx.socket(kind)
            sock.setsockopt(zmq.LINGER, 0)
            sock.setsockopt(zmq.MAXMSGSIZE, MAX_MSG_BYTES)
            sock.setsockopt(zmq.RCVHWM, 64)
            if kind == zmq.SUB:
                sock.setsockopt(zmq.SUBSCRIBE, b"")
            sock.connect(f"{host}-{port}")
            self.sockets[name] = sock
        for name in ("shell", "control", "iopub"):
            self.tasks.append(loop.create_task(self._reader(name)))
        await self._wait_ready(cfg.start_timeout)
        site = INSIDE_SITE if cfg.backend == "bwrap" else str(s.installer.site_dir)
        code = setup_code(s.output_limit, f"{inside}/bridge.sock", site)
        if s._tools:
            code += tools_code(s._tools)
        await self.run_silent(code, 30.0)

    # -- session cgroup (runtime/cgroups.py) ---------------------------------------------
    def _join_cgroup(self, argv: list[str]) -> list[str]:
        """Create this kernel's cgroup and return ``argv`` wrapped to start inside it."""
        cfg = self.s.config
        try:
            plan = cg.plan_for(cfg.cgroups)
        except cg.CgroupUnavailable as exc:
            raise sb.SandboxUnavailable(str(exc)) from None
        if not plan.active:
            if cfg.cgroups == "auto":  # "off" was asked for: no need to warn
                cg.warn_fallback(plan)
            return argv
        limits = cg.Limits(memory_bytes=(cfg.memory_mb << 20) if cfg.memory_mb else None,
                           pids=cfg.max_processes)
        group = cg.SessionCgroup(plan, cg.group_name(self.s.id, uuid.uuid4().hex[:6]), limits)
        try:
            group.create()
        except OSError as exc:
            group.remove()
            if cfg.cgroups == "required":
                raise sb.SandboxUnavailable(f"cannot create the session cgroup: {exc}") from None
            cg.warn_fallback(cg.Plan("off", f"creating the session cgroup failed: {exc}"))
            return argv
        self.cgroup = group
        return group.wrap(argv)

    def _oom_note(self) -> str:
        mb = self.s.config.memory_mb
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
                log.warning("session %s: %s", self.s.id, self.stop_note)
                g.kill_all()
                return

    def exit_reason(self) -> str:
        """Why the kernel died: the session's memory cap, or its exit status."""
        if self.stop_note is None and self.cgroup is not None and self.cgroup.new_oom_kills():
            self.stop_note = self._oom_note()
        if self.stop_note is not None:
            return self.stop_note
        return _exit_reason(self.died.result() if self.died.done() else None)

    def _watch_process(self, loop: asyncio.AbstractEventLoop) -> None:
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
        return b"".join(self.stderr_tail).decode(errors="replace")[-4000:]

    async def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            fut = self.send("shell", "kernel_info_request", {})
            remaining = deadline - time.monotonic()
            done, _ = await asyncio.wait({fut, self.died}, timeout=min(1.0, max(remaining, 0)),
                                         return_when=asyncio.FIRST_COMPLETED)
            if self.died in done:
                await asyncio.sleep(0.05)  # let stderr arrive
                err = self.stderr_text().strip()
                msg = f"the kernel failed to start ({_exit_reason(self.died.result())})"
                if err:
                    msg += f": {err}"
                if "bwrap" in err or "namespace" in err:
                    raise sb.SandboxUnavailable(msg + ". " + sb.INSTALL_HINT)
                raise RuntimeError(msg)
            if fut in done:
                try:
                    await asyncio.wait_for(self.saw_iopub.wait(), 0.5)
                    return
                except TimeoutError:
                    pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the kernel did not start within {timeout:.0f}s: "
                                   f"{self.stderr_text().strip()}")

    # -- messaging -----------------------------------------------------------------------
    def send(self, channel: str, msg_type: str, content: dict) -> asyncio.Future[dict]:
        return self.send_id(channel, msg_type, content)[1]

    def send_id(self, channel: str, msg_type: str,
                content: dict) -> tuple[str, asyncio.Future[dict]]:
        assert self.jsession is not None
        msg = self.jsession.msg(msg_type, content)
        fut: asyncio.Future[dict] = asyncio.get_running_loop().create_future()
        msg_id = msg["header"]["msg_id"]
        self.replies[msg_id] = fut
        self.jsession.send(self.sockets[channel], msg)
        return msg_id, fut

    async def _reader(self, name: str) -> None:
        sock = self.sockets[name]
        assert self.jsession is not None
        while True:
            try:
                parts = await sock.recv_multipart()
            except (asyncio.CancelledError, zmq.ZMQError):
                return
            try:
                _idents, parts = self.jsession.feed_identities(parts)
                msg = self.jsession.deserialize(parts)
            except Exception:
                log.debug("dropped a malformed kernel message on %s", name)
                continue
            parent = (msg.get("parent_header") or {}).get("msg_id")
            if name == "iopub":
                self.saw_iopub.set()
                ex = self.pending.get(parent) if parent else None
                if ex is not None:
                    self._on_iopub(ex, msg)
            else:
                fut = self.replies.pop(parent, None) if parent else None
                if fut is not None and not fut.done():
                    fut.set_result(msg)

    @staticmethod
    def _on_iopub(ex: _Exec, msg: dict) -> None:
        t = msg["msg_type"]
        c = msg.get("content") or {}
        if t == "stream":
            ex.stream(str(c.get("name", "stdout")), str(c.get("text", "")))
        elif t == "execute_result":
            ex.data(c.get("data") or {}, is_result=True)
        elif t in ("display_data", "update_display_data"):
            ex.data(c.get("data") or {}, is_result=False)
        elif t == "error":
            tb = strip_ansi("\n".join(str(x) for x in c.get("traceback") or []))
            ex.error = ExecutionError(str(c.get("ename", "Error")), str(c.get("evalue", "")),
                                      tb[-20000:])
        elif t == "status" and c.get("execution_state") == "idle":
            ex.idle.set()

    async def iopub_works(self, timeout: float = PROBE_TIMEOUT) -> bool:
        """Probe both channels: a kernel_info_request must get its reply on shell and its
        busy/idle status on iopub. False means the channels desynchronised (e.g. the host
        dropped an oversized message and with it the subscription)."""
        ex = _Exec(1000, None)
        msg_id, fut = self.send_id("shell", "kernel_info_request", {})
        self.pending[msg_id] = ex
        try:
            await asyncio.wait_for(asyncio.gather(fut, ex.idle.wait()), timeout)
            return True
        except TimeoutError:
            return False
        finally:
            self.pending.pop(msg_id, None)
            self.replies.pop(msg_id, None)

    async def run_silent(self, code: str, timeout: float) -> None:
        """Run setup code; raise if it fails."""
        ex = _Exec(10_000, None)
        fut = self.send("shell", "execute_request",
                        {"code": code, "silent": True, "store_history": False,
                         "user_expressions": {}, "allow_stdin": False, "stop_on_error": True})
        done, _ = await asyncio.wait({fut, self.died}, timeout=timeout,
                                     return_when=asyncio.FIRST_COMPLETED)
        del ex
        if fut not in done:
            raise RuntimeError(f"kernel setup failed: {self.stderr_text()}")
        content = fut.result().get("content") or {}
        if content.get("status") != "ok":
            raise RuntimeError(f"kernel setup failed: {content.get('ename')}: "
                               f"{content.get('evalue')}")

    # -- stop ----------------------------------------------------------------------------
    async def kill(self) -> None:
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
        for sock in self.sockets.values():
            sock.close(linger=0)
        self.sockets.clear()
        for fut in self.replies.values():
            if not fut.done():
                fut.cancel()
        self.replies.clear()
        if self.bridge is not None:
            await self.bridge.close()
        if self.run_dir is not None:
            shutil.rmtree(self.run_dir, ignore_errors=True)
            self.run_dir = None
        if self.cgroup is not None:
            group, self.cgroup = self.cgroup, None
            await asyncio.to_thread(group.remove)


def _run_base() -> str:
    """A short directory for run dirs (unix socket paths are limited to 107 bytes)."""
    base = os.environ.get("CODEACT_RUN_DIR") or tempfile.gettempdir()
    if len(base) > 60:
        base = "/tmp"
    return base


class Session:
    """A persistent Python kernel with sandboxing, timeouts, output limits and tools.

    ``sandbox``: ``"bwrap"`` (default), ``"none"`` (UNSAFE) or a :class:`SandboxConfig`.
    ``workspace``: host directory mounted as the kernel's working directory
    (``/workspace`` inside); by default a fresh temporary one, removed on close.
    """

    def __init__(
        self,
        sandbox: str | sb.SandboxConfig = "bwrap",
        workspace: Path | str | None = None,
        tools: Sequence[Tool | Callable[..., Any]] = (),
        output_limit: int = 10_000,
    ) -> None:
        self.config = sb.SandboxConfig.usable(sandbox)
        self.kernel_env = kernel_env.resolve(self.config.kernel_env)
        self.package_policy = PackagePolicy.coerce(self.config.packages)
        self.output_limit = int(output_limit)
        self._tools = as_tools(tools)
        self._own_workspace = workspace is None
        if workspace is None:
            workspace = tempfile.mkdtemp(prefix="codeact-ws-")
        self._workspace = Path(workspace).resolve()
        self._workspace.mkdir(parents=True, exist_ok=True)
        self._overlay, self._own_overlay = overlay_prefix(self._workspace,
                                                          self.package_policy.persist)
        self.installer = Installer(self.package_policy, self.kernel_env.python,
                                   self.kernel_env.version, self._overlay)
        self._kernel: _Kernel | None = None
        self._lock: asyncio.Lock | None = None
        self._current: _Exec | None = None
        self._closed = False
        self.last_used = time.monotonic()
        self.id = uuid.uuid4().hex[:12]

    # -- properties ----------------------------------------------------------------------
    @property
    def workspace(self) -> Path:
        return self._workspace

    @property
    def alive(self) -> bool:
        k = self._kernel
        return (not self._closed and k is not None and k.proc is not None
                and k.proc.poll() is None and not k.died.done())

    @property
    def tools(self) -> list[Tool]:
        return list(self._tools)

    @property
    def packages(self) -> list[str]:
        """Notable packages the kernel can import (for the system prompt)."""
        return list(self.kernel_env.packages)

    @property
    def sandboxed(self) -> bool:
        return self.config.backend == "bwrap"

    @property
    def cgroup(self) -> cg.SessionCgroup | None:
        """The running kernel's cgroup (None: no cgroup limits in force, or no kernel)."""
        k = self._kernel
        return k.cgroup if k is not None else None

    def kernel_pid(self) -> int | None:
        """Host pid of the process started for the kernel (bwrap, or the kernel itself)."""
        k = self._kernel
        return k.proc.pid if k is not None and k.proc is not None else None

    def __repr__(self) -> str:
        return (f"Session(id={self.id!r}, sandbox={self.config.backend!r}, "
                f"workspace={str(self._workspace)!r}, alive={self.alive})")

    # -- lifecycle -----------------------------------------------------------------------
    def start(self) -> Session:
        run_sync(self._start())
        return self

    async def astart(self) -> Session:
        await run_async(self._start())
        return self

    async def _start(self) -> None:
        if self._closed:
            raise RuntimeError("session is closed")
        if self._lock is None:
            self._lock = asyncio.Lock()
        if self.alive:
            return
        await self._spawn()

    async def _spawn(self) -> None:
        if self._kernel is not None:
            await self._kernel.kill()
            self._kernel = None
        owner = sb.sandbox_owner() if self.sandboxed else None
        if owner:
            wsfiles.chown_tree(self._workspace, owner)
        k = _Kernel(self)
        self._kernel = k
        try:
            await k.start()
        except BaseException:
            await k.kill()
            self._kernel = None
            raise

    def restart(self) -> None:
        run_sync(self._restart())

    async def arestart(self) -> None:
        await run_async(self._restart())

    async def _restart(self) -> None:
        await self._start()
        assert self._lock is not None
        async with self._lock:
            await self._spawn()

    def close(self) -> None:
        if self._closed:
            return
        run_sync(self._close())

    async def aclose(self) -> None:
        if self._closed:
            return
        await run_async(self._close())

    async def _close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._current is not None:
            self._current.interrupt.set()
        if self._kernel is not None:
            await self._kernel.kill()
            self._kernel = None
        if self._own_overlay:
            remove_overlay(self._overlay)
        if self._own_workspace:
            shutil.rmtree(self._workspace, ignore_errors=True)

    def __enter__(self) -> Session:
        try:
            return self.start()
        except BaseException:
            self.close()
            raise

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> Session:
        try:
            return await self.astart()
        except BaseException:
            await self.aclose()
            raise

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def __del__(self) -> None:  # best effort: never leave a kernel behind
        try:
            if not self._closed and self._kernel is not None:
                k = self._kernel
                if k.proc is not None and k.proc.poll() is None:
                    os.killpg(k.proc.pid, signal.SIGKILL)
        except Exception:
            pass

    # -- tools ---------------------------------------------------------------------------
    def set_tools(self, tools: Sequence[Tool | Callable[..., Any]]) -> None:
        run_sync(self._set_tools(as_tools(tools)))

    async def aset_tools(self, tools: Sequence[Tool | Callable[..., Any]]) -> None:
        await run_async(self._set_tools(as_tools(tools)))

    async def _set_tools(self, tools: list[Tool]) -> None:
        old = self._tools
        self._tools = tools
        k = self._kernel
        if k is None or not self.alive:
            return
        assert k.bridge is not None and self._lock is not None
        k.bridge.set_tools(tools)
        if not tools and not old:
            return
        async with self._lock:
            await k.run_silent(tools_code(tools), 30.0)

    # -- execution -----------------------------------------------------------------------
    def execute(self, code: str, timeout: float = 60.0,
                on_output: OutputCallback | None = None) -> Observation:
        """Run ``code`` in the kernel and return what it produced."""
        return run_sync(self._execute(code, timeout, on_output))

    async def aexecute(self, code: str, timeout: float = 60.0,
                       on_output: OutputCallback | None = None) -> Observation:
        """Async :meth:`execute`; ``on_output`` is called on the caller's event loop."""
        cb = on_output
        if on_output is not None:
            caller = asyncio.get_running_loop()
            if caller is not runtime_loop():
                def cb(name: str, text: str) -> None:
                    caller.call_soon_threadsafe(on_output, name, text)
        return await run_async(self._execute(code, timeout, cb))

    def interrupt(self) -> None:
        """Interrupt the running cell (thread-safe; a no-op when nothing runs)."""
        runtime_loop().call_soon_threadsafe(self._interrupt_now)

    def _interrupt_now(self) -> None:
        if self._current is not None:
            self._current.interrupt.set()

    async def _execute(self, code: str, timeout: float,
                       on_output: OutputCallback | None) -> Observation:
        await self._start()
        assert self._lock is not None
        async with self._lock:
            if self._closed:
                raise RuntimeError("session is closed")
            if not self.alive:
                await self._spawn()
            return await self._execute_locked(code, timeout, on_output)

    async def _execute_locked(self, code: str, timeout: float,
                              on_output: OutputCallback | None) -> Observation:
        k = self._kernel
        assert k is not None
        t0 = time.monotonic()
        self.last_used = t0
        ex = _Exec(self.output_limit, on_output)
        self._current = ex
        msg_id, fut = k.send_id("shell", "execute_request",
                                {"code": code, "silent": False, "store_history": True,
                                 "user_expressions": {}, "allow_stdin": False,
                                 "stop_on_error": True})
        k.pending[msg_id] = ex
        obs = Observation()
        finished = asyncio.ensure_future(self._finished(ex, fut))
        try:
            intr = asyncio.ensure_future(ex.interrupt.wait())
            done, _ = await asyncio.wait({finished, k.died, intr}, timeout=max(timeout, 0),
                                         return_when=asyncio.FIRST_COMPLETED)
            stop_reason = None
            if finished not in done and not k.died.done():
                if intr in done:
                    obs.interrupted = True
                    stop_reason = "it was interrupted"
                else:
                    obs.timed_out = True
                    stop_reason = f"it ran past its {timeout:g}s timeout"
                k.send("control", "interrupt_request", {})
                done, _ = await asyncio.wait({finished, k.died},
                                             timeout=self.config.interrupt_grace,
                                             return_when=asyncio.FIRST_COMPLETED)
            intr.cancel()
            if finished in done:
                if ex.iopub_silent and not await k.iopub_works():
                    await self._crashed(
                        obs, "the kernel's output channel stopped delivering messages (the "
                             "cell's reply came without its output), so the kernel was killed")
            elif k.died.done():
                await asyncio.sleep(0.02)  # the last output may still be in flight
                reason = k.exit_reason()
                if stop_reason is not None:
                    reason = f"the cell stopped ({stop_reason}) and {reason}"
                await self._crashed(obs, reason)
            else:
                await self._crashed(
                    obs, f"the cell did not stop within {self.config.interrupt_grace:g}s "
                         f"after {stop_reason}, so the kernel was killed")
            finished.cancel()
        except asyncio.CancelledError:
            # the caller gave up (e.g. cancelled its task): stop the cell too
            if not k.died.done() and k.sockets:
                k.send("control", "interrupt_request", {})
                # hold the session until the cell has stopped, so the next one is not
                # aborted behind it; kill the kernel if it will not stop
                done, _ = await asyncio.wait({finished, k.died},
                                             timeout=self.config.interrupt_grace,
                                             return_when=asyncio.FIRST_COMPLETED)
                if finished not in done and not self._closed:
                    await self._spawn()
            raise
        finally:
            finished.cancel()
            k.pending.pop(msg_id, None)
            k.replies.pop(msg_id, None)
            self._current = None
        obs.stdout = ex.stdout.value()
        obs.stderr = ex.stderr.value()
        obs.truncated = ex.stdout.truncated or ex.stderr.truncated
        obs.result = ex.result
        obs.images = ex.images
        obs.error = ex.error
        obs.final_answer = ex.final_answer
        if obs.restarted and obs.error is None:
            obs.error = ExecutionError("KernelRestarted", obs.restart_reason or "")
        elif obs.timed_out and obs.error is not None and obs.error.name == "KeyboardInterrupt":
            obs.error = ExecutionError("TimeoutError", f"the cell ran past its {timeout:g}s "
                                       "timeout and was interrupted (state kept)",
                                       obs.error.traceback)
        obs.duration = time.monotonic() - t0
        self.last_used = time.monotonic()
        return obs

    async def _finished(self, ex: _Exec, fut: asyncio.Future[dict]) -> None:
        reply = await fut
        content = reply.get("content") or {}
        ex.final_answer = final_answer_from_payload(content.get("payload"))
        if content.get("status") == "error" and ex.error is None:
            ex.error = ExecutionError(str(content.get("ename", "Error")),
                                      str(content.get("evalue", "")),
                                      strip_ansi("\n".join(content.get("traceback") or [])))
        elif content.get("status") == "aborted" and ex.error is None:
            ex.error = ExecutionError("Aborted", "execution was aborted")
        try:  # outputs on iopub may trail the reply on shell a little
            await asyncio.wait_for(ex.idle.wait(), IOPUB_GRACE)
        except TimeoutError:
            ex.iopub_silent = True

    async def _crashed(self, obs: Observation, reason: str) -> None:
        obs.restarted = True
        obs.restart_reason = (f"{reason}; the kernel was restarted and its variables were lost "
                              "(files in the workspace are kept)")
        log.warning("session %s: %s", self.id, obs.restart_reason)
        if not self._closed:
            await self._spawn()

    # -- workspace files (runtime/workspace.py: no escape, O_NOFOLLOW, atomic replace) ----
    def _resolve(self, relpath: str | os.PathLike[str]) -> Path:
        return wsfiles.resolve_inside(self._workspace, relpath)

    def list_files(self) -> list[str]:
        """Files in the workspace, relative paths, sorted (symlinks are not followed)."""
        return wsfiles.list_files(self._workspace)

    def read_file(self, relpath: str | os.PathLike[str]) -> bytes:
        """A workspace file's content (``ValueError`` for a path that would leave it)."""
        return wsfiles.read_bytes(self._workspace, relpath)

    def write_file(self, relpath: str | os.PathLike[str], data: bytes | str) -> Path:
        """Write a workspace file by atomic replace; return its host path."""
        p = wsfiles.write_bytes(self._workspace, relpath, data, mode=0o644)
        owner = sb.sandbox_owner() if self.sandboxed else None
        if owner:
            wsfiles.chown_tree(self._workspace, owner)
        return p
