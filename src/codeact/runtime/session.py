"""Session: one persistent IPython kernel, normally inside a bubblewrap sandbox.

All kernel I/O runs on one background asyncio loop (``_loop.py``); the sync methods block
on it, the async ones await it from any loop. Each kernel start gets a fresh private
run directory (zmq ``ipc`` sockets, the tool-bridge socket, the connection file), bound
into the sandbox at ``/run/codeact``.

This module is the lifecycle (start, execute with timeouts and interrupts, restart after
a crash, close); the parts live beside it: ``kernel_client.py`` (the Jupyter protocol and
output collection), ``kernel_process.py`` (launch through a backend from ``sandboxes/``,
cgroups, death), ``workspace.py`` (safe file I/O), ``kernel_code.py`` (start-up cells).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import zmq.asyncio

from ..tools import Tool, as_tools
from . import cgroups as cg
from . import kernel_env
from . import workspace as wsfiles
from ._loop import run_async, run_sync, runtime_loop
from .bridge import ToolBridge
from .kernel_client import IOPUB_GRACE, CellRun, KernelClient, OutputCallback
from .kernel_code import final_answer_from_payload, setup_code, tools_code
from .kernel_process import KernelProcess
from .observation import ExecutionError, Observation
from .output import strip_ansi
from .packages import Installer, PackagePolicy, overlay_prefix, remove_overlay
from .sandboxes import LaunchRequest, SandboxConfig, get_backend

if TYPE_CHECKING:
    from .gateway.kernel import RemoteKernel

__all__ = ["LocalKernel", "OutputCallback", "Session"]

log = logging.getLogger("codeact.runtime")


class LocalKernel:
    """One running kernel: its process, the host ends of its channels, its tool bridge.
    (``gateway/kernel.py`` has the remote counterpart, with the same methods.)"""

    def __init__(self, session: Session) -> None:
        self.s = session
        self.process = KernelProcess(session.id, session.config, session.backend)
        self.key = uuid.uuid4().hex
        self.client = KernelClient(self.key, self.process.died)
        self.bridge: ToolBridge | None = None

    @property
    def proc(self) -> subprocess.Popen[bytes] | None:
        return self.process.proc

    @property
    def died(self) -> asyncio.Future[int | None]:
        return self.process.died

    @property
    def sockets(self) -> dict[str, zmq.asyncio.Socket]:
        return self.client.sockets

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None and not self.died.done()

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    @property
    def cgroup(self) -> cg.SessionCgroup | None:
        return self.process.cgroup

    def stderr_text(self) -> str:
        return self.process.stderr_text()

    def exit_reason(self) -> str:
        return self.process.exit_reason()

    def gateway_lost(self) -> Exception | None:
        return None  # a local kernel has no gateway to lose

    def user_expressions(self) -> dict[str, str]:
        return {}

    async def push(self, rels: list[str]) -> None:
        """Nothing to copy: a local kernel works in the host workspace itself."""

    async def after_cell(self, user_expressions: dict | None) -> None:
        """Nothing to copy back (see ``push``)."""

    async def start(self) -> None:
        s, backend = self.s, self.s.backend
        ipc = self.process.make_run_dir()
        assert self.process.run_dir is not None
        inside = backend.run_path(ipc)
        conn = {"transport": "ipc", "ip": f"{inside}/k", "shell_port": 1, "iopub_port": 2,
                "stdin_port": 3, "control_port": 4, "hb_port": 5, "key": self.key,
                "signature_scheme": "hmac-sha256", "kernel_name": "codeact"}
        (ipc / "kernel.json").write_text(json.dumps(conn))
        self.bridge = ToolBridge(str(ipc / "bridge.sock"), s._tools, backend.owner(),
                                 installer=s.installer.install)
        await self.bridge.start()
        kargv = ["ipykernel", "-f", f"{inside}/kernel.json", "--HistoryManager.enabled=False",
                 "--IPKernelApp.quiet=True", "--InteractiveShell.colors=NoColor"]
        self.process.launch(LaunchRequest(
            config=s.config, workspace=s.workspace, run_dir=self.process.run_dir, ipc_dir=ipc,
            kernel_argv=kargv, python=s.kernel_env.python,
            prefixes=list(s.kernel_env.prefixes), site_dir=s.installer.site_dir))
        self.client.connect(ipc)
        await self.client.wait_ready(s.config.start_timeout, self.process.failure,
                                     self.process.stderr_text)
        site = backend.site_path(s.installer.site_dir)
        code = setup_code(s.output_limit, f"{inside}/bridge.sock", site, suggest=s.suggest)
        if s._tools:
            code += tools_code(s._tools)
        await self.client.run_silent(code, 30.0, self.process.stderr_text)

    async def kill(self) -> None:
        await self.process.stop()
        self.client.close()
        if self.bridge is not None:
            await self.bridge.close()
        await self.process.cleanup()


class Session:
    """A persistent Python kernel with sandboxing, timeouts, output limits and tools.

    ``sandbox``: ``"bwrap"`` (default), ``"none"`` (UNSAFE) or a :class:`SandboxConfig`.
    ``workspace``: host directory mounted as the kernel's working directory
    (``/workspace`` inside); by default a fresh temporary one, removed on close.
    ``suggest``: the kernel adds "Did you mean ...?" notes to lookup errors (False: it
    does not, for the agent's ``did_you_mean`` ablation).
    """

    def __init__(
        self,
        sandbox: str | SandboxConfig = "bwrap",
        workspace: Path | str | None = None,
        tools: Sequence[Tool | Callable[..., Any]] = (),
        output_limit: int = 10_000,
        suggest: bool = True,
    ) -> None:
        self.config = SandboxConfig.usable(sandbox)
        self.backend = get_backend(self.config.backend)(self.config)
        self.kernel_env = kernel_env.resolve(self.config.kernel_env)
        self.package_policy = PackagePolicy.coerce(self.config.packages)
        self.output_limit = int(output_limit)
        self.suggest = bool(suggest)
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
        self._kernel: LocalKernel | RemoteKernel | None = None
        self._dirty: set[str] = set()  # workspace files a remote kernel has not got yet
        self._lock: asyncio.Lock | None = None
        self._current: CellRun | None = None
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
        return not self._closed and k is not None and k.alive

    @property
    def tools(self) -> list[Tool]:
        return list(self._tools)

    @property
    def packages(self) -> list[str]:
        """Notable modules the kernel can import beyond the standard library, by their
        import names (for the system prompt)."""
        return list(self.kernel_env.modules or self.kernel_env.packages)

    @property
    def sandboxed(self) -> bool:
        """Model code is isolated from the host (the backend says so)."""
        return self.backend.isolated

    @property
    def cgroup(self) -> cg.SessionCgroup | None:
        """The running kernel's cgroup (None: no cgroup limits in force, or no kernel)."""
        k = self._kernel
        return k.cgroup if k is not None else None

    def kernel_pid(self) -> int | None:
        """Host pid of the process started for the kernel (bwrap, or the kernel itself;
        None for a kernel on a gateway)."""
        k = self._kernel
        return k.pid if k is not None else None

    @property
    def remote(self) -> bool:
        """The kernel lives on a gateway (``--runtime URL``), not on this machine."""
        return self.backend.remote

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
        owner = self.backend.owner()
        if owner:
            wsfiles.chown_tree(self._workspace, owner)
        if self.backend.remote:
            from .gateway.kernel import RemoteKernel

            k: LocalKernel | RemoteKernel = RemoteKernel(self)
        else:
            k = LocalKernel(self)
        self._kernel = k
        self._dirty.clear()  # a new kernel gets every file
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
                if isinstance(k, LocalKernel) and k.proc is not None and k.proc.poll() is None:
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
            await k.client.run_silent(tools_code(tools), 30.0, k.stderr_text)

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
                def forward(name: str, text: str) -> None:
                    caller.call_soon_threadsafe(on_output, name, text)

                cb = forward
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
        if self._dirty:
            dirty = sorted(self._dirty)
            self._dirty.clear()
            await k.push(dirty)
        ex = CellRun(self.output_limit, on_output)
        self._current = ex
        msg_id, fut = k.client.send_id("shell", "execute_request",
                                {"code": code, "silent": False, "store_history": True,
                                 "user_expressions": k.user_expressions(),
                                 "allow_stdin": False, "stop_on_error": True})
        k.client.pending[msg_id] = ex
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
                k.client.send("control", "interrupt_request", {})
                done, _ = await asyncio.wait({finished, k.died},
                                             timeout=self.config.interrupt_grace,
                                             return_when=asyncio.FIRST_COMPLETED)
            intr.cancel()
            if finished in done:
                if ex.iopub_silent and not await k.client.iopub_works():
                    await self._crashed(
                        obs, "the kernel's output channel stopped delivering messages (the "
                             "cell's reply came without its output), so the kernel was killed")
                elif not k.died.done():
                    await k.after_cell(ex.user_expressions)
            elif k.died.done():
                await asyncio.sleep(0.02)  # the last output may still be in flight
                lost = k.gateway_lost()
                if lost is not None:  # no gateway to restart on here: the caller is told
                    log.warning("session %s: %s", self.id, lost)
                    raise lost
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
            if not k.died.done() and k.client.connected:
                k.client.send("control", "interrupt_request", {})
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
            k.client.pending.pop(msg_id, None)
            k.client.replies.pop(msg_id, None)
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

    async def _finished(self, ex: CellRun, fut: asyncio.Future[dict]) -> None:
        reply = await fut
        content = reply.get("content") or {}
        ex.user_expressions = content.get("user_expressions")
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
        # new folders and the file go to the sandbox user through their descriptors; no
        # walk over a tree that the live kernel can change under it
        p = wsfiles.write_bytes(self._workspace, relpath, data, mode=0o644,
                                owner=self.backend.owner())
        if self.remote:  # the kernel on the gateway gets it just before the next cell
            self._dirty.add(p.relative_to(self._workspace).as_posix())
        return p
