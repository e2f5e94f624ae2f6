"""``codeact mcp``: serve the sandbox over MCP; ``codeact mcp tools``: show MCP tools.

Settings follow the project's rule (flags > environment > config file > defaults) for
what ``codeact run`` shares (``exec_timeout``, ``sandbox``, ``kernel_env``, ``packages``),
and become the kernels' sandbox through :mod:`codeact.assemble`.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from codeact.cli.options import with_settings
from codeact.config import Settings

app = typer.Typer(name="mcp", add_completion=False, pretty_exceptions_enable=False,
                  invoke_without_command=True, no_args_is_help=False)


def _fail(message: str, code: int = 2) -> typer.Exit:
    print(f"error: {message}", file=sys.stderr)
    return typer.Exit(code)


@app.callback()
@with_settings(("exec_timeout", "sandbox", "unsafe_no_sandbox", "kernel_env", "packages"),
               fail=_fail)
def mcp(
    ctx: typer.Context,
    transport: Annotated[str, typer.Option(
        "--transport", "-t", help="stdio (for a client that starts the server itself) or "
        "http (streamable HTTP at http://HOST:PORT/mcp).")] = "stdio",
    host: Annotated[str, typer.Option(
        "--host", help="(http) Interface to bind. Anything but localhost requires an access "
        "token (--token, or one generated and printed once).")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", "-p", help="(http) TCP port.")] = 8765,
    token: Annotated[str | None, typer.Option(
        "--token", envvar="CODEACT_MCP_TOKEN",
        help="(http) Access token clients must send as 'Authorization: Bearer TOKEN'. "
        "Env: CODEACT_MCP_TOKEN.")] = None,
    max_sessions: Annotated[int, typer.Option(
        "--max-sessions", min=1, help="(http) Most MCP sessions (each with its own kernel) "
        "at once; past it, new clients are told the server is busy.")] = 8,
    idle_timeout: Annotated[float, typer.Option(
        "--idle-timeout", min=1.0, help="(http) Seconds after which an idle session is "
        "closed, with its kernel.")] = 600.0,
    workspace: Annotated[Path | None, typer.Option(
        "--workspace", help="Directory the kernels work in, shared by all sessions and kept "
        "(default: a fresh temporary one per session, removed when it ends).")] = None,
    max_timeout: Annotated[float, typer.Option(
        "--max-timeout", min=1.0, help="The longest timeout a run_python call may ask "
        "for.")] = 600.0,
    *,
    settings: Settings,
    log_level: Annotated[str, typer.Option("--log-level", help="(http) uvicorn log level.")
                         ] = "warning",
) -> None:
    """Serve a sandboxed, persistent Python kernel as MCP tools: run_python, list_files,
    read_file, write_file, reset (one kernel per MCP client session).

    --exec-timeout is run_python's default timeout; --packages ask behaves as deny (there
    is no terminal)."""
    if ctx.invoked_subcommand is not None:
        return
    from codeact import assemble
    from codeact.hosts import WeakTokenError, check_token
    from codeact.mcp.errors import MCPUnavailableError, require_sdk
    from codeact.mcp.server import ServerConfig, serve_http, serve_stdio

    if transport not in ("stdio", "http"):
        raise _fail(f"--transport must be stdio or http, got {transport!r}")
    if transport == "http":
        try:
            check_token(host, token)
        except WeakTokenError as exc:
            raise _fail(str(exc)) from None
    try:
        require_sdk()
    except MCPUnavailableError as exc:
        raise _fail(str(exc)) from None
    try:
        warning = assemble.unsafe_warning(settings)
        if warning:
            print(f"codeact mcp: {warning}", file=sys.stderr)
        else:
            assemble.check_sandbox(settings)
        sandbox = assemble.sandbox_config(settings)  # no terminal user to ask
    except assemble.AssembleError as exc:
        raise _fail(str(exc)) from None
    config = ServerConfig(sandbox=sandbox, workspace=workspace,
                          exec_timeout=settings.exec_timeout, max_timeout=max_timeout,
                          max_sessions=max_sessions, idle_timeout=idle_timeout)
    try:
        if transport == "stdio":
            serve_stdio(config)
        else:
            serve_http(config, host=host, port=port, token=token, log_level=log_level)
    except KeyboardInterrupt:
        pass


@app.command("tools")
def tools(
    specs: Annotated[list[str], typer.Argument(
        help="MCP servers: a command line (quote it) or an http(s):// URL.")],
    timeout: Annotated[float, typer.Option(
        "--connect-timeout", help="Seconds a server may take to start.")] = 30.0,
) -> None:
    """Print the tools of MCP servers as the model sees them (Python stubs)."""
    from codeact.mcp import MCPError, load_mcp_tools

    try:
        found, manager = load_mcp_tools(specs, connect_timeout=timeout)
    except MCPError as exc:
        raise _fail(str(exc)) from None
    try:
        for t in found:
            print(t.python_stub() + "\n")
        print(f"# {len(found)} tool(s) from {len(specs)} server(s)", file=sys.stderr)
    finally:
        manager.close()
