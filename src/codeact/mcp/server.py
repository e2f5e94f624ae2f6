"""``codeact mcp``: a sandboxed, persistent Python kernel served as MCP tools.

Tools: ``run_python(code, timeout)`` (stdout, stderr, the last expression's value, the
error, and displayed images as image content), ``list_files(path)``, ``read_file(path)``,
``write_file(path, content)`` in the session's workspace, and ``reset()`` (a fresh
kernel; files stay). Each MCP client session gets its own workspace and kernel, started
on its first ``run_python`` and closed when the session ends: the SDK's low-level server
enters the lifespan once per session (once in all over stdio, once per
``Mcp-Session-Id`` over streamable HTTP), so the lifespan owns the session's state.
Over HTTP, :mod:`codeact.mcp.guard` applies ``codeact serve``'s access rules and the
session cap ("busy").
"""

# No ``from __future__ import annotations`` here: FastMCP reads the tools' annotations at
# registration, and they name classes imported inside build_server.
import asyncio
import base64
import contextlib
import logging
import shutil
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel

from codeact.hosts import is_local_host
from codeact.mcp import files as wsfiles
from codeact.mcp.errors import require_sdk
from codeact.mcp.guard import Guard

INSTRUCTIONS = (
    "A persistent, sandboxed Python kernel (no network, no access to the host's files). "
    "Variables, imports and functions persist across run_python calls within this "
    "session; files live in the workspace (the kernel's working directory, /workspace). "
    "Print what you want to see; the last expression's value is returned as `result`; "
    "matplotlib figures and other displayed images come back as images. "
    "Use write_file/read_file/list_files to move files in and out, reset() for a fresh "
    "kernel.")


class ErrorInfo(BaseModel):
    name: str
    message: str
    traceback: str = ""


class RunResult(BaseModel):
    """What one run_python call produced (the text content says the same for humans)."""

    stdout: str = ""
    stderr: str = ""
    result: str | None = None
    error: ErrorInfo | None = None
    images: int = 0
    timed_out: bool = False
    restarted: bool = False
    truncated: bool = False
    duration: float = 0.0


class FileEntry(BaseModel):
    path: str
    size: int


class FileList(BaseModel):
    files: list[FileEntry]
    truncated: bool = False


@dataclass
class ServerConfig:
    """How ``codeact mcp`` runs kernels. ``workspace``: one directory shared by every
    session (kept); None gives each session a fresh temporary one (removed with it)."""

    sandbox: Any = "bwrap"  # "bwrap" | "none" | runtime.SandboxConfig
    workspace: Path | None = None
    exec_timeout: float = 60.0  # run_python's default timeout
    max_timeout: float = 600.0  # the most a call may ask for
    max_sessions: int = 8
    idle_timeout: float | None = 600.0  # HTTP: close sessions idle this long
    output_limit: int = 10_000


@dataclass
class SessionState:
    """One MCP client session: its workspace and (once used) its kernel."""

    config: ServerConfig
    workspace: Path
    own_workspace: bool
    session: Any = None  # codeact.runtime.Session, started on first use
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    last_used: float = field(default_factory=time.monotonic)

    async def kernel(self) -> Any:
        """The session's kernel, started on first use."""
        from codeact.runtime import Session

        if self.session is None:
            self.session = Session(self.config.sandbox, workspace=self.workspace,
                                   output_limit=self.config.output_limit)
        await self.session.astart()
        return self.session

    async def aclose(self) -> None:
        if self.session is not None:
            with contextlib.suppress(Exception):
                await self.session.aclose()
            self.session = None
        if self.own_workspace:
            await asyncio.to_thread(shutil.rmtree, self.workspace, True)


class Sessions:
    """The live MCP sessions of this server (for the cap and for tests)."""

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self.live: set[int] = set()
        self._states: dict[int, SessionState] = {}

    def busy(self) -> str | None:
        """The "busy" message when no new session may open, else None."""
        n = len(self.live)
        if n >= self.config.max_sessions:
            return (f"codeact mcp is busy: {n} sessions are open, the most it serves at "
                    f"once (--max-sessions {self.config.max_sessions}). Try again when one "
                    "has ended.")
        return None

    @contextlib.asynccontextmanager
    async def session(self) -> AsyncIterator[SessionState]:
        """One MCP session's state, from the session's start to its end."""
        if self.config.workspace is not None:
            workspace, own = Path(self.config.workspace), False
            workspace.mkdir(parents=True, exist_ok=True)
        else:
            workspace, own = Path(tempfile.mkdtemp(prefix="codeact-mcp-")), True
        state = SessionState(self.config, workspace.resolve(), own)
        key = id(state)
        self.live.add(key)
        self._states[key] = state
        try:
            yield state
        finally:
            try:
                await state.aclose()
            finally:
                self.live.discard(key)
                self._states.pop(key, None)

    def states(self) -> list[SessionState]:
        return list(self._states.values())


def build_server(config: ServerConfig) -> tuple[Any, Sessions]:
    """The FastMCP server with codeact's tools, and its session registry."""
    require_sdk()
    from mcp.server.fastmcp import Context, FastMCP
    from mcp.server.fastmcp.exceptions import ToolError
    from mcp.server.transport_security import TransportSecuritySettings
    from mcp.types import CallToolResult, ImageContent, TextContent, ToolAnnotations

    from codeact.agent.observe import render_observation

    sessions = Sessions(config)

    @contextlib.asynccontextmanager
    async def lifespan(_server: Any) -> AsyncIterator[SessionState]:
        async with sessions.session() as state:
            yield state

    server = FastMCP(
        "codeact", instructions=INSTRUCTIONS, lifespan=lifespan,
        # codeact's own Guard checks Host, Origin and the token (see guard.py)
        transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
        session_idle_timeout=config.idle_timeout,
        max_sessions=config.max_sessions,
        log_level="WARNING",
    )

    def state_of(ctx: Context) -> SessionState:
        return ctx.request_context.lifespan_context

    @server.tool(annotations=ToolAnnotations(title="Run Python", openWorldHint=False))
    async def run_python(code: str, ctx: Context, timeout: float | None = None
                         ) -> Annotated[CallToolResult, RunResult]:
        """Run Python code in this session's persistent, sandboxed Jupyter kernel.

        Variables, imports and definitions persist between calls. Returns stdout,
        stderr, the value of the last expression (`result`), the error with its
        traceback, and displayed images (e.g. matplotlib figures) as images. The
        kernel has no network; its working directory is the workspace (/workspace).

        Args:
            code: Python source to run (IPython syntax, e.g. `%timeit`, is accepted).
            timeout: Seconds the code may run before it is interrupted (default 60).
        """
        state = state_of(ctx)
        limit = config.exec_timeout if timeout is None else float(timeout)
        if not limit > 0:
            raise ToolError("timeout must be a positive number of seconds")
        note = ""
        if limit > config.max_timeout:
            note = (f"[timeout {limit:g} s is above this server's limit; "
                    f"{config.max_timeout:g} s was used]\n")
            limit = config.max_timeout
        async with state.lock:
            state.last_used = time.monotonic()
            try:
                kernel = await state.kernel()
            except Exception as exc:
                raise ToolError(f"the Python kernel could not start: {exc}") from None
            obs = await kernel.aexecute(code, timeout=limit)
        result = RunResult(
            stdout=obs.stdout, stderr=obs.stderr, result=obs.result,
            error=ErrorInfo(name=obs.error.name, message=obs.error.message,
                            traceback=obs.error.traceback) if obs.error else None,
            images=len(obs.images), timed_out=obs.timed_out, restarted=obs.restarted,
            truncated=obs.truncated, duration=round(obs.duration, 4))
        content: list[Any] = [TextContent(type="text", text=note + render_observation(obs))]
        content += [ImageContent(type="image", mimeType="image/png",
                                 data=base64.b64encode(png).decode("ascii"))
                    for png in obs.images]
        return CallToolResult(content=content, structuredContent=result.model_dump())

    @server.tool(annotations=ToolAnnotations(title="List files", readOnlyHint=True,
                                             openWorldHint=False))
    async def list_files(ctx: Context, path: str = "") -> FileList:
        """List the files in the workspace (recursively), with their sizes in bytes.

        Args:
            path: A directory inside the workspace (default: all of it).
        """
        state = state_of(ctx)
        try:
            found = await asyncio.to_thread(wsfiles.list_files, state.workspace, path)
        except wsfiles.WorkspaceError as exc:
            raise ToolError(str(exc)) from None
        return FileList.model_validate(found)

    @server.tool(annotations=ToolAnnotations(title="Read a file", readOnlyHint=True,
                                             openWorldHint=False))
    async def read_file(path: str, ctx: Context) -> CallToolResult:
        """Read a file from the workspace: text as text (the first 1 MiB), images
        (.png, .jpg, .gif, .webp) as images.

        Args:
            path: The file, relative to the workspace (or under /workspace/).
        """
        state = state_of(ctx)
        try:
            kind, value = await asyncio.to_thread(wsfiles.read_file, state.workspace, path)
        except wsfiles.WorkspaceError as exc:
            raise ToolError(str(exc)) from None
        if kind == "image":
            data, mime = value
            return CallToolResult(content=[ImageContent(
                type="image", mimeType=mime, data=base64.b64encode(data).decode("ascii"))])
        return CallToolResult(content=[TextContent(type="text", text=value)])

    @server.tool(annotations=ToolAnnotations(title="Write a file", destructiveHint=True,
                                             openWorldHint=False))
    async def write_file(path: str, content: str, ctx: Context) -> str:
        """Write a text file into the workspace (parent directories are created; an
        existing file is replaced), for the kernel to use.

        Args:
            path: The file, relative to the workspace (or under /workspace/).
            content: The text to write (UTF-8).
        """
        from codeact.runtime.sandboxes.base import SandboxConfig
        from codeact.runtime.sandboxes.bwrap import sandbox_owner

        state = state_of(ctx)
        cfg = SandboxConfig.usable(config.sandbox)
        owner = sandbox_owner() if cfg.backend == "bwrap" else None
        try:
            n = await asyncio.to_thread(wsfiles.write_file, state.workspace, path, content,
                                        owner)
        except wsfiles.WorkspaceError as exc:
            raise ToolError(str(exc)) from None
        return f"wrote {n:,} bytes to {path}"

    @server.tool(annotations=ToolAnnotations(title="Reset the kernel", destructiveHint=True,
                                             idempotentHint=True, openWorldHint=False))
    async def reset(ctx: Context) -> str:
        """Start a fresh Python kernel for this session: all variables and imports are
        lost; files in the workspace stay."""
        state = state_of(ctx)
        async with state.lock:
            if state.session is not None:
                await state.session.aclose()
                state.session = None
        return "the kernel was reset: variables and imports are gone, files stay"

    return server, sessions


def _quiet_closed_streams(record: logging.LogRecord) -> bool:
    """Drop the SDK's traceback for a stream closed by a session's normal end (mcp 1.30
    logs "Error in standalone SSE writer" with ClosedResourceError at every DELETE)."""
    exc = record.exc_info[1] if record.exc_info else None
    return not (exc is not None and type(exc).__name__ == "ClosedResourceError")


def http_app(config: ServerConfig, *, host: str = "127.0.0.1", token: str | None = None
             ) -> tuple[Any, Sessions]:
    """The streamable HTTP ASGI app (MCP endpoint at ``/mcp``) behind the Guard."""
    sdk_log = logging.getLogger("mcp.server.streamable_http")
    if _quiet_closed_streams not in sdk_log.filters:
        sdk_log.addFilter(_quiet_closed_streams)
    server, sessions = build_server(config)
    app = Guard(server.streamable_http_app(), token=token, check_host=is_local_host(host),
                busy=sessions.busy)
    return app, sessions


def serve_stdio(config: ServerConfig) -> None:
    """Serve one client over stdin/stdout until it disconnects."""
    server, _ = build_server(config)
    server.run("stdio")


def serve_http(config: ServerConfig, *, host: str = "127.0.0.1", port: int = 8765,
               token: str | None = None, log_level: str = "warning",
               announce: Callable[[str], None] | None = None) -> None:
    """Serve streamable HTTP at ``http://HOST:PORT/mcp`` until interrupted."""
    import uvicorn

    from codeact.hosts import resolve_token

    say = announce or (lambda line: print(line, file=sys.stderr, flush=True))
    token, generated = resolve_token(host, token)
    app, _ = http_app(config, host=host, token=token)
    shown = f"[{host}]" if ":" in host else host
    if host in ("0.0.0.0", "::"):
        shown = "127.0.0.1"
    say(f"codeact mcp: MCP endpoint http://{shown}:{port}/mcp")
    if token and generated:
        say(f"codeact mcp: access token (shown once): {token}")
    if token:
        say("codeact mcp: clients must send 'Authorization: Bearer TOKEN'")
    uvicorn.run(app, host=host, port=port, log_level=log_level, timeout_graceful_shutdown=5)
