"""``codeact mcp``: serve the sandbox over MCP; ``codeact mcp tools``: show MCP tools.

Settings follow the project's rule (flags > environment > config file > defaults) for
what ``codeact run`` shares: ``exec_timeout``, ``kernel_env``, ``packages``,
``unsafe_no_sandbox``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(name="mcp", add_completion=False, pretty_exceptions_enable=False,
                  invoke_without_command=True, no_args_is_help=False)


def _fail(message: str, code: int = 2) -> typer.Exit:
    print(f"error: {message}", file=sys.stderr)
    return typer.Exit(code)


@app.callback()
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
    exec_timeout: Annotated[float | None, typer.Option(
        "--exec-timeout", help="run_python's default timeout in seconds (default 60). "
        "Env: CODEACT_EXEC_TIMEOUT.")] = None,
    max_timeout: Annotated[float, typer.Option(
        "--max-timeout", min=1.0, help="The longest timeout a run_python call may ask "
        "for.")] = 600.0,
    kernel_env: Annotated[str | None, typer.Option(
        "--kernel-env", help="Python environment the kernels run in (a venv with "
        "ipykernel, or 'self'). Env: CODEACT_KERNEL_ENV.")] = None,
    packages: Annotated[str | None, typer.Option(
        "--packages", help="`%pip install` in the sandbox: allow or deny (ask is deny: "
        "there is no terminal). Env: CODEACT_PACKAGES.")] = None,
    unsafe_no_sandbox: Annotated[bool, typer.Option(
        "--unsafe-no-sandbox", help="Run code WITHOUT any sandbox, with your user's full "
        "access to files, network and secrets.")] = False,
    log_level: Annotated[str, typer.Option("--log-level", help="(http) uvicorn log level.")
                         ] = "warning",
) -> None:
    """Serve a sandboxed, persistent Python kernel as MCP tools: run_python, list_files,
    read_file, write_file, reset (one kernel per MCP client session)."""
    if ctx.invoked_subcommand is not None:
        return
    from codeact.config import ConfigError, load_settings
    from codeact.mcp.errors import MCPUnavailableError, require_sdk
    from codeact.mcp.server import ServerConfig, serve_http, serve_stdio

    if transport not in ("stdio", "http"):
        raise _fail(f"--transport must be stdio or http, got {transport!r}")
    try:
        require_sdk()
    except MCPUnavailableError as exc:
        raise _fail(str(exc)) from None
    try:
        settings = load_settings({"exec_timeout": exec_timeout, "kernel_env": kernel_env,
                                  "packages": packages,
                                  "unsafe_no_sandbox": unsafe_no_sandbox or None})
    except ConfigError as exc:
        raise _fail(str(exc)) from None
    sandbox = _sandbox(settings)
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


def _sandbox(settings: object) -> object:
    """The kernels' SandboxConfig; a broken sandbox fails here, in one line."""
    from codeact.runtime import SandboxConfig, check_bwrap
    from codeact.runtime import kernel_env as ke
    from codeact.runtime.packages import PackagePolicy

    unsafe = getattr(settings, "unsafe_no_sandbox", False)
    if unsafe:
        print("codeact mcp: UNSAFE: --unsafe-no-sandbox is set; code runs with your full "
              "access to files, network and secrets", file=sys.stderr)
    else:
        ok, message = check_bwrap()
        if not ok:
            raise _fail(f"the code sandbox does not work here: {message} (or pass "
                        "--unsafe-no-sandbox to run code unsandboxed)")
    env = getattr(settings, "kernel_env", None)
    try:
        if env is not None:
            ke.resolve(env)
        policy = PackagePolicy(mode=getattr(settings, "packages", "allow"),
                               allow=tuple(getattr(settings, "packages_allow", ())),
                               deny=tuple(getattr(settings, "packages_deny", ())),
                               max_mb=getattr(settings, "packages_max_mb", 200), ask=None)
    except (ke.KernelEnvError, ValueError) as exc:
        raise _fail(str(exc)) from None
    return SandboxConfig(backend="none" if unsafe else "bwrap", kernel_env=env,
                         packages=policy)


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
