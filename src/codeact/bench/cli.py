"""``codeact bench``: run a suite (the default command), ``report`` and ``compare``.

    codeact bench --suite builtin --format code,json,text --workers 2 -o results.jsonl
    codeact bench report results.jsonl --markdown results.md --plot results.png
    codeact bench compare before.jsonl after.jsonl
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from codeact.cli.options import RUNTIME, with_settings
from codeact.config import Settings

app = typer.Typer(
    help="Benchmark models and action formats. Without a subcommand: run a suite.",
    invoke_without_command=True,
    no_args_is_help=False,
    add_completion=False,
)
console = Console()
if not console.is_terminal:  # logs and pipes: room for every report column
    console = Console(width=max(console.width, 130))


def _fail(message: str) -> None:
    console.print(f"[red]error:[/red] {message}")
    raise typer.Exit(2)


def _hints(settings: Settings) -> list[str]:
    """The hints --no-hint leaves on and --hint adds; an unknown name fails in one line."""
    from codeact import assemble

    try:
        return assemble.hints_on(settings)
    except assemble.AssembleError as exc:
        _fail(str(exc))
        raise


def _ablate(settings: Settings) -> list[str]:
    """The mechanisms --ablate switches off; an unknown name fails in one line."""
    from codeact.agent.loop import check_ablations

    try:
        return sorted(check_ablations(settings.ablate))
    except ValueError as exc:
        _fail(f"{settings.sources.get('ablate', 'ablate')}: {exc}")
        raise


def _formats(value: str) -> list[str]:
    from codeact.actions import format_names

    known = format_names()
    items = [v.strip().lower() for v in value.split(",") if v.strip()]
    if items == ["all"]:
        return known
    bad = [v for v in items if v not in known]
    if bad or not items:
        _fail(f"--format takes a comma-separated list of {', '.join(known)}; got {value!r}")
    return list(dict.fromkeys(items))


@app.callback()
@with_settings(("model", "base_url", "api_key", "prompt", "context_window", "sandbox",
                "unsafe_no_sandbox", "resample", "samples", "sample_temperature", "sample_all",
                "hints_off", "hints_on", "ablate", *RUNTIME), fail=_fail)
def run(
    ctx: typer.Context,
    suite: Annotated[str, typer.Option(
        help="builtin | builtin-quick | builtin-24 | thirdparty | humaneval | humaneval-40 |"
        " chat-20 | module:callable | entry-point name"
    )] = "builtin",
    *,
    settings: Settings,
    format: Annotated[str, typer.Option(
        "--format", "-f", help="Action formats, comma-separated: code,json,text (or all)"
    )] = "code",
    workers: Annotated[int, typer.Option(
        min=1, help="Parallel runs (an in-process model is shared behind a lock)")] = 1,
    limit: Annotated[int | None, typer.Option(help="Run only the first N tasks")] = None,
    filter: Annotated[str | None, typer.Option(
        "--filter", help="Regex on task name or domain")] = None,
    max_turns: Annotated[int, typer.Option(min=1, help="Turn limit per task")] = 10,
    output: Annotated[Path, typer.Option(
        "--output", "-o", help="Results JSONL (reruns resume it)")] = Path("results.jsonl"),
    backend: Annotated[str, typer.Option(help="local | ray")] = "local",
    ray_address: Annotated[str | None, typer.Option(
        help="Ray cluster address (default: start a local Ray instance)")] = None,
    exec_timeout: Annotated[float, typer.Option(help="Seconds per code execution")] = 30.0,
    task_timeout: Annotated[float, typer.Option(
        help="Wall-clock seconds per task and format (0: none)")] = 600.0,
    max_new_tokens: Annotated[int, typer.Option(help="Token limit per model reply")] = 1024,
    fresh: Annotated[bool, typer.Option(
        "--fresh", help="Do not resume: rerun everything (appends to --output)")] = False,
    progress: Annotated[bool, typer.Option(help="Show a progress bar")] = True,
) -> None:
    """Run a suite in one or more action formats and write one JSON line per run.

    --model bench:oracle answers every task correctly (a check of the harness). --prompt
    changes the code format's prompt only (json and text keep their frozen prompts); the
    results are keyed by its hash. --sandbox also runs the graders that execute code."""
    if ctx.invoked_subcommand is not None:
        return
    from codeact import assemble
    from codeact.bench.report import rich_table, summarize
    from codeact.bench.results import load_results
    from codeact.bench.run_one import RunConfig
    from codeact.bench.runner import run_suite
    from codeact.bench.suites import SuiteError, load_suite, select

    fmts = _formats(format)
    if backend not in ("local", "ray"):
        _fail("--backend must be local or ray")
    try:
        sandbox = assemble.sandbox_spec(settings)
        assemble.check_prompt(settings)
    except assemble.AssembleError as exc:
        _fail(str(exc))
    try:
        tasks = select(load_suite(suite), filter=filter, limit=limit)
    except (SuiteError, ImportError) as exc:
        _fail(str(exc))
    if not tasks:
        _fail("no tasks match --filter/--limit")

    spec = settings.model
    if spec == "bench:oracle" or spec.startswith("bench:oracle"):
        from codeact.bench.oracle import OracleFactory

        factory = OracleFactory(suite)
    else:
        from codeact.llm.registry import spec_in_process

        options = {}
        if backend == "ray" and spec_in_process(spec):
            # each Ray worker loads its own in-process model: split the cores between them
            options["n_threads"] = max(1, (os.cpu_count() or 1) // workers)
        factory = assemble.llm_factory(settings, local=False, **options)
    cfg = RunConfig(formats=fmts, max_turns=max_turns, workers=workers, sandbox=sandbox,
                    exec_timeout=exec_timeout, task_timeout=task_timeout or None,
                    max_new_tokens=max_new_tokens, suite=suite, prompt=settings.prompt,
                    context_window=settings.context_window, resample=settings.resample,
                    hints=_hints(settings), samples=settings.samples,
                    sample_temperature=settings.sample_temperature,
                    sample_all=settings.sample_all,
                    ablate=_ablate(settings))
    llm = None
    if backend == "local":
        from codeact.llm.base import LLMError

        try:
            llm = factory()
        except (LLMError, ImportError, OSError, ValueError) as exc:
            _fail(f"cannot load model {spec!r}: {exc}")
    if llm is not None and workers > 1:
        from codeact.llm.serialized import is_in_process

        if is_in_process(llm):
            console.print("[yellow]note:[/yellow] the workers share one in-process model "
                          "behind a lock; interleaved conversations defeat its prompt cache, "
                          "so --workers 1 is usually faster with a local model")
    console.print(f"[bold]{len(tasks)}[/bold] tasks x {len(fmts)} format(s) "
                  f"({', '.join(fmts)}) with [bold]{spec}[/bold], {workers} worker(s), "
                  f"results in {output}")
    try:
        run_suite(tasks, llm, cfg, output, resume=not fresh, progress=progress,
                  backend=backend, ray_address=ray_address, llm_factory=factory)
    except KeyboardInterrupt:
        console.print("[yellow]interrupted[/yellow]: rerun the same command to resume")
        raise typer.Exit(130) from None
    names = {t.name for t in tasks}
    summary = summarize(r for r in load_results(output)
                        if r.get("task") in names and r.get("format") in fmts)
    console.print(rich_table(summary))


@app.command()
def report(
    results: Annotated[Path, typer.Argument(help="Results JSONL written by codeact bench")],
    markdown: Annotated[Path | None, typer.Option(help="Also write a Markdown table")] = None,
    plot: Annotated[Path | None, typer.Option(help="Also write a PNG bar chart")] = None,
    title: Annotated[str, typer.Option(help="Title for the table and chart")] = "Benchmark results",
) -> None:
    """Success rate, turns, tokens and wall time per format and per domain."""
    from codeact.bench import report as rep
    from codeact.bench.results import load_results

    if not results.exists():
        _fail(f"no such file: {results}")
    records = load_results(results)
    if not records:
        _fail(f"{results} holds no results")
    summary = rep.summarize(records)
    console.print(rep.rich_table(summary, title))
    if markdown is not None:
        markdown.write_text(rep.markdown(summary, title), encoding="utf-8")
        console.print(f"wrote {markdown}")
    if plot is not None:
        rep.plot(summary, plot, title)
        console.print(f"wrote {plot}")


@app.command()
def compare(
    a: Annotated[Path, typer.Argument(help="First results JSONL (A)")],
    b: Annotated[Path, typer.Argument(help="Second results JSONL (B)")],
    markdown: Annotated[Path | None, typer.Option(help="Also write a Markdown table")] = None,
) -> None:
    """Two result files side by side (two models, or before/after a change)."""
    from codeact.bench import report as rep
    from codeact.bench.results import load_results

    for p in (a, b):
        if not p.exists():
            _fail(f"no such file: {p}")
    rows = rep.compare(load_results(a), load_results(b))
    console.print(rep.compare_table(rows, str(a), str(b)))
    if markdown is not None:
        markdown.write_text(rep.compare_markdown(rows, str(a), str(b)), encoding="utf-8")
        console.print(f"wrote {markdown}")


def main() -> None:  # pragma: no cover - `python -m codeact.bench`
    app()
