"""``codeact train``: fine-tune, compare, export, self-distill (typer sub-app)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from codeact.cli.options import with_settings
from codeact.config import Settings

app = typer.Typer(
    help="Fine-tune a model on code-action trajectories (LoRA by default), compare it with "
    "its base, export it.",
    invoke_without_command=True,
    no_args_is_help=False,
)
console = Console()
err = Console(stderr=True)

FULL_HELP = ("Full fine-tuning instead of LoRA: for small bases only. In fp32 it needs about "
             "16 bytes per parameter (weights, gradients, Adam states): a 1.5B base needs "
             "~24 GB and does not fit a 24 GB machine; use LoRA there.")


def _fail(message: str, code: int = 2) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}")
    return typer.Exit(code)


@app.callback()
def train_cmd(
    ctx: typer.Context,
    data: Annotated[list[Path] | None, typer.Option(
        "--data", help="Training JSONL (CodeActInstruct, messages or ShareGPT); repeatable.")
    ] = None,
    base: Annotated[str | None, typer.Option(
        "--base", help="Base model: registry name (smollm2-135m, qwen2.5-coder-1.5b: GGUF, "
        "dequantised), a name from `codeact models add`, a .gguf file, a checkpoint "
        "directory or a hub id.")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Output directory.")] = None,
    mix: Annotated[list[str] | None, typer.Option(
        "--mix", help="FILE:RATIO: general conversations making RATIO of the training mix, "
        "e.g. general.jsonl:0.3; repeatable.")] = None,
    full: Annotated[bool, typer.Option("--full", help=FULL_HELP)] = False,
    lora_r: Annotated[int, typer.Option("--lora-r", help="LoRA rank.")] = 16,
    lora_alpha: Annotated[int, typer.Option("--lora-alpha", help="LoRA alpha.")] = 32,
    lora_dropout: Annotated[float, typer.Option("--lora-dropout")] = 0.05,
    lora_targets: Annotated[str, typer.Option(
        "--lora-targets", help="'all-linear' or comma-separated module names.")] = "all-linear",
    epochs: Annotated[float, typer.Option("--epochs", help="Passes over the data.")] = 1.0,
    max_steps: Annotated[int, typer.Option(
        "--max-steps", help="Stop after this many optimizer steps (overrides --epochs).")] = -1,
    lr: Annotated[float | None, typer.Option(
        "--lr", help="Learning rate (default 2e-4 with LoRA, 2e-5 with --full).")] = None,
    batch_size: Annotated[int, typer.Option("--batch-size", help="Per device.")] = 1,
    grad_accum: Annotated[int, typer.Option("--grad-accum")] = 8,
    max_length: Annotated[int, typer.Option(
        "--max-length", help="Tokens per example; longer ones are cut.")] = 2048,
    packing: Annotated[bool, typer.Option(
        "--packing", help="Pack examples padding-free (each keeps its own positions; no "
        "attention across examples): needs flash attention (GPU). Default: length "
        "bucketing.")] = False,
    gradient_checkpointing: Annotated[bool, typer.Option(
        "--gradient-checkpointing/--no-gradient-checkpointing",
        help="Trade compute for memory.")] = True,
    resume: Annotated[bool, typer.Option(
        "--resume", help="Continue from the last checkpoint in --out.")] = False,
    save_steps: Annotated[int, typer.Option("--save-steps")] = 200,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    chat_template: Annotated[str, typer.Option(
        "--chat-template", help="'base' (the base's own; ChatML when it has none) or "
        "'chatml'.")] = "base",
    threads: Annotated[int | None, typer.Option("--threads", help="CPU threads.")] = None,
    precision: Annotated[str, typer.Option(
        "--precision", help="auto, fp32 or bf16. auto: bf16 on a GPU; on a CPU bf16 "
        "autocast (fp32 weights) where the CPU has native bf16 (AMX, AVX512-BF16), else "
        "fp32.")] = "auto",
    merge: Annotated[bool, typer.Option(
        "--merge/--no-merge", help="Write DIR/model, a plain checkpoint with LoRA merged "
        "(runs with --model DIR/model).")] = True,
    gguf: Annotated[str | None, typer.Option(
        "--gguf", help="Also write DIR/model.gguf: f16, bf16, f32, q8_0 or auto.")] = None,
    quiet: Annotated[bool, typer.Option(
        "--quiet", "-q", help="No progress bar and no per-window summary lines.")] = False,
    log_window: Annotated[int | None, typer.Option(
        "--log-window", min=1, help="Optimizer steps per summary line (mean loss, lr, "
        "tokens/s, elapsed); default: about ten lines a run.")] = None,
) -> None:
    """Fine-tune BASE on code-action trajectories: loss on assistant tokens only (the
    end-of-turn token included), bf16 on GPU; on CPU bf16 autocast where the CPU has
    native bf16, else fp32 (--precision). Writes DIR/adapter,
    DIR/model, DIR/train_log.json and DIR/loss.png. Works under `accelerate launch -m
    codeact.train`."""
    if ctx.invoked_subcommand is not None:
        return
    missing = [n for n, v in (("--data", data), ("--base", base), ("--out", out)) if not v]
    if missing:
        console.print(ctx.get_help())
        raise _fail(f"missing {', '.join(missing)}")
    from codeact.train.base import BaseModelError
    from codeact.train.data import DataError, parse_mix
    from codeact.train.export import ExportError
    from codeact.train.masking import TemplateError
    from codeact.train.trainer import TrainConfig, TrainError, describe_speed, train

    if chat_template not in ("base", "chatml"):
        raise _fail("--chat-template must be 'base' or 'chatml'")
    try:
        cfg = TrainConfig(
            data=list(data or []), base=str(base), out=Path(str(out)),
            mix=[parse_mix(m) for m in mix or []], full=full, lora_r=lora_r,
            lora_alpha=lora_alpha, lora_dropout=lora_dropout, lora_targets=lora_targets,
            epochs=epochs, max_steps=max_steps, learning_rate=lr, batch_size=batch_size,
            grad_accum=grad_accum, max_length=max_length, packing=packing,
            gradient_checkpointing=gradient_checkpointing, resume=resume,
            save_steps=save_steps, seed=seed, chat_template=chat_template, threads=threads,
            precision=precision, merge=merge, gguf=gguf, progress=not quiet, log_window=log_window)
        summary = train(cfg)
    except (DataError, BaseModelError, TemplateError, TrainError, ExportError) as exc:
        raise _fail(str(exc)) from None
    if os.environ.get("RANK", "0") != "0":  # under accelerate/torchrun: rank 0 reports
        return
    console.print(f"[green]trained[/] {describe_speed(summary)}")
    for key in ("adapter", "model", "gguf"):
        if key in summary:
            console.print(f"  {key}: {summary[key]}")
    console.print(f"  log: {Path(str(out)) / 'train_log.json'}, chart: "
                  f"{Path(str(out)) / 'loss.png'}")


@app.command("compare")
@with_settings(("sandbox", "unsafe_no_sandbox"), fail=_fail)
def compare_cmd(
    base: Annotated[str, typer.Argument(help="The base model (any --model spec).")],
    tuned: Annotated[str, typer.Argument(
        help="The tuned model: DIR/model.gguf, DIR/model, a name, any --model spec.")],
    out: Annotated[Path, typer.Option("--out", help="Where results, table and chart go.")
                   ] = Path("compare"),
    heldout: Annotated[int, typer.Option(
        "--heldout", help="Held-out generated tasks (spread over every family).")] = 100,
    suite: Annotated[list[str] | None, typer.Option(
        "--suite", help="Bench suites to add (repeatable; default builtin-quick; "
        "'none' for none).")] = None,
    arithmetic: Annotated[int, typer.Option(
        "--arithmetic", help="Arithmetic questions in the general check (plus 30 "
        "knowledge questions).")] = 30,
    max_turns: Annotated[int, typer.Option("--max-turns")] = 5,
    max_new_tokens: Annotated[int, typer.Option("--max-new-tokens")] = 512,
    n_ctx: Annotated[int, typer.Option("--n-ctx", help="Context of GGUF models.")] = 8192,
    n_threads: Annotated[int | None, typer.Option("--n-threads")] = None,
    only: Annotated[str | None, typer.Option(
        "--only", help="Run one side now (base or tuned) and print its figures: the base's "
        "runs need not wait for training. A later run without --only reads them back.")
    ] = None,
    *,
    settings: Settings,
    quiet: Annotated[bool, typer.Option("--quiet", "-q")] = False,
) -> None:
    """Run BASE and TUNED on the same held-out tasks and a general check without tools;
    print a side-by-side table with 95% intervals; write compare.md/.json/.png."""
    from codeact import assemble
    from codeact.llm.base import LLMError
    from codeact.llm.factory import make_llm
    from codeact.train import compare as cmp

    if only not in (None, "base", "tuned"):
        raise _fail(f"--only takes base or tuned, not {only!r}")
    try:
        sandbox = assemble.sandbox_name(settings)
    except assemble.AssembleError as exc:
        raise _fail(str(exc)) from None
    suites = tuple(s for s in (suite or ["builtin-quick"]) if s != "none")
    cfg = cmp.CompareConfig(out=out, n_heldout=heldout, suites=suites,
                            n_arithmetic=arithmetic, max_turns=max_turns,
                            max_new_tokens=max_new_tokens,
                            sandbox=sandbox,
                            progress=not quiet)
    try:
        tasks = cmp.load_tasks(cfg)
    except (ValueError, ImportError) as exc:
        raise _fail(str(exc)) from None
    models = tuple((label, spec) for label, spec in (("base", base), ("tuned", tuned))
                   if only in (None, label))
    for _, spec in models:  # a typo in TUNED must not wait for BASE's hour either
        if spec.lower().endswith(".gguf") and not Path(spec).expanduser().is_file():
            raise _fail(f"model file not found: {spec}")
    try:  # both before either runs: a mismatch for TUNED must not wait for BASE's hour
        for label, spec in models:
            cmp.claim_results(out, label, cmp.run_settings(cfg, spec))
    except cmp.SettingsMismatch as exc:
        raise _fail(str(exc)) from None
    results = {}
    for label, spec in models:
        console.print(f"[bold]{label}[/]: {spec} on {len(tasks)} tasks + general check")
        try:
            llm = make_llm(spec, n_ctx=n_ctx, n_threads=n_threads)
        except (LLMError, ValueError, FileNotFoundError) as exc:
            raise _fail(str(exc)) from None
        try:
            results[label] = cmp.run_model(label, llm, cfg, tasks, model_spec=spec)
        except cmp.SettingsMismatch as exc:
            raise _fail(str(exc)) from None
        finally:
            close = getattr(llm, "close", None)
            if callable(close):
                close()
    if only is not None:
        table = Table(title=f"{only}: {dict(models)[only]}")
        for col in ("metric", only):
            table.add_column(col)
        for row in cmp.side_rows(results[only]):
            table.add_row(*row)
        console.print(table)
        console.print(f"runs kept in {out}; run again without --only for the comparison")
        return
    rows = cmp.table_rows(results["base"], results["tuned"])
    table = Table(title=f"{base} vs {tuned}")
    for col in ("metric", "base", "tuned", "difference (points, 95% CI)"):
        table.add_column(col)
    for row in rows:
        table.add_row(*row)
    console.print(table)
    out.mkdir(parents=True, exist_ok=True)
    (out / "compare.md").write_text(cmp.markdown(rows, base, tuned))
    (out / "compare.json").write_text(json.dumps(
        {"base": base, "tuned": tuned, "tasks": len(tasks),
         "results": {k: cmp.to_json(v) for k, v in results.items()}}, indent=1))
    cmp.plot(results["base"], results["tuned"], out / "compare.png", (base, tuned))
    console.print(f"wrote {out / 'compare.md'}, {out / 'compare.json'}, {out / 'compare.png'}")


@app.command("export")
def export_cmd(
    directory: Annotated[Path, typer.Argument(
        help="A `codeact train` output dir, an adapter dir or a checkpoint dir.")],
    gguf: Annotated[str, typer.Option("--gguf", help="f16, bf16, f32, q8_0 or auto.")
                    ] = "q8_0",
    base: Annotated[str | None, typer.Option(
        "--base", help="Base of an adapter (default: the one it was trained from).")] = None,
) -> None:
    """Merge LoRA (if needed) into DIR/model and convert it to DIR/model.gguf with
    llama.cpp's converter (fetched once from the llama-cpp-python sdist)."""
    from codeact.train.base import BaseModelError
    from codeact.train.export import ExportError, export_gguf, merge_adapter

    log = directory / "train_log.json"
    if base is None and log.is_file():
        base = json.loads(log.read_text()).get("base")
    try:
        if (directory / "model" / "config.json").is_file():
            model_dir, dest = directory / "model", directory / "model.gguf"
        elif (directory / "adapter" / "adapter_config.json").is_file():
            model_dir = merge_adapter(directory / "adapter", directory / "model", base)
            dest = directory / "model.gguf"
        elif (directory / "adapter_config.json").is_file():
            model_dir = merge_adapter(directory, directory / "merged", base)
            dest = directory / "model.gguf"
        elif (directory / "config.json").is_file():
            model_dir, dest = directory, directory / "model.gguf"
        else:
            raise _fail(f"{directory} has no model/, adapter/ or config.json")
        path = export_gguf(model_dir, dest, gguf)
    except (ExportError, BaseModelError) as exc:
        raise _fail(str(exc)) from None
    console.print(f"wrote {path} (run it: codeact run -m {path} \"...\")")


@app.command("export-base")
def export_base_cmd(
    base: Annotated[str, typer.Argument(
        help="The base (registry name, GGUF file, checkpoint dir or hub id).")],
    out: Annotated[Path, typer.Option("--out", help="Writes OUT/model and OUT/model.gguf.")],
    gguf: Annotated[str, typer.Option(
        "--gguf", help="f16, bf16, f32, q8_0, auto, or none (checkpoint only).")] = "q8_0",
) -> None:
    """Write BASE as a checkpoint and a GGUF by the same route as a tuned model, so
    `codeact train compare OUT/model.gguf TUNED/model.gguf` compares at one precision."""
    from codeact.train.base import BaseModelError
    from codeact.train.export import ExportError, export_base

    try:
        path = export_base(base, out, None if gguf == "none" else gguf)
    except (ExportError, BaseModelError) as exc:
        raise _fail(str(exc)) from None
    console.print(f"wrote {path}")


def self_distill_cmd(
    base: Annotated[str, typer.Option(
        "--base", help="The model that answers (any --model spec, e.g. smollm2-135m).")],
    out: Annotated[Path, typer.Option("--out", help="Output JSONL (messages form).")],
    prompts: Annotated[Path | None, typer.Option(
        "--prompts", help="Text file (one prompt a line) or JSONL with 'prompt'; default: "
        "the general prompts shipped with codeact.")] = None,
    max_tokens: Annotated[int, typer.Option(
        "--max-tokens", help="A reply's budget (the agent's turn limit).")] = 512,
    long_tokens: Annotated[int, typer.Option(
        "--long-tokens", help="A reply longer than --max-tokens is kept when it ends "
        "within this budget (0: drop replies longer than --max-tokens).")] = 2048,
    temperature: Annotated[float, typer.Option("--temperature")] = 0.0,
    n_ctx: Annotated[int, typer.Option("--n-ctx")] = 4096,
    n_threads: Annotated[int | None, typer.Option("--n-threads")] = None,
) -> None:
    """Write a general-conversation set by letting BASE answer general prompts (no tools),
    for `codeact train --mix OUT:0.3`. Resumes an interrupted OUT."""
    from rich.progress import Progress

    from codeact.llm.base import LLMError
    from codeact.llm.factory import make_llm
    from codeact.train.distill import DistillError, default_prompts_path, load_prompts
    from codeact.train.distill import self_distill as run

    try:
        items = load_prompts(prompts or default_prompts_path())
        llm = make_llm(base, n_ctx=n_ctx, n_threads=n_threads)
    except (DistillError, LLMError, ValueError) as exc:
        raise _fail(str(exc)) from None
    with Progress(console=err) as bar:
        task = bar.add_task("self-distill", total=len(items))
        stats = run(llm, items, out, max_tokens=max_tokens, long_tokens=long_tokens,
                    temperature=temperature,
                    on_item=lambda _: bar.advance(task))
    console.print(f"wrote {stats['written']} conversations to {out} ({stats})")


app.command("self-distill")(self_distill_cmd)


def main() -> None:
    """``python -m codeact.train`` (what ``accelerate launch -m codeact.train`` runs)."""
    app(prog_name="codeact train")
