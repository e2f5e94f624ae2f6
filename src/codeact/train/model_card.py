"""The model card a training run leaves beside its weights: what the model is, what it was
trained on, how well the loss went and how to run it.

Without it the libraries write their own: TRL's says "a fine-tuned version of None" when the
base came from a GGUF file, and peft's is a template full of "[More Information Needed]"
with a cache directory as its base model. Ours replaces both, in DIR/README.md, DIR/adapter/
and DIR/model/, so the card travels with whichever of them a user publishes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from codeact.train.progress import clock

CARD_FILE = "README.md"


def _method(summary: dict[str, Any]) -> str:
    cfg = summary.get("config", {})
    if summary.get("method") == "full":
        return "full fine-tuning"
    return (f"LoRA (r={cfg.get('lora_r')}, alpha={cfg.get('lora_alpha')}, "
            f"targets {cfg.get('lora_targets')})")


def _data_line(data: dict[str, Any]) -> str:
    sources = ", ".join(f"{'the --data files' if name == 'main' else name}: {n}"
                        for name, n in data.get("examples_by_source", {}).items())
    line = f"{data.get('examples', 0)} examples" + (f" ({sources})" if sources else "")
    if data.get("tokens"):
        line += (f", {data['tokens']:,} tokens of which {data.get('learned_tokens', 0):,} "
                 "learned (assistant turns)")
    if data.get("truncated"):
        line += f", {data['truncated']} cut at --max-length"
    return line


def _loss_line(summary: dict[str, Any]) -> str:
    first, last = summary.get("first_loss"), summary.get("last_loss")
    if first is None or last is None:
        return "not logged"
    return f"{first:.3f} at the first logged step, {last:.3f} at the last"


def render_model_card(summary: dict[str, Any], where: str) -> str:
    """The card for a run whose summary (``train_log.json``) is ``summary``; ``where`` is
    the output directory as the user named it."""
    name = Path(where).name
    cfg = summary.get("config", {})
    base = summary.get("base", "?")
    tags = ["codeact", "code-actions", "sft", "lora" if summary.get("method") == "lora"
            else "full-fine-tuning"]
    steps = summary.get("steps", 0)
    epochs = cfg.get("epochs")
    max_steps = cfg.get("max_steps", -1)
    length = f"{steps} optimizer steps" + (
        f" ({epochs:g} epochs)" if (max_steps is None or max_steps < 0) and epochs else "")
    processes = summary.get("world_size") or 1
    batch = (f"batch {cfg.get('batch_size')} x gradient accumulation {cfg.get('grad_accum')}"
             + (f" x {processes} processes" if processes > 1 else ""))
    lr = summary.get("learning_rate")
    seen = summary.get("tokens_seen") or 0
    wall = summary.get("wall_seconds") or 0.0
    rate = f"in {clock(wall)} ({summary.get('tokens_per_second')} tokens/s)"
    resumed = summary.get("resumed_at_step")
    if not seen:
        speed = clock(wall)
    elif resumed is None:
        speed = f"{seen:,} tokens seen {rate}"
    else:
        speed = (f"{seen:,} tokens seen; the last run, resumed at step {resumed}: "
                 f"{summary.get('tokens_this_run', seen):,} tokens {rate}")
    rows = [
        ("Base", f"`{base}`"),
        ("Method", _method(summary)),
        ("Data", _data_line(summary.get("data", {}))),
        ("Length", f"{length}, {batch}"
         + (f", learning rate {lr:.1e} (cosine)" if isinstance(lr, int | float) else "")),
        ("Precision", f"{summary.get('compute', '?')} compute, {summary.get('dtype', '?')} "
                      f"weights, on {summary.get('device', '?')}"),
        ("Loss", _loss_line(summary)),
        ("Throughput", speed),
    ]
    files = [(key, label) for key, label in (
        ("adapter", "the LoRA adapter (load it on the base with peft)"),
        ("model", "a plain transformers checkpoint (LoRA merged)"),
        ("gguf", "a GGUF file for llama.cpp")) if summary.get(key)]
    lines = ["---", "library_name: transformers", "pipeline_tag: text-generation", "tags:"]
    lines += [f"- {tag}" for tag in tags]
    lines += ["---", "", f"# {name}", "",
              f"`{base}` fine-tuned by `codeact train` to act by writing Python code actions "
              "that a Jupyter kernel runs, one turn after another, until it answers (the "
              "CodeAct protocol, arXiv 2402.01030).", "",
              "## Training", "", "| | |", "|---|---|"]
    lines += [f"| {key} | {value} |" for key, value in rows]
    lines += ["", "The loss curve is `loss.png`, every logged step `train_log.json`.", ""]
    if files:
        lines += ["## Files", ""]
        lines += [f"- `{Path(str(summary[key])).name}`: {label}" for key, label in files]
        lines.append("")
    weights = summary.get("gguf") or summary.get("model")
    run_as = f"{where}/{Path(str(weights)).name}" if weights else where
    lines += ["## Use", "", "```bash",
              f'codeact run --model {run_as} "What is 17 * 23?"',
              f"codeact train compare BASE {run_as} --out {where}/compare",
              "```", "",
              "`codeact train compare` runs the base and this model on the same held-out "
              "tasks and a general check without tools, side by side.", ""]
    return "\n".join(lines)


def write_model_cards(out: Path, summary: dict[str, Any]) -> list[Path]:
    """Write the card to ``out`` and to its adapter and model directories where they
    exist, replacing the libraries' cards; returns the files written."""
    card = render_model_card(summary, str(out))
    written = []
    for folder in (out, out / "adapter", out / "model"):
        if folder.is_dir():
            (folder / CARD_FILE).write_text(card)
            written.append(folder / CARD_FILE)
    return written
