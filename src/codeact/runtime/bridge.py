"""The host side of the tool bridge: a unix socket server per session.

The kernel sends one JSON line per call ``{"tool", "args", "kwargs"}`` (or, for
``%pip install``, ``{"op": "pip", "args"}``, answered by the session's installer); the host runs the
real callable (in a worker thread, so it may block on network or disk) and answers one
JSON line ``{"ok": true, "result": ...}`` or ``{"ok": false, "type", "message", "args",
"base"}``. Values on both sides go through :mod:`codeact.runtime.convert`.
Lines are capped in size so a hostile kernel cannot make the host buffer without bound.
"""

from __future__ import annotations

import asyncio
import builtins
import concurrent.futures
import inspect
import json
import logging
import os
from collections.abc import Callable, Sequence
from typing import Any

from ..tools import Tool
from . import convert

log = logging.getLogger("codeact.runtime")

MAX_LINE = 16 << 20  # 16 MiB per request
_executor = concurrent.futures.ThreadPoolExecutor(max_workers=32, thread_name_prefix="codeact-tool")


class ToolBridge:
    """Serves tool calls for one session on ``path`` (runs on the runtime loop)."""

    def __init__(self, path: str, tools: Sequence[Tool] = (), owner: tuple[int, int] | None = None,
                 installer: Callable[[list[str]], dict[str, Any]] | None = None):
        self.path = path
        self.tools: dict[str, Tool] = {t.name: t for t in tools}
        self.owner = owner
        self.installer = installer  # answers {"op": "pip", "args": [...]} (runtime/packages)
        self.calls = 0
        self._server: asyncio.base_events.Server | None = None
        self._conns: set[asyncio.StreamWriter] = set()

    def set_tools(self, tools: Sequence[Tool]) -> None:
        self.tools = {t.name: t for t in tools}

    async def start(self) -> None:
        if os.path.exists(self.path):
            os.unlink(self.path)
        self._server = await asyncio.start_unix_server(self._handle, path=self.path,
                                                       limit=MAX_LINE)
        os.chmod(self.path, 0o666)  # the dir (0700, session-private) is the access control
        if self.owner is not None:
            os.chown(self.path, *self.owner)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for w in list(self._conns):
            w.close()
        self._conns.clear()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._conns.add(writer)
        try:
            while True:
                try:
                    line = await reader.readline()
                except (asyncio.LimitOverrunError, ValueError):
                    log.warning("tool bridge: request over %d bytes, closing", MAX_LINE)
                    return
                if not line:
                    return
                reply = await self.dispatch(line)
                writer.write(reply)
                await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            return
        finally:
            self._conns.discard(writer)
            writer.close()

    async def dispatch(self, line: bytes) -> bytes:
        """Answer one request line (either transport): the reply line, JSON + newline."""
        self.calls += 1
        try:
            req = convert.loads(line)
            name = req.get("tool") if req.get("op") == "pip" else req["tool"]
            args = req.get("args") or []
            kwargs = req.get("kwargs") or {}
            if not isinstance(args, list) or not isinstance(kwargs, dict):
                raise TypeError("bad tool request")
            if req.get("op") == "pip":
                return await self._pip(args)
        except Exception as exc:
            return _reply({"ok": False, "type": "ValueError",
                           "message": f"malformed tool request: {exc}"})
        tool = self.tools.get(name)
        if tool is None:
            return _reply({"ok": False, "type": "NameError",
                           "message": f"no tool named {name!r}"})
        try:
            if inspect.iscoroutinefunction(tool.fn):
                result = await tool.fn(*args, **kwargs)
            else:
                loop = asyncio.get_running_loop()
                result = await loop.run_in_executor(_executor, lambda: tool.fn(*args, **kwargs))
                if inspect.isawaitable(result):
                    result = await result
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # SystemExit in a tool must not stop the host loop
            return _reply(error_reply(exc))
        try:
            return _reply({"ok": True, "result": convert.to_json(
                result, f"the value returned by tool {name!r}")})
        except (TypeError, ValueError, RecursionError) as exc:
            return _reply({"ok": False, "type": "TypeError", "message": str(exc)})


    async def _pip(self, args: list[Any]) -> bytes:
        """A ``pip`` request from the kernel: the host's installer, or a one-line refusal."""
        if self.installer is None:
            return _reply({"ok": False, "message": "package installs are disabled"})
        installer = self.installer
        loop = asyncio.get_running_loop()
        result = await loop.run_in_executor(_executor, lambda: installer([str(a) for a in args]))
        return _reply(result)


def error_reply(exc: BaseException) -> dict[str, Any]:
    """How a host tool's exception travels: its type name and message; its arguments
    when the type is a builtin the kernel can rebuild exactly; and the nearest builtin
    base, so ``except ValueError`` in model code still catches a ``ValueError`` subclass.
    """
    etype = type(exc)
    message = str(exc)
    builtin = getattr(builtins, etype.__name__, None) is etype
    args: list[Any] | None = None
    if builtin:
        try:
            args = convert.to_json(list(exc.args))
            if str(etype(*exc.args)) != message:
                args = None
        except Exception:
            args = None
    base = next((c.__name__ for c in etype.__mro__
                 if getattr(builtins, c.__name__, None) is c), "Exception")
    return {"ok": False, "type": etype.__name__, "message": message, "args": args,
            "base": base}


def _reply(obj: dict[str, Any]) -> bytes:
    try:
        text = json.dumps(obj, ensure_ascii=False)
    except (TypeError, ValueError) as exc:
        text = json.dumps({"ok": False, "type": "TypeError",
                           "message": f"the tool's reply could not be encoded: {exc}"})
    return (text + "\n").encode()
