"""Many sessions at once: a warm pool, an idle reaper and a cap on live sessions.

``SessionManager`` is async (usable from any event loop; its state lives on the runtime
loop); ``SyncSessionManager`` is a thin blocking wrapper. Sessions are never reused
between users: ``release`` closes a session, and the pool is refilled with fresh kernels.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from ..errors import CodeactError
from ..tools import Tool, as_tools
from ._loop import run_async, run_sync
from .sandboxes import SandboxConfig
from .session import Session

log = logging.getLogger("codeact.runtime")


class SessionLimitError(CodeactError, RuntimeError):
    """Too many live sessions: close some (or raise ``max_sessions``) first."""


class SessionManager:
    """Hands out sandboxed sessions, fast, from a pool of pre-started kernels.

    ``pool_size``: kernels kept started and waiting. ``max_sessions``: acquired sessions
    allowed at once (past it, ``acquire`` raises :class:`SessionLimitError`).
    ``idle_timeout``: seconds after its last execute when an acquired session is closed
    (None: never). ``tools``: default tools of every session.
    """

    def __init__(
        self,
        sandbox: str | SandboxConfig = "bwrap",
        *,
        pool_size: int = 2,
        max_sessions: int = 32,
        idle_timeout: float | None = 600.0,
        tools: Sequence[Tool | Callable[..., Any]] = (),
        output_limit: int = 10_000,
    ) -> None:
        self.config = SandboxConfig.usable(sandbox)
        self.pool_size = max(0, int(pool_size))
        self.max_sessions = int(max_sessions)
        self.idle_timeout = idle_timeout
        self.tools = as_tools(tools)
        self.output_limit = output_limit
        self._active: dict[str, Session] = {}
        self._pool: list[Session] = []
        self._starting = 0
        self._reserved = 0
        self._refill: asyncio.Task[None] | None = None
        self._reaper: asyncio.Task[None] | None = None
        self._closed = False
        self._started = False
        self._pool_changed: asyncio.Event | None = None

    # -- public async API ----------------------------------------------------------------
    async def start(self) -> SessionManager:
        """Start the pool and the idle reaper (``acquire`` does this on first use)."""
        await run_async(self._start())
        return self

    async def acquire(self, *, tools: Sequence[Tool | Callable[..., Any]] | None = None,
                      workspace: Path | str | None = None) -> Session:
        """A started session, from the pool when possible."""
        return await run_async(self._acquire(tools, workspace))

    async def release(self, session: Session) -> None:
        """Close an acquired session."""
        await run_async(self._release(session))

    def get(self, session_id: str) -> Session | None:
        return self._active.get(session_id)

    @property
    def sessions(self) -> list[Session]:
        return list(self._active.values())

    @property
    def pooled(self) -> int:
        return len(self._pool)

    @contextlib.asynccontextmanager
    async def session(self, **kwargs: Any) -> AsyncIterator[Session]:
        s = await self.acquire(**kwargs)
        try:
            yield s
        finally:
            await self.release(s)

    async def wait_pool(self, timeout: float = 60.0) -> None:
        """Wait until the pool is full (handy for benchmarks and tests)."""
        await run_async(self._wait_pool(timeout))

    async def reap_idle(self) -> int:
        """Close sessions idle past ``idle_timeout`` now; returns how many."""
        return await run_async(self._reap_once())

    async def aclose(self) -> None:
        """Close every session and pooled kernel; no process is left behind."""
        await run_async(self._aclose())

    async def __aenter__(self) -> SessionManager:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # -- internals (runtime loop) --------------------------------------------------------
    def _new_session(self, tools: Sequence[Tool] | None, workspace: Path | str | None) -> Session:
        return Session(self.config, workspace=workspace,
                       tools=self.tools if tools is None else tools,
                       output_limit=self.output_limit)

    async def _start(self) -> None:
        if self._closed:
            raise RuntimeError("session manager is closed")
        if self._started:
            return
        self._started = True
        self._pool_changed = asyncio.Event()
        self._kick_refill()
        if self.idle_timeout is not None:
            self._reaper = asyncio.get_running_loop().create_task(self._reap_loop())

    def _kick_refill(self) -> None:
        if self._closed or self.pool_size == 0:
            return
        if self._refill is None or self._refill.done():
            self._refill = asyncio.get_running_loop().create_task(self._refill_pool())

    async def _refill_pool(self) -> None:
        failures = 0
        while not self._closed and len(self._pool) < self.pool_size:
            s = Session(self.config, tools=(), output_limit=self.output_limit)
            self._starting += 1
            try:
                await s._start()
            except Exception as exc:
                failures += 1
                log.warning("could not pre-start a kernel for the pool: %s", exc)
                await s._close()
                if failures >= 3:
                    return
                await asyncio.sleep(1.0)
                continue
            finally:
                self._starting -= 1
            if self._closed:
                await s._close()
                return
            self._pool.append(s)
            assert self._pool_changed is not None
            self._pool_changed.set()

    async def _wait_pool(self, timeout: float) -> None:
        await self._start()
        deadline = time.monotonic() + timeout
        while len(self._pool) < self.pool_size and time.monotonic() < deadline:
            assert self._pool_changed is not None
            self._pool_changed.clear()
            self._kick_refill()
            try:
                await asyncio.wait_for(self._pool_changed.wait(), 0.5)
            except TimeoutError:
                pass

    async def _acquire(self, tools: Sequence[Tool | Callable[..., Any]] | None,
                       workspace: Path | str | None) -> Session:
        await self._start()
        if len(self._active) + self._reserved >= self.max_sessions:
            raise SessionLimitError(
                f"{len(self._active) + self._reserved} sessions are live, the cap is max_sessions="
                f"{self.max_sessions}: close or release a session first")
        tool_list = as_tools(tools) if tools is not None else self.tools
        s: Session | None = None
        while workspace is None and self._pool:
            cand = self._pool.pop(0)
            if cand.alive:
                s = cand
                break
            await cand._close()
        if s is None:
            s = self._new_session(tool_list, workspace)
            self._reserved += 1  # hold the slot while it starts
            try:
                await s._start()
            except BaseException:
                await s._close()
                raise
            finally:
                self._reserved -= 1
            self._active[s.id] = s
        else:
            self._active[s.id] = s
            try:
                if tool_list:
                    await s._set_tools(list(tool_list))
            except BaseException:
                self._active.pop(s.id, None)
                await s._close()
                raise
        s.last_used = time.monotonic()
        self._kick_refill()
        return s

    async def _release(self, session: Session) -> None:
        self._active.pop(session.id, None)
        await session._close()

    async def _reap_loop(self) -> None:
        assert self.idle_timeout is not None
        period = max(0.05, min(self.idle_timeout / 4, 30.0))
        while not self._closed:
            await asyncio.sleep(period)
            try:
                await self._reap_once()
            except Exception:  # pragma: no cover
                log.exception("idle reaper failed")

    async def _reap_once(self) -> int:
        if self.idle_timeout is None:
            return 0
        now = time.monotonic()
        idle = [s for s in self._active.values()
                if s._current is None and now - s.last_used > self.idle_timeout]
        for s in idle:
            log.info("closing session %s: idle for %.0fs", s.id, now - s.last_used)
            self._active.pop(s.id, None)
            await s._close()
        return len(idle)

    async def _aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        for t in (self._refill, self._reaper):
            if t is not None:
                t.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await t
        sessions = list(self._active.values()) + list(self._pool)
        self._active.clear()
        self._pool.clear()
        await asyncio.gather(*(s._close() for s in sessions), return_exceptions=True)


class SyncSessionManager:
    """Blocking wrapper around :class:`SessionManager` (same arguments)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.manager = SessionManager(*args, **kwargs)

    def start(self) -> SyncSessionManager:
        run_sync(self.manager._start())
        return self

    def acquire(self, **kwargs: Any) -> Session:
        return run_sync(self.manager._acquire(kwargs.get("tools"), kwargs.get("workspace")))

    def release(self, session: Session) -> None:
        run_sync(self.manager._release(session))

    def get(self, session_id: str) -> Session | None:
        return self.manager.get(session_id)

    @property
    def sessions(self) -> list[Session]:
        return self.manager.sessions

    @property
    def pooled(self) -> int:
        return self.manager.pooled

    def wait_pool(self, timeout: float = 60.0) -> None:
        run_sync(self.manager._wait_pool(timeout))

    def reap_idle(self) -> int:
        return run_sync(self.manager._reap_once())

    @contextlib.contextmanager
    def session(self, **kwargs: Any) -> Iterator[Session]:
        s = self.acquire(**kwargs)
        try:
            yield s
        finally:
            self.release(s)

    def close(self) -> None:
        run_sync(self.manager._aclose())

    def __enter__(self) -> SyncSessionManager:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
