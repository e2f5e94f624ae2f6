"""``codeact collect`` and ``codeact data export | import | stats | show | sample |
generate``.

    codeact collect --source all --n 500 --seed 1 -o results/train-1
    codeact data export results/train-1/raw.jsonl -o results/train-1-repaired --repair
    codeact data stats results/train-1/data.jsonl --plot hist.png
    codeact data show results/train-1/data.jsonl math/units/s1-3/qwen2.5-coder-1.5b/...
    codeact data import CodeActInstruct.jsonl sharegpt.jsonl -o mixed.jsonl
    codeact data sample results/train-1 results/train-2 -o examples/trajectories --n 50
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from codeact.cli.options import RUNTIME, with_settings
from codeact.config import Settings

app = typer.Typer(help="Training data: export, import, inspect and generate tasks.",
                  no_args_is_help=True, add_completion=False)
console = Console()


def _fail(message: str) -> typer.Exit:
    console.print(f"[red]error:[/red] {message}")
    return typer.Exit(2)


# Filter flags shared by `collect` and `data export`.
KeepUnsolved = Annotated[bool, typer.Option(
    "--keep-unsolved", help="Keep trajectories whose answer failed the checker")]
MinTurns = Annotated[int, typer.Option(
    "--min-turns", min=0, help="Least assistant turns kept (3: drop those solved in <= 2)")]
KeepAllErrors = Annotated[bool, typer.Option(
    "--keep-all-errors", help="Keep trajectories where every code execution errored")]
Repair = Annotated[bool, typer.Option(
    "--repair", help="Cut invalid-action turns out instead of dropping the trajectory")]
KeepInvalid = Annotated[bool, typer.Option(
    "--keep-invalid", help="Keep trajectories with invalid-action turns as they are")]
NoDedup = Annotated[bool, typer.Option("--no-dedup", help="Keep identical trajectories")]
NoDecontam = Annotated[bool, typer.Option(
    "--no-decontaminate", help="Skip the 13-gram check against the evaluation suites")]
RequireRecovery = Annotated[bool, typer.Option(
    "--require-recovery", help="Keep only trajectories that fixed an execution error")]
KeepRepeats = Annotated[bool, typer.Option(
    "--keep-repeats", help="Keep trajectories that ran an action twice word for word")]
Formats = Annotated[str, typer.Option(
    "--format", "-f", help="Export formats, comma-separated: jsonl, hf, parquet")]
Tokenizer = Annotated[str | None, typer.Option(
    help="Tokenizer for the card's token statistics (model spec; default: the teacher)")]


DIFFICULTY_HELP = ("Task difficulty: a level 1-3, a range (2-3) or a list (1,3) drawn per "
                   "task; default: all levels. Higher levels need more steps: more files, "
                   "rows, hops, tools and bookings")


def _levels(text: str | None) -> int | list[int] | None:
    """The --difficulty text as CollectConfig takes it (a list, to stay JSON-friendly)."""
    from codeact.data.generators import parse_difficulty

    level = parse_difficulty(text)
    return level if level is None or isinstance(level, int) else list(level)


def _filter_config(keep_unsolved: bool, min_turns: int, keep_all_errors: bool, repair: bool,
                   keep_invalid: bool, no_dedup: bool, no_decontaminate: bool,
                   require_recovery: bool, keep_repeats: bool) -> Any:
    from codeact.data.filters import FilterConfig

    if repair and keep_invalid:
        raise _fail("--repair and --keep-invalid exclude each other")
    return FilterConfig(solved=not keep_unsolved, min_turns=min_turns,
                        exec_success=not keep_all_errors,
                        invalid="repair" if repair else ("keep" if keep_invalid else "drop"),
                        dedup=not no_dedup, decontaminate=not no_decontaminate,
                        require_recovery=require_recovery, no_repeats=not keep_repeats)


def _formats(value: str) -> tuple[str, ...]:
    from codeact.data.export import FORMATS

    items = tuple(dict.fromkeys(v.strip() for v in value.split(",") if v.strip()))
    bad = [v for v in items if v not in FORMATS]
    if bad or not items:
        raise _fail(f"--format takes a comma-separated list of {', '.join(FORMATS)}")
    return items


def _print_build(result: Any) -> None:
    from rich.table import Table

    table = Table(title="filters")
    table.add_column("after rule")
    table.add_column("remaining", justify="right")
    table.add_row("collected runs", str(result.report.total))
    for rule, n in result.report.funnel:
        table.add_row(rule, str(n))
    console.print(table)
    console.print(f"kept [bold]{len(result.records)}[/bold] trajectories "
                  f"({result.stats.recovered} fix a failed cell), "
                  f"{result.stats.total_tokens} tokens ({result.stats.tokenizer}); "
                  + ", ".join(f"{k}: {v}" for k, v in result.files.items()))


@with_settings(("model", "base_url", "api_key", "resample", "sandbox", "unsafe_no_sandbox",
                *RUNTIME),
               fail=_fail)
def collect(
    source: Annotated[str, typer.Option(
        help="Generator families (math, files, coding, tools, frames, apis, all), .jsonl "
             "task files or datasets directories, comma-separated")] = "all",
    n: Annotated[int, typer.Option("--n", min=1, help="Tasks to run (budget)")] = 100,
    seed: Annotated[int, typer.Option(help="Seed of the generated tasks")] = 1,
    split: Annotated[str, typer.Option(help="train | heldout (evaluation tasks)")] = "train",
    difficulty: Annotated[str | None, typer.Option(
        help=DIFFICULTY_HELP)] = None,
    *,
    settings: Settings,
    samples: Annotated[int, typer.Option(
        min=1, help="Trajectories per task (> 1 needs --temperature > 0)")] = 1,
    temperature: Annotated[float, typer.Option(help="Sampling temperature")] = 0.0,
    max_turns: Annotated[int, typer.Option(min=1, help="Turn limit per task")] = 10,
    workers: Annotated[int, typer.Option(min=1, help="Parallel runs")] = 1,
    backend: Annotated[str, typer.Option(help="local | ray")] = "local",
    ray_address: Annotated[str | None, typer.Option(help="Ray cluster address")] = None,
    max_hours: Annotated[float | None, typer.Option(
        help="Stop starting new tasks after this many hours")] = None,
    output: Annotated[Path, typer.Option(
        "--output", "-o", help="Output directory (rerunning resumes it)")] = Path("collect-out"),
    exec_timeout: Annotated[float, typer.Option(help="Seconds per code execution")] = 30.0,
    task_timeout: Annotated[float, typer.Option(
        help="Wall-clock seconds per task (0: none)")] = 600.0,
    max_new_tokens: Annotated[int, typer.Option(help="Token limit per model reply")] = 1024,
    n_threads: Annotated[int | None, typer.Option(help="CPU threads of a local model")] = None,
    export_format: Formats = "jsonl",
    tokenizer: Tokenizer = None,
    keep_unsolved: KeepUnsolved = False,
    min_turns: MinTurns = 3,
    keep_all_errors: KeepAllErrors = False,
    repair: Repair = False,
    keep_invalid: KeepInvalid = False,
    no_dedup: NoDedup = False,
    no_decontaminate: NoDecontam = False,
    require_recovery: RequireRecovery = False,
    keep_repeats: KeepRepeats = False,
    progress: Annotated[bool, typer.Option(help="Show a progress bar")] = True,
) -> None:
    """Run a teacher model (--model) on generated tasks and make a filtered training set."""
    from codeact import assemble
    from codeact.data import generators
    from codeact.data.collect import CollectConfig, check_resume
    from codeact.data.collect import collect as run_collect
    from codeact.data.sources import SourceError

    fcfg = _filter_config(keep_unsolved, min_turns, keep_all_errors, repair, keep_invalid,
                          no_dedup, no_decontaminate, require_recovery,
                          keep_repeats)
    formats = _formats(export_format)
    try:
        cfg = CollectConfig(sources=generators.parse_sources(source), n=n, seed=seed,
                            split=split, difficulty=_levels(difficulty), samples=samples,
                            temperature=temperature, resample=settings.resample,
                            max_turns=max_turns, workers=workers,
                            backend=backend, ray_address=ray_address, max_hours=max_hours,
                            sandbox=assemble.sandbox_spec(settings),
                            exec_timeout=exec_timeout,
                            task_timeout=task_timeout or None, max_new_tokens=max_new_tokens)
        generators.check_seed(seed, split)
    except ValueError as exc:  # AssembleError included
        raise _fail(str(exc)) from None
    spec = settings.model
    cfg.teacher = spec
    try:
        check_resume(cfg, output)  # before minutes of model loading
    except ValueError as exc:
        raise _fail(str(exc)) from None
    from codeact.llm.registry import spec_in_process

    options: dict[str, Any] = {}
    if n_threads:
        options["n_threads"] = n_threads
    elif backend == "ray" and spec_in_process(spec):
        options["n_threads"] = max(1, (os.cpu_count() or 1) // workers)
    factory = assemble.llm_factory(settings, local=False, **options)
    llm = None
    if backend == "local":
        from codeact.llm.base import LLMError

        try:
            llm = factory()
        except (LLMError, ImportError, OSError, ValueError) as exc:
            raise _fail(f"cannot load model {spec!r}: {exc}") from None
    console.print(f"collecting with [bold]{spec}[/bold]: {n} task(s) x {samples} sample(s) "
                  f"from {', '.join(cfg.sources)} (seed {seed}, {split}), {workers} "
                  f"worker(s), into {output}")
    try:
        result = run_collect(cfg, output, llm=llm, llm_factory=factory, fcfg=fcfg,
                             formats=formats, tokenizer=tokenizer, progress=progress)
    except (SourceError, ValueError, FileNotFoundError) as exc:
        raise _fail(str(exc)) from None
    except KeyboardInterrupt:
        console.print("[yellow]interrupted[/yellow]: rerun the same command to resume")
        raise typer.Exit(130) from None
    rate = result.ran / result.wall_seconds * 60 if result.wall_seconds else 0.0
    console.print(f"ran {result.ran} of {result.planned} planned run(s) in "
                  f"{result.wall_seconds / 60:.1f} min ({rate:.2f} tasks/min)"
                  + (" — stopped by --max-hours; rerun to go on" if result.stopped_by_budget
                     else ""))
    if result.build is not None:
        _print_build(result.build)


@app.command("export")
def export_cmd(
    raw: Annotated[Path, typer.Argument(help="raw.jsonl of a collection (or its directory)")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Dataset directory")],
    export_format: Formats = "jsonl",
    tokenizer: Tokenizer = None,
    keep_unsolved: KeepUnsolved = False,
    min_turns: MinTurns = 3,
    keep_all_errors: KeepAllErrors = False,
    repair: Repair = False,
    keep_invalid: KeepInvalid = False,
    no_dedup: NoDedup = False,
    no_decontaminate: NoDecontam = False,
    require_recovery: RequireRecovery = False,
    keep_repeats: KeepRepeats = False,
) -> None:
    """Filter a collection's raw runs again (other flags) and export the dataset."""
    from codeact.data.build import RAW, build, read_manifest

    if raw.is_dir():
        raw = raw / RAW
    if not raw.exists():
        raise _fail(f"no such file: {raw}")
    fcfg = _filter_config(keep_unsolved, min_turns, keep_all_errors, repair, keep_invalid,
                          no_dedup, no_decontaminate, require_recovery,
                          keep_repeats)
    result = build(raw, output, fcfg, formats=_formats(export_format), tokenizer=tokenizer,
                   run=read_manifest(raw.parent))
    _print_build(result)


@app.command("import")
def import_cmd(
    files: Annotated[list[Path], typer.Argument(help="JSONL files to import")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Output JSONL")],
    kind: Annotated[str, typer.Option(
        help="auto | codeact (published CodeActInstruct) | messages | sharegpt")] = "auto",
    source: Annotated[str | None, typer.Option(
        help="Source name for the metadata (default: the file name)")] = None,
) -> None:
    """Convert CodeActInstruct or general-conversation JSONL into this schema."""
    from codeact.data import importer
    from codeact.data.export import write_jsonl

    records: list[dict[str, Any]] = []
    for f in files:
        if not f.exists():
            raise _fail(f"no such file: {f}")
        try:
            got = importer.import_file(f, kind=kind, source=source)
        except ValueError as exc:
            raise _fail(str(exc)) from None
        console.print(f"{f}: {len(got)} record(s)")
        records += got
    write_jsonl(records, output)
    console.print(f"wrote {len(records)} record(s) to {output}")


def _load_any(path: Path) -> list[dict[str, Any]]:
    """Published records from a dataset file/dir, or the kept records of a raw file."""
    from codeact.data import export

    if not path.exists():
        raise _fail(f"no such file: {path}")
    if path.is_dir() and (path / "data.jsonl").exists():
        path = path / "data.jsonl"
    try:
        records = export.load(path)
    except (ValueError, ImportError, OSError) as exc:
        raise _fail(str(exc)) from None
    if records and "conversations" not in records[0] and "trajectory" in records[0]:
        from codeact.data.filters import Item

        items = [Item.from_record(r) for r in records]
        records = [export.to_published(it) for it in items if it is not None]
    return records


@app.command()
def stats(
    file: Annotated[Path, typer.Argument(help="data.jsonl, a dataset directory, .parquet, "
                                              "or a raw.jsonl")],
    plot: Annotated[Path | None, typer.Option(help="Write a histogram PNG")] = None,
    tokenizer: Tokenizer = None,
) -> None:
    """Counts by source, kind and turns; token statistics."""
    from codeact.data import stats as st
    from codeact.data.tokens import approx_counter, counter_for

    records = _load_any(file)
    counter = counter_for(tokenizer) if tokenizer else approx_counter()
    result = st.compute(records, counter.count, counter.name)
    for table in st.rich_tables(result):
        console.print(table)
    if plot is not None:
        st.plot(result, plot, title=file.name)
        console.print(f"wrote {plot}")


@app.command()
def show(
    file: Annotated[Path, typer.Argument(help="A dataset file (or raw.jsonl)")],
    record_id: Annotated[str | None, typer.Argument(
        metavar="ID", help="Record id, run name (task@sample, as in logs) or a unique part "
        "of an id; default: the first")] = None,
) -> None:
    """Render one trajectory like `codeact run` prints it."""
    from codeact.data.show import find, render

    records = _load_any(file)
    try:
        record = find(records, record_id)
    except LookupError as exc:
        raise _fail(str(exc)) from None
    render(record, console)


@app.command("sample")
def sample_cmd(
    source: Annotated[list[Path], typer.Argument(
        help="Collection or dataset directories (with data.jsonl), or the files; several "
             "are pooled")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Where the sample goes")
                      ] = Path("examples/trajectories"),
    n: Annotated[int, typer.Option("--n", min=1, help="Trajectories in the sample")] = 50,
    seed: Annotated[int, typer.Option(help="Order within each kind")] = 0,
) -> None:
    """Write N kept trajectories (every kind in turn, self-debugging ones first) with a
    dataset card: the sample of the data shipped in the repository."""
    from codeact.data.sample import write_sample

    try:
        info = write_sample(source, output, n, seed=seed)
    except (FileNotFoundError, ValueError) as exc:
        raise _fail(str(exc)) from None
    console.print(f"wrote {info['records']} of {info['from']} trajectories ({info['kinds']} "
                  f"kinds, {info['recovered']} fix a failed cell) to {info['path']} with "
                  f"{output / 'README.md'}")


@app.command()
def generate(
    source: Annotated[str, typer.Option(help="Generator families, comma-separated, or all")
                      ] = "all",
    n: Annotated[int, typer.Option("--n", min=1, help="How many tasks")] = 10,
    seed: Annotated[int, typer.Option(help="Seed")] = 1,
    split: Annotated[str, typer.Option(help="train | heldout")] = "train",
    difficulty: Annotated[str | None, typer.Option(help=DIFFICULTY_HELP)] = None,
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="Write JSONL here instead of printing")] = None,
) -> None:
    """Print generated tasks (name, instruction, expected answer) as JSON lines."""
    from codeact.bench.task import to_jsonable
    from codeact.data import generators

    try:
        fams = [generators.get(s) for s in generators.parse_sources(source)]
        tasks = generators.interleave(fams, n, seed, split=split,
                                      difficulty=generators.parse_difficulty(difficulty))
    except ValueError as exc:
        raise _fail(str(exc)) from None
    lines = []
    for t in tasks:
        m = t.metadata
        lines.append(json.dumps({
            "name": t.name, "instruction": t.instruction,
            "expected": to_jsonable(t.expected), "kind": m["kind"],
            "difficulty": m["difficulty"], "split": m["split"],
            "unseen_kind": m["unseen_kind"],
            "files": sorted(t.files) if isinstance(t.files, dict) else [],
            "tools": [x.name for x in t.make_tools()]}, ensure_ascii=False))
    if output is None:
        for line in lines:
            print(line)
    else:
        output.write_text("\n".join(lines) + "\n", encoding="utf-8")
        console.print(f"wrote {len(lines)} task(s) to {output}")
