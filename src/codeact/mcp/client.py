"""Host-side MCP connections: one per server, shared by every session of the process.

:class:`MCPManager` runs a private asyncio loop in a background thread. Each server gets
one task there that opens the transport (a subprocess over stdio, or streamable HTTP),
holds one ``ClientSession`` and closes both when told to: anyio requires a transport to
be closed by the task that opened it. :meth:`MCPManager.call` is synchronous and
thread-safe, so the tool bridge's worker threads (and the json/text formats, which call
tools directly) can use it; failures come back as the exceptions of
:mod:`codeact.mcp.errors`. A server that died is started again on the next call.

Server specs, as ``--mcp`` and the config file give them: a URL (``http://...`` or
``https://...``: streamable HTTP) or a command line (stdio), split like a shell would.
Leading ``NAME=VALUE`` words set environment variables for a command, or HTTP headers
for a URL (``'Authorization=Bearer TOKEN' https://host/mcp``). As in the MCP SDK, a stdio
server inherits only a few variables (``HOME``, ``PATH``, ``USER``, ...) plus those.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import re
import shlex
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from codeact.mcp.errors import (
    MCPConnectionError,
    MCPLoadError,
    MCPTimeoutError,
    MCPToolError,
    require_sdk,
)

log = logging.getLogger("codeact.mcp")

DEFAULT_CALL_TIMEOUT = 60.0
DEFAULT_CONNECT_TIMEOUT = 30.0
_PAIR_WORD = re.compile(r"^([A-Za-z_][A-Za-z0-9_-]*)=(.*)$", re.S)
_URL = re.compile(r"^https?://", re.I)
_STDERR_TAIL = 2000  # characters of a server's stderr quoted in errors


@dataclass(frozen=True)
class ServerSpec:
    """One MCP server: ``url`` (streamable HTTP, with ``headers``) or ``command`` (stdio,
    with ``env``)."""

    text: str
    url: str | None = None
    command: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    headers: tuple[tuple[str, str], ...] = ()

    @property
    def transport(self) -> str:
        return "http" if self.url else "stdio"

    @property
    def label(self) -> str:
        """How messages name the server: the URL, or the command line without env."""
        return self.url or shlex.join(self.command)


_PAIR_IN_TEXT = re.compile(r"""(^|\s)(['"])?([A-Za-z_][A-Za-z0-9_-]*)=(?:"[^"]*"|'[^']*'|"""
                           r"""(?(2)(?:(?!\2).)*|\S*))""")


def _shown(text: str) -> str:
    """A spec for an error message: the values of its ``NAME=VALUE`` pairs (headers such
    as ``Authorization=Bearer ...``, env values such as API keys) blanked."""
    return repr(_PAIR_IN_TEXT.sub(r"\1\2\3=[redacted]", text))


def parse_spec(spec: str) -> ServerSpec:
    """Read one ``--mcp`` value (see the module docstring); MCPLoadError when unusable."""
    if not isinstance(spec, str) or not spec.strip():
        raise MCPLoadError("an MCP server spec is empty: give a command line or a URL")
    text = spec.strip()
    try:
        words = shlex.split(text)
    except ValueError as exc:
        raise MCPLoadError(f"MCP server spec {_shown(text)} cannot be split: {exc}") from None
    pairs: list[tuple[str, str]] = []
    while words and _PAIR_WORD.match(words[0]):
        name, value = _PAIR_WORD.match(words[0]).groups()  # type: ignore[union-attr]
        pairs.append((name, value))
        words.pop(0)
    if not words:
        raise MCPLoadError(f"MCP server spec {_shown(text)} has no command or URL")
    if _URL.match(words[0]):
        if len(words) > 1:
            raise MCPLoadError(f"MCP server spec {_shown(text)}: a URL takes no arguments "
                               "(quote it if it contains spaces)")
        return ServerSpec(text, url=words[0], headers=tuple(pairs))
    bad = [n for n, _ in pairs if not n.isidentifier()]
    if bad:
        raise MCPLoadError(f"MCP server spec {_shown(text)}: {bad[0]!r} is not an environment "
                           "variable name")
    return ServerSpec(text, command=tuple(words), env=tuple(pairs))


@dataclass
class _Connection:
    """One server's task, session and state (all touched on the manager's loop only)."""

    spec: ServerSpec
    session: Any = None
    tools: list[Any] = field(default_factory=list)
    server_name: str = ""
    task: asyncio.Task | None = None
    stop: asyncio.Event | None = None
    stderr: Any = None  # a temporary file with the stdio server's stderr
    error: BaseException | None = None  # why the connection ended, if it did

    @property
    def alive(self) -> bool:
        return self.session is not None and self.task is not None and not self.task.done()

    def stderr_tail(self) -> str:
        f = self.stderr
        if f is None:
            return ""
        try:
            f.flush()
            f.seek(0)
            text = f.read()
        except (OSError, ValueError):
            return ""
        text = text.strip()
        return text[-_STDERR_TAIL:] if text else ""


class MCPManager:
    """Connections to a list of MCP servers, usable from any thread.

    ``call_timeout``: default seconds a tool call may take; ``connect_timeout``: seconds a
    server may take to start and list its tools. Use as a context manager, or call
    :meth:`start` and :meth:`close`.
    """

    def __init__(self, specs: Sequence[str | ServerSpec], *,
                 call_timeout: float = DEFAULT_CALL_TIMEOUT,
                 connect_timeout: float = DEFAULT_CONNECT_TIMEOUT) -> None:
        self.specs = [s if isinstance(s, ServerSpec) else parse_spec(s) for s in specs]
        self.call_timeout = float(call_timeout)
        self.connect_timeout = float(connect_timeout)
        self._conns = [_Connection(s) for s in self.specs]
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._closed = False
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> MCPManager:
        """Connect to every server (in parallel) and list its tools; raise MCPLoadError,
        with the server's own error output, when one fails (the others are closed)."""
        require_sdk()
        with self._lock:
            if self._closed:
                raise RuntimeError("the MCP manager is closed")
            if self._loop is None:
                ready = threading.Event()
                self._thread = threading.Thread(target=self._run_loop, args=(ready,),
                                                name="codeact-mcp", daemon=True)
                self._thread.start()
                ready.wait()
        try:
            self._submit(self._connect_all(), self.connect_timeout + 10)
        except BaseException:
            self.close()
            raise
        return self

    def _run_loop(self, ready: threading.Event) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self._loop = loop
        ready.set()
        try:
            loop.run_forever()
        finally:
            loop.close()

    def close(self) -> None:
        """Close every connection (stdio servers are stopped) and the loop thread."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        loop = self._loop
        if loop is None:
            return
        if loop.is_running():
            fut = asyncio.run_coroutine_threadsafe(self._close_all(), loop)
            with contextlib.suppress(Exception):
                fut.result(timeout=15)
            loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)

    def __enter__(self) -> MCPManager:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def closed(self) -> bool:
        return self._closed

    # ------------------------------------------------------------------ queries
    def servers(self) -> list[tuple[ServerSpec, str, list[Any]]]:
        """``(spec, server name, tools)`` per server, tools as ``mcp.types.Tool``."""
        return [(c.spec, c.server_name, list(c.tools)) for c in self._conns]

    def call(self, server: int, tool: str, arguments: dict[str, Any] | None = None, *,
             timeout: float | None = None) -> Any:
        """Call ``tool`` on server number ``server``; the ``CallToolResult``.

        Raises MCPTimeoutError, MCPConnectionError or MCPToolError (a protocol-level
        error; a result with ``isError`` is returned as it is).
        """
        if self._closed or self._loop is None:
            raise MCPConnectionError("the MCP connections are closed")
        if threading.current_thread() is self._thread:
            raise RuntimeError("MCPManager.call from the manager's own loop would deadlock")
        limit = self.call_timeout if timeout is None else float(timeout)
        return self._submit(self._call(server, tool, arguments or {}, limit),
                            limit + self.connect_timeout + 5)

    def _submit(self, coro: Any, wait: float) -> Any:
        assert self._loop is not None
        fut = asyncio.run_coroutine_threadsafe(coro, self._loop)
        try:
            return fut.result(timeout=wait)
        except concurrent.futures.TimeoutError:
            if fut.done():  # the call itself raised a TimeoutError (MCPTimeoutError)
                raise
            fut.cancel()
            raise MCPTimeoutError(f"no answer from the MCP connection within {wait:.0f} s"
                                  ) from None

    # ------------------------------------------------------------------ on the loop
    async def _connect_all(self) -> None:
        results = await asyncio.gather(*(self._connect(c) for c in self._conns),
                                       return_exceptions=True)
        errors = [r for r in results if isinstance(r, BaseException)]
        if errors:
            raise errors[0]

    async def _connect(self, conn: _Connection) -> None:
        loop = asyncio.get_running_loop()
        ready: asyncio.Future[None] = loop.create_future()
        conn.stop = asyncio.Event()
        conn.error = None
        conn.task = asyncio.create_task(self._serve(conn, ready))
        try:
            await asyncio.wait_for(asyncio.shield(ready), self.connect_timeout)
        except TimeoutError:
            conn.stop.set()
            conn.task.cancel()
            with contextlib.suppress(BaseException):
                await conn.task
            raise MCPLoadError(self._start_failure(
                conn, f"it did not finish starting within {self.connect_timeout:.0f} s"
            )) from None
        except MCPLoadError:
            raise

    def _start_failure(self, conn: _Connection, why: str) -> str:
        tail = conn.stderr_tail()
        msg = f"MCP server {conn.spec.label!r} could not be used: {why}"
        return msg + (f"\nits error output:\n{tail}" if tail else "")

    async def _serve(self, conn: _Connection, ready: asyncio.Future[None]) -> None:
        """The connection's whole life, in one task (anyio wants open and close there)."""
        from mcp import ClientSession

        try:
            async with contextlib.AsyncExitStack() as stack:
                if conn.spec.url:
                    from mcp.client.streamable_http import streamable_http_client
                    from mcp.shared._httpx_utils import create_mcp_http_client

                    http = await stack.enter_async_context(
                        create_mcp_http_client(headers=dict(conn.spec.headers) or None))
                    read, write, _ = await stack.enter_async_context(
                        streamable_http_client(conn.spec.url, http_client=http))
                else:
                    from mcp.client.stdio import StdioServerParameters, stdio_client

                    if conn.stderr is None:
                        conn.stderr = tempfile.TemporaryFile("w+", encoding="utf-8",
                                                             errors="replace")
                    params = StdioServerParameters(command=conn.spec.command[0],
                                                   args=list(conn.spec.command[1:]),
                                                   env=dict(conn.spec.env) or None)
                    read, write = await stack.enter_async_context(
                        stdio_client(params, errlog=conn.stderr))
                session = await stack.enter_async_context(ClientSession(read, write))
                init = await session.initialize()
                conn.server_name = getattr(init.serverInfo, "name", "") or ""
                conn.tools = await _list_all_tools(session)
                conn.session = session
                if not ready.done():
                    ready.set_result(None)
                assert conn.stop is not None
                await conn.stop.wait()
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # noqa: BLE001 - reported to the waiting caller
            conn.error = exc
            if not ready.done():
                ready.set_exception(MCPLoadError(self._start_failure(conn, _describe(exc))))
            else:
                log.warning("MCP server %s: connection ended: %s", conn.spec.label,
                            _describe(exc))
        finally:
            conn.session = None

    async def _call(self, server: int, tool: str, arguments: dict[str, Any],
                    timeout: float) -> Any:
        from mcp.shared.exceptions import McpError

        conn = self._conns[server]
        if not conn.alive:
            await self._reconnect(conn)
        session = conn.session
        try:
            return await session.call_tool(tool, arguments,
                                           read_timeout_seconds=timedelta(seconds=timeout))
        except McpError as exc:
            code = getattr(exc.error, "code", None)
            if code == 408:
                raise MCPTimeoutError(
                    f"MCP tool {tool!r} on {conn.spec.label!r} did not answer within "
                    f"{timeout:g} s") from None
            if code == -32000 and "closed" in str(exc).lower():  # CONNECTION_CLOSED
                await self._drop(conn)
                raise MCPConnectionError(self._gone(conn, tool)) from None
            raise MCPToolError(f"MCP tool {tool!r} failed: {exc}") from None
        except (OSError, EOFError) as exc:
            await self._drop(conn)
            raise MCPConnectionError(f"{self._gone(conn, tool)}: {exc}") from None
        except Exception as exc:
            if _is_closed_stream(exc):
                await self._drop(conn)
                raise MCPConnectionError(self._gone(conn, tool)) from None
            raise

    def _gone(self, conn: _Connection, tool: str) -> str:
        msg = (f"MCP tool {tool!r}: the connection to {conn.spec.label!r} was lost "
               "(it is reconnected on the next call)")
        tail = conn.stderr_tail()
        return msg + (f"; the server's last error output: {tail[-500:]}" if tail else "")

    async def _drop(self, conn: _Connection) -> None:
        if conn.stop is not None:
            conn.stop.set()
        task = conn.task
        if task is not None and not task.done():
            try:
                await asyncio.wait_for(asyncio.shield(task), 5)
            except (TimeoutError, Exception):
                task.cancel()
        conn.session = None

    async def _reconnect(self, conn: _Connection) -> None:
        await self._drop(conn)
        try:
            await self._connect(conn)
        except MCPLoadError as exc:
            raise MCPConnectionError(f"MCP server {conn.spec.label!r} is not connected and "
                                     f"could not be restarted: {exc}") from None

    async def _close_all(self) -> None:
        await asyncio.gather(*(self._drop(c) for c in self._conns), return_exceptions=True)
        for c in self._conns:
            if c.stderr is not None:
                with contextlib.suppress(OSError):
                    c.stderr.close()
                c.stderr = None


async def _list_all_tools(session: Any) -> list[Any]:
    """Every tool, following pagination cursors (at most 100 pages)."""
    tools: list[Any] = []
    cursor = None
    for _ in range(100):
        page = await session.list_tools(cursor=cursor) if cursor else await session.list_tools()
        tools.extend(page.tools)
        cursor = getattr(page, "nextCursor", None)
        if not cursor:
            break
    return tools


def _is_closed_stream(exc: BaseException) -> bool:
    """anyio's "the stream is closed" errors (matched by name: anyio comes with the SDK)."""
    return (type(exc).__module__.split(".")[0] == "anyio" and type(exc).__name__ in
            ("ClosedResourceError", "BrokenResourceError", "EndOfStream"))


def _describe(exc: BaseException) -> str:
    """One readable line for an exception, unwrapping anyio's exception groups."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    text = str(exc).strip()
    name = type(exc).__name__
    if isinstance(exc, FileNotFoundError) and exc.filename:
        return f"command not found: {exc.filename}"
    return f"{name}: {text}" if text else name
