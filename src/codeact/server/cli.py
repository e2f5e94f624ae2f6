"""``codeact serve``: the typer command (``serve``) and a one-command typer ``app``.

The main CLI registers :func:`serve` with ``app.command("serve")(serve)``. Settings
follow the project's rule (flags > environment > config file > defaults) and become the
app's model, tools and sandbox through :mod:`codeact.assemble`, as for ``codeact run``.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Annotated, Any

import typer

from codeact.cli.options import RUNTIME, with_settings
from codeact.config import Settings

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
@with_settings(("model", "mcp", "sandbox", "unsafe_no_sandbox", "kernel_env", "packages",
                *RUNTIME),
               fail=typer.BadParameter)
def serve(
    settings: Settings,
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
    llm_factory: Annotated[str | None, typer.Option(
        "--llm-factory", hidden=True,
        help="module:attr of a callable spec -> LLM (tests, demos).")] = None,
    log_level: Annotated[str, typer.Option("--log-level")] = "info",
) -> None:
    """Run the chat web app (FastAPI + a static UI) under uvicorn.

    --model is the default model; with --mcp, every conversation gets the server's tools
    (connected once at start, closed at shutdown); --packages ask behaves as deny (a
    server has no terminal user)."""
    from codeact import assemble
    from codeact.hosts import WeakTokenError, check_token
    from codeact.server import serve as run_server

    try:
        check_token(host, token)
    except WeakTokenError as exc:
        raise typer.BadParameter(str(exc), param_hint="--token") from None
    try:
        warning = assemble.unsafe_warning(settings)
        sandbox = assemble.sandbox_config(settings)  # no terminal user to ask
        if settings.runtime:  # a refused kernelspec fails now, not at the first message
            assemble.check_runtime_kernelspec(settings)
        assemble.check_prompt(settings)
    except assemble.AssembleError as exc:
        raise typer.BadParameter(str(exc)) from None
    if warning:
        typer.echo(f"codeact serve: {warning}", err=True)
    factory = _load_object(llm_factory) if llm_factory else None
    if factory is None:
        from codeact.server.llms import LLMCache

        factory = LLMCache(options=assemble.llm_options(settings))
    try:
        tools, manager = assemble.load_mcp_tools(settings.mcp, settings.exec_timeout)
    except assemble.AssembleError as exc:
        raise typer.BadParameter(str(exc)) from None
    try:
        run_server(
            host=host, port=port, db=db, token=token, model=settings.model,
            models=[settings.model, *(models or [])], data_dir=data_dir,
            max_sessions=max_sessions, pool_size=pool_size, idle_timeout=idle_timeout,
            sandbox=sandbox, agent_options={**assemble.agent_options(settings), "tools": tools},
            llm_factory=factory, max_upload_bytes=max_upload_mb * 1024 * 1024,
            log_level=log_level,
        )
    finally:
        if manager is not None:
            manager.close()  # stops stdio MCP servers


if __name__ == "__main__":  # pragma: no cover
    app()
