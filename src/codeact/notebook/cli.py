"""``codeact notebook TRAJECTORY.jsonl -o run.ipynb`` and the writer behind ``run --notebook``.

The main CLI mounts :func:`notebook` with ``app.command("notebook")(notebook)`` and calls
:func:`save_notebook` after a run.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from codeact.notebook.build import NotebookError, dumps, trajectory_notebook
from codeact.trajectory import Trajectory

__all__ = ["load_trajectories", "notebook", "save_notebook"]

err_console = Console(stderr=True, soft_wrap=True)


def load_trajectories(path: Path) -> list[Trajectory]:
    """Every trajectory in a JSONL file: trajectory lines (``run --json``, collected runs)
    or bench result lines with a ``trajectory`` field (lines whose run kept none are
    skipped)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise NotebookError(f"cannot read {path}: {exc.strerror or exc}") from None
    out: list[Trajectory] = []
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except ValueError:
            raise NotebookError(f"{path}:{lineno}: not a JSON line") from None
        if isinstance(data, dict) and "turns" not in data and "trajectory" in data:
            data = data["trajectory"]
            if data is None:
                continue
        if not isinstance(data, dict) or "turns" not in data or "task" not in data:
            raise NotebookError(f"{path}:{lineno}: neither a trajectory nor a bench result "
                                "with one")
        try:
            out.append(Trajectory.from_dict(data))
        except (TypeError, ValueError) as exc:
            raise NotebookError(f"{path}:{lineno}: not a trajectory ({exc})") from None
    return out


def _write(traj: Trajectory, output: Path) -> int:
    nb = trajectory_notebook(traj)
    try:
        output.write_text(dumps(nb), encoding="utf-8")
    except OSError as exc:
        raise NotebookError(f"cannot write {output}: {exc.strerror or exc}") from None
    return len(nb.cells)


def save_notebook(traj: Trajectory, output: Path, console: Console | None = None) -> None:
    """``run --notebook FILE``: write the run's notebook, or exit 2 with one line."""
    try:
        n = _write(traj, output)
    except NotebookError as exc:
        (console or err_console).print(f"[bold red]error:[/] {escape(str(exc))}")
        raise typer.Exit(2) from None
    (console or err_console).print(f"[dim]notebook: {n} cells written to "
                                   f"{escape(str(output))}[/]")


def notebook(
    trajectories: Annotated[Path, typer.Argument(
        help="A JSONL file of trajectories (`codeact run --json`) or of bench results.")],
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="Where to write the .ipynb (default: the input file's name "
        "with .ipynb).")] = None,
    index: Annotated[int, typer.Option(
        "--index", help="Which trajectory of the file (0 = first; negative counts from "
        "the end; default: the last).")] = -1,
) -> None:
    """Write a run's trajectory as a Jupyter notebook that re-runs in a plain kernel."""
    try:
        runs = load_trajectories(trajectories)
        if not runs:
            raise NotebookError(f"{trajectories}: no trajectory in the file")
        if not -len(runs) <= index < len(runs):
            raise NotebookError(f"--index {index}: the file has {len(runs)} trajectories")
        target = output or trajectories.with_suffix(".ipynb")
        if target.resolve() == trajectories.resolve():
            raise NotebookError(f"{target}: the output would overwrite the input; pass -o")
        n = _write(runs[index], target)
    except NotebookError as exc:
        err_console.print(f"[bold red]error:[/] {escape(str(exc))}")
        raise typer.Exit(2) from None
    print(f"{target}: {n} cells (trajectory {index % len(runs)} of {len(runs)})")
