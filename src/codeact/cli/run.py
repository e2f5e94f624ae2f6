"""``codeact run``: solve one task, stream it to the terminal, exit 0 on an answer."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from codeact.cli.build import terminal_agent
from codeact.cli.options import AGENT, with_settings
from codeact.cli.output import console, fail
from codeact.config import Settings


@with_settings((*AGENT, "samples", "sample_temperature", "sample_all"), fail=fail)
def run(
    task: Annotated[str, typer.Argument(help="What the agent should do.")],
    settings: Settings,
    json_out: Annotated[Path | None, typer.Option(
        "--json", help="Write the trajectory as one JSON line to this file ('-': stdout).")
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q",
                                        help="Print only the final answer.")] = False,
    notebook_out: Annotated[Path | None, typer.Option(
        "--notebook", help="Also write the run as a Jupyter notebook (.ipynb).")] = None,
) -> None:
    """Solve one task; exit code 0 when the agent ended with an answer (with --samples:
    the majority answer of that many runs)."""
    from codeact.agent.consistency import stream_samples
    from codeact.cli.render import EventPrinter
    from codeact.events import DoneEvent

    agent = terminal_agent(settings, chat=False)
    printer = EventPrinter(Console(stderr=True) if json_out == Path("-") else console)
    trajectory = None
    try:
        events = agent.stream(task) if settings.samples <= 1 else stream_samples(
            agent, task, settings.samples, temperature=settings.sample_temperature,
            all_runs=settings.sample_all)
        for event in events:
            if isinstance(event, DoneEvent):
                trajectory = event.trajectory
            if not quiet:
                printer.handle(event)
    except KeyboardInterrupt:
        agent.interrupt()
        raise fail("interrupted", 130) from None
    finally:
        agent.close()
    assert trajectory is not None
    if quiet and trajectory.answer is not None:
        console.print(trajectory.answer)
    if json_out is not None:
        line = trajectory.to_json() + "\n"
        if json_out == Path("-"):
            sys.stdout.write(line)
        else:
            json_out.write_text(line, encoding="utf-8")
    if notebook_out is not None:
        from codeact.notebook.cli import save_notebook
        save_notebook(trajectory, notebook_out)
    if trajectory.stop_reason == "error":
        raise fail(trajectory.error or "the run failed", 1)
    raise typer.Exit(0 if trajectory.stop_reason == "solution" else 1)
