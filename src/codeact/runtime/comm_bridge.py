"""The tool bridge over the kernel protocol: host tools called through Jupyter comm messages.

A remote kernel (on a Jupyter Kernel/Enterprise Gateway) cannot reach a unix socket on the
host, so its tool calls travel in the kernel's own messages: the kernel-side client
(``kernel/startup.py``) sends ``comm_msg`` on iopub with ``{"id", "line"}`` (``line``: the
same JSON request line the socket transport sends) and blocks; the host answers with a
``comm_msg`` ``{"id", "line"}`` on the **control** channel. Control, not shell: the shell
is busy running the very cell that waits for the answer, while ipykernel serves control on
its own thread (the kernel-side code registers a ``comm_msg`` handler there).

Requests are answered by :meth:`ToolBridge.dispatch`, the one dispatcher both transports
share: the same conversions, errors and tracebacks, the same ``%pip`` through the host.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from typing import Any

from ..tools import Tool
from .bridge import ToolBridge
from .kernel_client import ProtocolClient

__all__ = ["COMM_TARGET", "PART_CHARS", "CommBridge"]

log = logging.getLogger("codeact.runtime")

COMM_TARGET = "codeact.bridge"  # the comm id the kernel-side client uses
PART_CHARS = 1 << 20  # characters of a reply per message (escaped, at most 6 MB)


class CommBridge(ToolBridge):
    """Serves one kernel's tool calls that arrive as comm messages on ``client``."""

    def __init__(self, client: ProtocolClient, tools: Sequence[Tool] = (),
                 installer: Callable[[list[str]], dict[str, Any]] | None = None) -> None:
        super().__init__("", tools, None, installer)
        self.client = client
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self.client.on_comm = self._on_comm

    async def close(self) -> None:
        self.client.on_comm = None
        for t in list(self._tasks):
            t.cancel()
        self._tasks.clear()

    def _on_comm(self, msg: dict) -> None:
        content = msg.get("content") or {}
        data = content.get("data") or {}
        if content.get("comm_id") != COMM_TARGET or not isinstance(data, dict):
            return
        line = data.get("line")
        if not isinstance(line, str):
            return
        task = asyncio.get_running_loop().create_task(self._answer(data.get("id"), line))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _answer(self, call_id: Any, line: str) -> None:
        text = (await self.dispatch(line.encode())).decode()
        # in parts: a gateway's WebSocket drops a message over 10 MB
        for start in range(0, max(len(text), 1), PART_CHARS):
            if not self.client.connected:
                return
            self.client.post("control", "comm_msg", {
                "comm_id": COMM_TARGET,
                "data": {"id": call_id, "line": text[start:start + PART_CHARS],
                         "last": start + PART_CHARS >= len(text)}})
