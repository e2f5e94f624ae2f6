"""Supervised fine-tuning: conversations → assistant-masked tokens → TRL SFTTrainer (LoRA
by default, full fine-tuning as an option) → adapter, merged checkpoint, logs and a chart.

Runs the same under ``accelerate launch`` (DDP, DeepSpeed or FSDP from an accelerate
config): only the main process writes logs, merges and exports.
"""

from __future__ import annotations

import json
import logging
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from codeact.errors import CodeactError
from codeact.train import data as data_mod
from codeact.train.base import BaseSource, load_model, load_tokenizer, resolve_base
from codeact.train.masking import tokenize_conversation
from codeact.train.model_card import write_model_cards
from codeact.train.progress import TrainProgress, quiet_third_party, use_on

LOG_FILE = "train_log.json"
LOSS_PNG = "loss.png"
log = logging.getLogger(__name__)


@dataclass
class TrainConfig:
    """Everything ``codeact train`` takes. Defaults suit LoRA on a small base."""

    data: list[Path]
    base: str
    out: Path
    mix: list[tuple[Path, float]] = field(default_factory=list)
    full: bool = False  # full fine-tuning instead of LoRA
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    lora_targets: str = "all-linear"
    epochs: float = 1.0
    max_steps: int = -1
    learning_rate: float | None = None  # default: 2e-4 with LoRA, 2e-5 full
    batch_size: int = 1
    grad_accum: int = 8
    max_length: int = 2048
    warmup_ratio: float = 0.03
    packing: bool = False
    gradient_checkpointing: bool = True
    resume: bool = False
    save_steps: int = 200
    logging_steps: int = 1
    seed: int = 0
    chat_template: str = "base"
    threads: int | None = None
    precision: str = "auto"  # auto, fp32 or bf16 (mixed: fp32 weights, bf16 compute)
    merge: bool = True
    gguf: str | None = None  # export DIR/model.gguf in this type (f16, q8_0, ...)
    progress: bool = True
    log_window: int | None = None  # steps per summary line (None: about ten lines a run)

    @property
    def lr(self) -> float:
        if self.learning_rate is not None:
            return self.learning_rate
        return 2e-5 if self.full else 2e-4


class TrainError(CodeactError, ValueError):
    """Bad options or data for training (one clear line)."""


def build_examples(cfg: TrainConfig) -> tuple[list[data_mod.Example], dict[str, Any]]:
    """Read the training files and the --mix files and mix them; stats for the log."""
    main: list[data_mod.Example] = []
    skipped: list[str] = []
    for path in cfg.data:
        examples, bad = data_mod.load_file(path)
        main.extend(examples)
        skipped.extend(bad)
    extras = []
    for path, ratio in cfg.mix:
        examples, bad = data_mod.load_file(path)
        extras.append((examples, ratio))
        skipped.extend(bad)
    mixed, counts = data_mod.mix(main, extras, seed=cfg.seed)
    return mixed, {"examples_by_source": counts, "skipped_records": len(skipped),
                   "skipped_first": skipped[:5]}


def tokenize_examples(tokenizer: Any, examples: list[data_mod.Example], max_length: int
                      ) -> tuple[list[dict[str, list[int]]], dict[str, int]]:
    """Rows of input_ids/labels; examples left with nothing to learn are dropped."""
    rows: list[dict[str, list[int]]] = []
    stats = {"tokens": 0, "learned_tokens": 0, "truncated": 0, "dropped_no_assistant": 0}
    for ex in examples:
        tok = tokenize_conversation(tokenizer, ex.messages, max_length=max_length)
        if tok.n_learned == 0:
            stats["dropped_no_assistant"] += 1
            continue
        stats["tokens"] += len(tok.input_ids)
        stats["learned_tokens"] += tok.n_learned
        stats["truncated"] += tok.truncated
        rows.append({"input_ids": tok.input_ids, "labels": tok.labels})
    if not rows:
        raise TrainError("no example has an assistant token left to learn (check --max-length)")
    return rows, stats


PRECISIONS = ("auto", "fp32", "bf16")


def cpu_has_native_bf16(cpuinfo: str | None = None) -> bool:
    """Whether this CPU computes bf16 in hardware (AMX or AVX512-BF16): there bf16
    autocast trained qwen2.5-coder-0.5b with LoRA 2.2x faster than fp32
    (``benchmarks/train_precision.py``); without it bf16 is emulated and slower."""
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text()
        except OSError:
            return False
    flags = set(cpuinfo.split())
    return bool(flags & {"amx_bf16", "avx512_bf16"})


def _device_dtype(precision: str = "auto") -> tuple[str, Any, str]:
    """Device, the dtype the weights load in, and the mixed precision of the compute.

    GPU: weights and compute in bf16 (fp16 where bf16 is missing). CPU: fp32 weights;
    compute in bf16 autocast with ``bf16``, or with ``auto`` on a CPU with native bf16."""
    import torch

    if precision not in PRECISIONS:
        raise TrainError(f"unknown precision {precision!r}; use one of {', '.join(PRECISIONS)}")
    if torch.cuda.is_available():
        if precision == "fp32":
            return "cuda", torch.float32, "fp32"
        if torch.cuda.is_bf16_supported():
            return "cuda", torch.bfloat16, "bf16"
        return "cuda", torch.float16, "fp16"
    if precision == "bf16" or (precision == "auto" and cpu_has_native_bf16()):
        return "cpu", torch.float32, "bf16"
    return "cpu", torch.float32, "fp32"


def _log_callback(out: Path, meta: dict[str, Any]) -> Any:
    from transformers import TrainerCallback

    class JsonLog(TrainerCallback):
        """Writes DIR/train_log.json at every log and the loss chart at the end."""

        def _write(self, state: Any) -> None:
            payload = {**meta, "history": state.log_history,
                       "tokens_seen": getattr(state, "num_input_tokens_seen", None)}
            (out / LOG_FILE).write_text(json.dumps(payload, indent=1, default=str))

        def on_log(self, args: Any, state: Any, control: Any, logs: Any = None,
                   **kw: Any) -> None:
            if state.is_world_process_zero:
                self._write(state)

        def on_train_end(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
            if state.is_world_process_zero:
                self._write(state)
                plot_loss(state.log_history, out / LOSS_PNG, title=meta.get("base", ""))

    return JsonLog()


def plot_loss(history: list[dict[str, Any]], path: Path, title: str = "") -> Path | None:
    """A PNG of the training loss per step (None when nothing was logged)."""
    points = [(h["step"], h["loss"]) for h in history if "loss" in h and "step" in h]
    if not points:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5), dpi=120)
    ax.plot([p[0] for p in points], [p[1] for p in points], marker="." if len(points) < 50
            else None)
    ax.set_xlabel("step")
    ax.set_ylabel("training loss (assistant tokens)")
    ax.set_title(f"codeact train {title}".strip())
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def _checkpointing_field(config_cls: Any) -> str:
    """transformers 5.2x renamed ``gradient_checkpointing`` to ``activation_checkpointing``."""
    fields = getattr(config_cls, "__dataclass_fields__", {})
    return "activation_checkpointing" if "activation_checkpointing" in fields \
        else "gradient_checkpointing"


COMPLETE_MARK = "trainer_state.json"  # the trainer writes it last into a checkpoint


def last_checkpoint(out: Path) -> Path | None:
    """The newest whole ``checkpoint-N`` directory in ``out``: one whose save finished (it
    holds :data:`COMPLETE_MARK`). A run killed while saving (a session's end, a scheduler)
    leaves a partial newest one, which resuming from would fail on; the one before it is
    taken instead (the trainer keeps two)."""
    ckpts = [p for p in out.glob("checkpoint-*") if p.name.split("-")[-1].isdigit()]
    whole = [p for p in ckpts if (p / COMPLETE_MARK).is_file()]
    for partial in sorted(set(ckpts) - set(whole)):
        log.warning("%s was not saved to the end (no %s): not resumed from", partial,
                    COMPLETE_MARK)
    return max(whole, key=lambda p: int(p.name.split("-")[-1])) if whole else None


def checkpoint_progress(ckpt: Path | None) -> tuple[int, int]:
    """(optimizer steps, input tokens seen) at ``ckpt``; (0, 0) for a fresh run. A resumed
    run's throughput counts only what it trained itself: the state it restores already
    holds the earlier runs' tokens, and their time is not in this run's clock."""
    if ckpt is None:
        return 0, 0
    state = json.loads((ckpt / COMPLETE_MARK).read_text())
    return int(state.get("global_step") or 0), int(state.get("num_input_tokens_seen") or 0)


def train(cfg: TrainConfig, *, source: BaseSource | None = None,
          model: Any = None, tokenizer: Any = None) -> dict[str, Any]:
    """Train; returns the summary that is also written to ``DIR/train_log.json``.

    ``model``/``tokenizer`` may be given directly (tests build tiny ones in memory). The
    terminal shows one progress bar and a summary line per window of steps
    (:mod:`codeact.train.progress`); the libraries' own bars and deprecation notices are
    silenced for the run.
    """
    with quiet_third_party():
        return _train(cfg, source=source, model=model, tokenizer=tokenizer)


def _train(cfg: TrainConfig, *, source: BaseSource | None, model: Any, tokenizer: Any
           ) -> dict[str, Any]:
    # trl exports SFTConfig and SFTTrainer lazily, invisible to its type information
    import torch
    from datasets import Dataset
    from trl import SFTConfig, SFTTrainer  # pyright: ignore[reportPrivateImportUsage]

    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    resume_from = None
    if cfg.resume:
        resume_from = last_checkpoint(out)
        if resume_from is None:
            raise TrainError(f"--resume: no checkpoint-* directory saved to the end in {out}")
    device, dtype, compute = _device_dtype(cfg.precision)
    examples, data_stats = build_examples(cfg)  # bad data fails before any model loads
    added = False
    if tokenizer is None:
        source = source or resolve_base(cfg.base, progress=cfg.progress)
        tokenizer, added = load_tokenizer(source, cfg.chat_template)
    rows, tok_stats = tokenize_examples(tokenizer, examples, cfg.max_length)
    if model is None:
        assert source is not None
        model = load_model(source, dtype, resize_to=len(tokenizer) if added else None)
    attn = str(getattr(model.config, "_attn_implementation", "") or "")
    if cfg.packing and "flash" not in attn:
        raise TrainError(f"--packing needs a flash-attention model (this one uses {attn or '?'}"
                         "): with other attention kernels packed examples would attend to "
                         "each other; leave it off (length bucketing is the default)")
    if getattr(model.config, "use_cache", None):
        model.config.use_cache = False
    peft_config = None
    if not cfg.full:
        from peft import LoraConfig

        peft_config = LoraConfig(r=cfg.lora_r, lora_alpha=cfg.lora_alpha,
                                 lora_dropout=cfg.lora_dropout,
                                 target_modules=cfg.lora_targets if cfg.lora_targets ==
                                 "all-linear" else cfg.lora_targets.split(","),
                                 task_type="CAUSAL_LM")
    # the field's name changed across transformers versions
    checkpointing: dict[str, Any] = {_checkpointing_field(SFTConfig): cfg.gradient_checkpointing}
    args = SFTConfig(
        output_dir=str(out),
        num_train_epochs=cfg.epochs,
        max_steps=cfg.max_steps,
        per_device_train_batch_size=cfg.batch_size,
        gradient_accumulation_steps=cfg.grad_accum,
        learning_rate=cfg.lr,
        lr_scheduler_type="cosine",
        warmup_steps=cfg.warmup_ratio,
        logging_steps=cfg.logging_steps,
        save_strategy="steps",
        save_steps=cfg.save_steps,
        save_total_limit=2,
        seed=cfg.seed,
        bf16=compute == "bf16",
        fp16=compute == "fp16",
        use_cpu=device == "cpu",
        **checkpointing,
        max_length=cfg.max_length,
        packing=cfg.packing,
        packing_strategy="bfd",  # padding-free: per-example positions, no cross attention
        train_sampling_strategy="random" if cfg.packing else "group_by_length",
        include_num_input_tokens_seen="non_padding",
        report_to="none",
        disable_tqdm=True,  # TrainProgress draws the bar
        dataloader_num_workers=0,
    )
    meta = {
        "base": cfg.base,
        "config": {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(cfg).items()},
        "method": "full" if cfg.full else "lora",
        "device": device,
        "dtype": str(dtype).removeprefix("torch."),
        "compute": compute,
        "learning_rate": cfg.lr,
        "data": {**data_stats, **tok_stats, "examples": len(rows)},
    }
    trainer = SFTTrainer(model=model, args=args, train_dataset=Dataset.from_list(rows),
                         processing_class=tokenizer, peft_config=peft_config,
                         callbacks=[_log_callback(out, meta)])
    progress = TrainProgress(window=cfg.log_window, enabled=cfg.progress)
    use_on(trainer, progress)
    step_before, seen_before = checkpoint_progress(resume_from)
    start = time.perf_counter()
    result = trainer.train(resume_from_checkpoint=str(resume_from) if resume_from else None)
    wall = time.perf_counter() - start
    seen = int(getattr(trainer.state, "num_input_tokens_seen", 0) or 0)
    summary = {
        **meta,
        "steps": trainer.state.global_step,
        "world_size": args.world_size,
        "train_loss": result.training_loss,
        "wall_seconds": round(wall, 2),
        "tokens_seen": seen,
        "resumed_at_step": step_before if resume_from else None,
        "tokens_this_run": seen - seen_before,
        "tokens_per_second": round((seen - seen_before) / wall, 1) if wall > 0 else None,
        "first_loss": next((h["loss"] for h in trainer.state.log_history if "loss" in h),
                           None),
        "last_loss": next((h["loss"] for h in reversed(trainer.state.log_history)
                           if "loss" in h), None),
        "progress_lines": progress.lines,
    }
    if trainer.is_world_process_zero():
        summary.update(_save(trainer, tokenizer, cfg, out))
        summary["history"] = trainer.state.log_history
        (out / LOG_FILE).write_text(json.dumps(summary, indent=1, default=str))
        write_model_cards(out, summary)  # after the libraries wrote theirs
    trainer.accelerator.wait_for_everyone()
    return summary


def _save(trainer: Any, tokenizer: Any, cfg: TrainConfig, out: Path) -> dict[str, Any]:
    """Adapter (LoRA), merged checkpoint in DIR/model, and optionally DIR/model.gguf."""
    from codeact.train.export import export_gguf, save_merged

    model = trainer.accelerator.unwrap_model(trainer.model)
    paths: dict[str, Any] = {}
    if not cfg.full:
        model.save_pretrained(out / "adapter")
        tokenizer.save_pretrained(out / "adapter")
        paths["adapter"] = str(out / "adapter")
    if cfg.merge or cfg.full or cfg.gguf:
        paths["model"] = str(save_merged(model, tokenizer, out / "model"))
    if cfg.gguf:
        paths["gguf"] = str(export_gguf(out / "model", out / "model.gguf", cfg.gguf))
    return paths


def describe_speed(summary: dict[str, Any]) -> str:
    """One line for the terminal: steps, tokens, wall time, tokens/s, loss first → last.
    A resumed run says so: its time and tokens/s are its own, from the step it resumed at."""
    tps = summary.get("tokens_per_second")
    first, last = summary.get("first_loss"), summary.get("last_loss")
    loss = f"loss {first:.3f} → {last:.3f}" if first is not None and last is not None else ""
    speed = (f"in {summary['wall_seconds']:.0f} s "
             f"({tps if tps is not None else math.nan} tok/s)")
    resumed = summary.get("resumed_at_step")
    if resumed is not None:
        return (f"{summary['steps']} steps, {summary['tokens_seen']:,} tokens; this run from "
                f"step {resumed}: {summary.get('tokens_this_run', 0):,} tokens {speed} "
                f"{loss}").strip()
    return f"{summary['steps']} steps, {summary['tokens_seen']:,} tokens {speed} {loss}".strip()
