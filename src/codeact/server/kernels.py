"""The app's seam to the runtime: one sandboxed kernel per conversation, files mirrored.

:class:`KernelProvider` is what ``create_app`` uses by default; tests and embedders can
pass any object with the same ``acquire`` / ``sync`` / ``release`` methods instead.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

from codeact.server import workspace as ws
from codeact.server.errors import Busy

__all__ = ["KernelProvider"]

log = logging.getLogger("codeact.server")


class KernelProvider:
    """Hands out one sandboxed kernel per conversation; the app's seam to the runtime.

    Kernels come from :class:`codeact.runtime.SessionManager`'s warm pool, so a pooled
    kernel works in its own fresh workspace. The conversation's files live in a
    persistent directory: they are copied into the kernel's workspace when it is handed
    out, and the workspace is mirrored back after every code action and on release, so
    files survive the kernel (and the server). Idle kernels are closed by the hub, not by
    the manager, so that the last mirror happens first.
    """

    def __init__(self, *, max_sessions: int = 8, pool_size: int = 1,
                 sandbox: Any = "bwrap", output_limit: int = 10_000,
                 start_concurrency: int = 4) -> None:
        from codeact.runtime import SessionManager

        self.start_concurrency = start_concurrency
        self._starts: asyncio.Semaphore | None = None

        self.manager = SessionManager(sandbox, pool_size=pool_size,
                                      max_sessions=max_sessions, idle_timeout=None,
                                      output_limit=output_limit)
        self.max_sessions = max_sessions

    async def start(self) -> None:
        await self.manager.start()

    async def acquire(self, conversation_id: str, workspace: Path) -> Any:
        from codeact.runtime import SessionLimitError

        if self._starts is None:
            self._starts = asyncio.Semaphore(self.start_concurrency)
        async with self._starts:  # many kernels starting at once thrash a small machine
            try:
                session = await self.manager.acquire()
            except SessionLimitError as exc:
                raise Busy(str(exc)) from exc
            except Exception as exc:
                log.warning("could not start a kernel: %s", exc)
                raise Busy(f"could not start a sandboxed kernel: {exc}") from exc
        try:
            await asyncio.to_thread(_copy_in, workspace, session)
        except BaseException:
            await self.manager.release(session)
            raise
        return session

    def sync(self, session: Any, workspace: Path) -> None:
        """Mirror the kernel's workspace into the persistent one (any thread)."""
        ws.mirror(Path(session.workspace), workspace)

    async def release(self, conversation_id: str, session: Any, workspace: Path) -> None:
        try:
            await asyncio.to_thread(self.sync, session, workspace)
        finally:
            await self.manager.release(session)

    @property
    def live_count(self) -> int:
        return len(self.manager.sessions)

    async def close(self) -> None:
        await self.manager.aclose()


def _copy_in(workspace: Path, session: Any) -> None:
    for rel in ws.scan(workspace, limit=None):
        session.write_file(rel, (workspace / rel).read_bytes())
