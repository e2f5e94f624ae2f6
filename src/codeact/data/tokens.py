"""Counting tokens with the teacher's tokenizer, for the data card's statistics.

- a registry name (``qwen2.5-coder-1.5b``, when downloaded: counting is no reason to
  download one) or ``.gguf`` path: the GGUF file's own vocabulary through llama.cpp
  (``vocab_only``: no weights are loaded);
- ``hf:REPO_OR_DIR`` or a checkpoint directory: the ``transformers`` tokenizer;
- anything else (``openai:...``, or a tokenizer that cannot load): an approximation of
  four characters per token, named as such in the card.
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    """Silence file descriptor 2 (C libraries write there directly) for a moment."""
    try:
        saved = os.dup(2)
    except OSError:  # no real stderr (some test runners): nothing to silence
        yield
        return
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


@dataclass
class TokenCounter:
    name: str  # what counted: "gguf:FILE", "hf:NAME", or "approx: 4 chars/token"
    count: Callable[[str], int]
    exact: bool = True


def approx_counter(reason: str = "") -> TokenCounter:
    label = "approx: 4 chars/token" + (f" ({reason})" if reason else "")
    return TokenCounter(label, lambda text: math.ceil(len(text) / 4), exact=False)


def counter_for(spec: str | None) -> TokenCounter:
    """The best token counter for a model spec; never raises (falls back to approx)."""
    if not spec:
        return approx_counter("no tokenizer given")
    spec = spec.strip()
    try:
        if spec.startswith("hf:") or Path(spec).expanduser().is_dir():
            from transformers import AutoTokenizer

            tok = AutoTokenizer.from_pretrained(spec.removeprefix("hf:"))
            return TokenCounter(f"hf:{spec.removeprefix('hf:')}",
                                lambda text: len(tok.encode(text, add_special_tokens=False)))
        if spec.startswith(("openai:", "litellm:")):
            return approx_counter(f"{spec} has no local tokenizer; pass --tokenizer")
        from codeact.llm.models import MODELS, model_path, resolve_model

        if spec not in MODELS and not spec.lower().endswith(".gguf"):
            return approx_counter(f"unknown model {spec!r}")
        path = model_path(spec) if spec in MODELS else resolve_model(spec, progress=False)
        if path is None:  # counting tokens is no reason to download a model
            return approx_counter(f"{spec} is not downloaded (codeact models pull {spec})")
        from llama_cpp import Llama

        with _quiet_stderr():  # llama.cpp logs context warnings from C even when quiet
            llm = Llama(model_path=str(path), vocab_only=True, verbose=False)

        def count(text: str) -> int:
            return len(llm.tokenize(text.encode("utf-8"), add_bos=False, special=True))
        return TokenCounter(f"gguf:{path.name}", count)
    except Exception as exc:  # a missing extra or a broken file: approximate, say why
        return approx_counter(f"{type(exc).__name__}: {exc}"[:120])
