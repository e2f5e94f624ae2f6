"""``codeact serve``: the typer command (``serve``) and a one-command typer ``app``.

The main CLI registers :func:`serve` with ``app.command("serve")(serve)``. Settings
follow the project's rule: flags > environment > config file > defaults.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Annotated, Any

import typer

app = typer.Typer(name="serve", add_completion=False, pretty_exceptions_enable=False,
                  help="Run the chat web app.")


def _load_object(spec: str) -> Any:
    module, _, attr = spec.partition(":")
    if not module or not attr:
        raise typer.BadParameter(f"{spec!r}: expected module:attribute")
    obj: Any = importlib.import_module(module)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


@app.command("serve")
def serve(
    host: Annotated[str, typer.Option(
        "--host", help="Interface to bind. Anything but localhost requires an access "
        "token (--token, or one generated and printed once).")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", "-p", help="TCP port.")] = 8000,
    db: Annotated[str | None, typer.Option(
        "--db", help="Database: postgresql://user:pass@host/db, sqlite:///file.db or a "
        "file path (default: server.db in the user data directory).")] = None,
    token: Annotated[str | None, typer.Option(
        "--token", envvar="CODEACT_SERVER_TOKEN",
        help="Access token required by the API and UI. Env: CODEACT_SERVER_TOKEN.")] = None,
    model: Annotated[str | None, typer.Option(
        "--model", "-m", help="Default model (registry name, .gguf path, openai:NAME, "
        "hf:REPO, litellm:NAME). Env: CODEACT_MODEL.")] = None,
    models: Annotated[list[str] | None, typer.Option(
        "--models", help="More models offered in the UI's selector (repeatable).")] = None,
    data_dir: Annotated[Path | None, typer.Option(
        "--data-dir", help="Where the SQLite file and conversation workspaces live.")] = None,
    max_sessions: Annotated[int, typer.Option(
        "--max-sessions", min=1, help="Cap on live sandboxed kernels; past it, new "
        "conversations get 'busy, try again'.")] = 8,
    pool_size: Annotated[int, typer.Option(
        "--pool-size", min=0, help="Kernels kept pre-started.")] = 1,
    idle_timeout: Annotated[float, typer.Option(
        "--idle-timeout", min=1.0, help="Seconds before an idle conversation's kernel is "
        "closed (variables are lost, files stay).")] = 600.0,
    max_upload_mb: Annotated[int, typer.Option(
        "--max-upload-mb", min=1, help="Largest upload in MiB.")] = 50,
    unsafe_no_sandbox: Annotated[bool, typer.Option(
        "--unsafe-no-sandbox", help="Run model-written code WITHOUT a sandbox.")] = False,
    mcp: Annotated[list[str] | None, typer.Option(
        "--mcp", help="Give every conversation the tools of an MCP server: a command line "
        "(stdio) or an http(s):// URL; repeatable. Connected once at start, closed at "
        "shutdown. Env: CODEACT_MCP (';'-separated).")] = None,
    kernel_env: Annotated[str | None, typer.Option(
        "--kernel-env", help="Python environment kernels run in: a venv path with ipykernel, "
        "or 'self' for codeact's own. Env: CODEACT_KERNEL_ENV.")] = None,
    packages: Annotated[str | None, typer.Option(
        "--packages", help="`%pip install` in the sandbox, done by the host: allow or deny "
        "(ask = deny: a server has no terminal user). Env: CODEACT_PACKAGES.")] = None,
    llm_factory: Annotated[str | None, typer.Option(
        "--llm-factory", hidden=True,
        help="module:attr of a callable spec -> LLM (tests, demos).")] = None,
    log_level: Annotated[str, typer.Option("--log-level")] = "info",
) -> None:
    """Run the chat web app (FastAPI + a static UI) under uvicorn."""
    from codeact.config import ConfigError, load_settings
    from codeact.server import serve as run_server

    try:
        settings = load_settings({"model": model, "mcp": mcp or None,
                                  "kernel_env": kernel_env, "packages": packages})
    except ConfigError as exc:
        raise typer.BadParameter(str(exc)) from None
    sandbox = _sandbox(settings, unsafe_no_sandbox or settings.unsafe_no_sandbox)
    factory = _load_object(llm_factory) if llm_factory else None
    if factory is None:
        from codeact.server.llms import LLMCache

        options: dict[str, Any] = {"base_url": settings.base_url, "api_key": settings.api_key,
                                   "n_ctx": settings.n_ctx, "n_threads": settings.n_threads}
        factory = LLMCache(options={k: v for k, v in options.items() if v is not None})
    tools, manager = _mcp_tools(settings.mcp, settings.exec_timeout)
    try:
        run_server(
            host=host, port=port, db=db, token=token, model=settings.model,
            models=[settings.model, *(models or [])], data_dir=data_dir,
            max_sessions=max_sessions, pool_size=pool_size, idle_timeout=idle_timeout,
            sandbox=sandbox,
            agent_options={"max_turns": settings.max_turns,
                           "exec_timeout": settings.exec_timeout,
                           "max_new_tokens": settings.max_new_tokens,
                           "temperature": settings.temperature,
                           "action_format": settings.action_format, "tools": tools},
            llm_factory=factory, max_upload_bytes=max_upload_mb * 1024 * 1024,
            log_level=log_level,
        )
    finally:
        if manager is not None:
            manager.close()  # stops stdio MCP servers


def _sandbox(settings: Any, unsafe: bool) -> Any:
    """The kernels' sandbox, Python environment and package policy (as for ``run``; no
    terminal user to ask, so ``ask`` behaves as ``deny``)."""
    from codeact.runtime import SandboxConfig
    from codeact.runtime import kernel_env as ke
    from codeact.runtime.packages import PackagePolicy

    try:
        if settings.kernel_env is not None:
            ke.resolve(settings.kernel_env)  # a broken --kernel-env fails here, in one line
        policy = PackagePolicy(mode=settings.packages, allow=tuple(settings.packages_allow),
                               deny=tuple(settings.packages_deny),
                               max_mb=settings.packages_max_mb,
                               persist=settings.packages_persist, ask=None)
    except (ke.KernelEnvError, ValueError) as exc:
        raise typer.BadParameter(str(exc)) from None
    return SandboxConfig(backend="none" if unsafe else "bwrap",
                         kernel_env=settings.kernel_env, packages=policy)


def _mcp_tools(specs: list[str], timeout: float) -> tuple[list[Any], Any]:
    """Connect to the MCP servers once, for every conversation; (tools, manager or None)."""
    if not specs:
        return [], None
    from codeact.mcp import MCPError, load_mcp_tools

    try:
        return load_mcp_tools(specs, call_timeout=timeout)
    except MCPError as exc:
        raise typer.BadParameter(str(exc)) from None


if __name__ == "__main__":  # pragma: no cover
    app()
