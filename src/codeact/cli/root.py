"""The ``codeact`` command: its own commands (run, chat, config, doctor) and every
package's sub-app (models, sandbox, kernel-env, bench, collect, data, serve, notebook,
mcp, train), mounted here."""

from __future__ import annotations

import typer

from codeact.cli.chat import chat
from codeact.cli.doctor import doctor
from codeact.cli.output import console, fail
from codeact.cli.run import run

app = typer.Typer(
    name="codeact",
    help="LLM agents that act by writing Python, run in a sandboxed Jupyter kernel.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.command()(run)
app.command()(chat)


@app.command("config")
def show_config() -> None:
    """Show the effective settings and where each one came from."""
    from rich.table import Table

    from codeact.config import ConfigError, load_settings
    from codeact.paths import default_config_path

    try:
        settings = load_settings()
    except ConfigError as exc:
        raise fail(str(exc)) from None
    table = Table(title=f"config file: {default_config_path()}")
    table.add_column("setting")
    table.add_column("value")
    table.add_column("from")
    for name, source in settings.sources.items():
        value = getattr(settings, name)
        if name == "api_key" and value:
            value = value[:4] + "…"
        table.add_row(name, repr(value), source)
    console.print(table)


app.command()(doctor)


def _mount_subcommands() -> None:
    from codeact.llm.cli import app as models_app
    from codeact.runtime.cli import app as sandbox_app
    from codeact.runtime.cli import kernel_env_app

    app.add_typer(models_app, name="models", help="List, pull, locate and add local models.")
    app.add_typer(sandbox_app, name="sandbox", help="Check the code sandbox.")
    app.add_typer(kernel_env_app, name="kernel-env",
                  help="The Python environment kernels run in (create, info).")
    from codeact.cli.kernelspec import app as kernelspec_app

    app.add_typer(kernelspec_app, name="kernelspec", help="Jupyter kernelspecs that start "
                  "kernels in codeact's sandbox, for gateway hosts (install, list, remove).")
    try:
        from codeact.bench.cli import app as bench_app

        app.add_typer(bench_app, name="bench", help="Benchmark models and action formats.")
    except ImportError:  # pragma: no cover - bench extras missing
        pass
    try:
        from codeact.data.cli import app as data_app
        from codeact.data.cli import collect

        app.command("collect")(collect)
        app.add_typer(data_app, name="data",
                      help="Training data: export, import, stats, show, generate.")
    except ImportError:  # pragma: no cover - data extras missing
        pass
    try:
        from codeact.server.cli import serve

        app.command("serve")(serve)
    except ImportError:  # pragma: no cover - server deps missing
        pass
    from codeact.notebook.cli import notebook

    app.command("notebook")(notebook)
    from codeact.mcp.cli import app as mcp_app

    app.add_typer(mcp_app, name="mcp", help="Serve a sandboxed Python kernel over MCP; "
                  "list an MCP server's tools as codeact sees them.")
    from codeact.train.cli import app as train_app
    from codeact.train.cli import self_distill_cmd

    app.add_typer(train_app, name="train", help="Fine-tune a model on code-action "
                  "trajectories; compare it with its base; export it.")
    try:  # `codeact data self-distill` when the data sub-app exists (also `train self-distill`)
        from codeact.data.cli import app as data_app

        data_app.command("self-distill")(self_distill_cmd)
    except ImportError:  # pragma: no cover - data sub-app not installed
        pass


_mount_subcommands()


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
