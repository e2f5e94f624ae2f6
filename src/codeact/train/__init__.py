"""Supervised fine-tuning of code-action models (issue 11).

Modules, one job each: ``data`` (read and mix conversation files), ``masking`` (chat
template + assistant-only labels), ``base`` (load a base model from a registry name, GGUF,
checkpoint or hub id), ``trainer`` (TRL SFTTrainer, LoRA or full), ``export`` (merge,
GGUF via llama.cpp's converter), ``compare`` (base vs tuned), ``distill`` (self-distilled
general data), ``progress`` (the bar and per-window lines a run prints), ``cli``
(``codeact train``). Heavy imports (torch, transformers, trl, peft)
happen inside functions, so ``codeact --help`` stays fast without the ``train`` extra.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import TYPE_CHECKING

# the submodules, imported on first attribute access (``codeact.train.NAME``)
__all__ = [
    "base",
    "compare",
    "data",
    "distill",
    "export",
    "masking",
    "progress",
    "trainer",
]

if TYPE_CHECKING:  # what type checkers see; at run time each loads on first use
    from codeact.train import (
        base,
        compare,
        data,
        distill,
        export,
        masking,
        progress,
        trainer,
    )


def __getattr__(name: str) -> ModuleType:
    if name in __all__:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
