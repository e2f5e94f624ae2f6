"""What ``codeact train`` shows while it trains: one rich progress bar and one summary line
per window of steps, instead of the trainer's tqdm bar and raw ``{'loss': ...}`` dicts.

:class:`TrainProgress` is a ``TrainerCallback`` (the trainer's own printing callbacks are
removed by :func:`use_on`); :func:`quiet_third_party` silences, for the duration of a
training run only, the libraries' own progress bars (loading weights, dataset passes,
writing shards) and their ``FutureWarning`` / ``DeprecationWarning`` noise, by category
and module, so warnings from anything else still show.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import re
import time
import warnings
from collections.abc import Iterator
from typing import Any

from codeact.progress import CountBar

# Modules whose deprecation notices are about their own internals, not the user's code.
NOISY_MODULES = ("transformers", "trl", "peft", "accelerate", "datasets", "torch",
                 "huggingface_hub")
_NOISY = rf"({'|'.join(map(re.escape, NOISY_MODULES))})(\..*)?$"
# UserWarnings about a library's own bookkeeping, not about the run: peft, saving the
# adapter of a base loaded from a GGUF file (no config.json beside it), says it assumes the
# vocabulary unchanged, which it is (training never resizes it). Printed twice a run.
QUIET_USER_WARNINGS = (("peft", "Could not find a config file in "),)


@contextlib.contextmanager
def quiet_third_party() -> Iterator[None]:
    """Within the block: no FutureWarning / DeprecationWarning raised from the training
    libraries, and none of their own progress bars; both restored afterwards."""
    restore: list[Any] = []
    try:
        from transformers.utils import logging as tf_logging

        if tf_logging.is_progress_bar_enabled():
            tf_logging.disable_progress_bar()
            restore.append(tf_logging.enable_progress_bar)
    except ImportError:
        pass
    try:
        from datasets.utils import logging as ds_logging

        if ds_logging.is_progress_bar_enabled():
            ds_logging.disable_progress_bar()
            restore.append(ds_logging.enable_progress_bar)
    except ImportError:
        pass
    try:
        from huggingface_hub import utils as hub_utils

        if not hub_utils.are_progress_bars_disabled():
            hub_utils.disable_progress_bars()
            restore.append(hub_utils.enable_progress_bars)
    except ImportError:
        pass
    try:  # the GGUF loader's bar is plain tqdm, outside transformers' own switch
        gguf_loader = importlib.import_module("transformers.modeling_gguf_pytorch_utils")
        plain_tqdm = gguf_loader.tqdm
        setattr(gguf_loader, "tqdm", functools.partial(plain_tqdm, disable=True))  # noqa: B010
        restore.append(lambda: setattr(gguf_loader, "tqdm", plain_tqdm))
    except (ImportError, AttributeError):
        pass
    try:
        with warnings.catch_warnings():
            for category in (FutureWarning, DeprecationWarning):
                warnings.filterwarnings("ignore", category=category, module=_NOISY)
            for module, start in QUIET_USER_WARNINGS:
                warnings.filterwarnings("ignore", re.escape(start), UserWarning,
                                        rf"{re.escape(module)}(\..*)?$")
            yield
    finally:
        for undo in restore:
            undo()


def default_window(max_steps: int) -> int:
    """Steps per summary line: about ten lines a run, at least one step each."""
    return max(1, max_steps // 10) if max_steps > 0 else 10


def format_line(step: int, total: int, loss: float | None, lr: float | None,
                tokens_per_s: float | None, elapsed: float) -> str:
    """One summary line: ``step 20/200  loss 1.234  lr 2.00e-04  1,234 tok/s  0:01:05``."""
    width = len(str(total))
    parts = [f"step {step:>{width}}/{total}",
             f"loss {loss:.4f}" if loss is not None else "loss -",
             f"lr {lr:.2e}" if lr is not None else "lr -",
             f"{tokens_per_s:,.0f} tok/s" if tokens_per_s is not None else "- tok/s",
             clock(elapsed)]
    return "  ".join(parts)


def clock(seconds: float) -> str:
    """``H:MM:SS``, as the summary lines and the model card show a duration."""
    s = int(seconds)
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


class TrainProgress:
    """A rich bar over the optimizer steps and a line per ``window`` steps with the
    window's mean loss, the learning rate, tokens per second over the window and the
    elapsed time. Only the main process draws; ``enabled=False`` draws nothing. The
    trainer calls it through :func:`use_on` (this module imports no training library)."""

    def __init__(self, *, window: int | None = None, enabled: bool = True,
                 console: Any = None) -> None:
        self.window = window
        self.enabled = enabled
        self.console = console
        self.lines: list[str] = []  # every summary line printed, for the log and tests
        self._bar: CountBar | None = None
        self._losses: list[float] = []
        self._lr: float | None = None
        self._start = 0.0
        self._last_step = 0
        self._mark = (0.0, 0)  # (time, tokens seen) at the start of the window

    def on_train_begin(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
        if not (self.enabled and state.is_world_process_zero):
            return
        from rich.console import Console

        if self.window is None:
            self.window = default_window(state.max_steps)
        self._start = time.monotonic()
        self._last_step = state.global_step
        self._mark = (self._start, self._tokens(state))
        self.console = self.console or Console()
        self._bar = CountBar("train", state.max_steps, completed=state.global_step,
                             console=self.console)

    @staticmethod
    def _tokens(state: Any) -> int:
        return int(getattr(state, "num_input_tokens_seen", 0) or 0)

    def on_step_end(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
        if self._bar is not None:
            self._bar.update(completed=state.global_step)

    def on_log(self, args: Any, state: Any, control: Any, logs: Any = None,
               **kw: Any) -> None:
        """The trainer logs after each step's end: a loss joins the window, and a window
        that is full (or the last step) becomes a line."""
        if self._bar is None or not logs or "loss" not in logs:
            return
        self._losses.append(float(logs["loss"]))
        if "learning_rate" in logs:
            self._lr = float(logs["learning_rate"])
        self._bar.update(info=f"loss {self._losses[-1]:.4f}")
        if (state.global_step - self._last_step >= (self.window or 1)
                or state.global_step >= state.max_steps):
            self._summary(state)

    def _summary(self, state: Any) -> None:
        now, tokens = time.monotonic(), self._tokens(state)
        t0, k0 = self._mark
        tps = (tokens - k0) / (now - t0) if now > t0 and tokens > k0 else None
        loss = sum(self._losses) / len(self._losses) if self._losses else None
        line = format_line(state.global_step, state.max_steps, loss, self._lr, tps,
                           now - self._start)
        self.lines.append(line)
        self.console.print(line)
        self._losses = []
        self._last_step = state.global_step
        self._mark = (now, tokens)

    def on_train_end(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
        if self._bar is None:
            return
        if self._losses:
            self._summary(state)
        self._bar.close()
        self._bar = None


def use_on(trainer: Any, progress: TrainProgress) -> None:
    """Replace the trainer's printing callbacks (tqdm bar, dict prints) by ``progress``."""
    from transformers import PrinterCallback, ProgressCallback, TrainerCallback

    class _Forward(TrainerCallback):
        def on_train_begin(self, *a: Any, **k: Any) -> None:
            progress.on_train_begin(*a, **k)

        def on_step_end(self, *a: Any, **k: Any) -> None:
            progress.on_step_end(*a, **k)

        def on_log(self, *a: Any, **k: Any) -> None:
            progress.on_log(*a, **k)

        def on_train_end(self, *a: Any, **k: Any) -> None:
            progress.on_train_end(*a, **k)

    trainer.remove_callback(PrinterCallback)
    trainer.remove_callback(ProgressCallback)
    trainer.add_callback(_Forward())
