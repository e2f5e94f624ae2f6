"""Load a base model and its tokenizer for training, from wherever it is.

``--base`` accepts a registry name (``smollm2-135m``: its GGUF file is pulled and
dequantised by transformers' GGUF support, so no hub is needed), a name registered with
``codeact models add``, a ``.gguf`` path, a Hugging Face checkpoint directory, or a hub
repo id (needs the network or the local hub cache).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codeact.errors import CodeactError
from codeact.train.masking import CHATML_TEMPLATE, ensure_chat_template


class BaseModelError(CodeactError, ValueError):
    """The base model could not be found or loaded (one clear line)."""


@dataclass
class BaseSource:
    """Where a base lives: a directory or hub id, plus the GGUF file inside it if any."""

    spec: str
    location: str
    gguf_file: str | None = None

    def kwargs(self) -> dict[str, Any]:
        return {"gguf_file": self.gguf_file} if self.gguf_file else {}


def resolve_base(spec: str, *, progress: bool = True) -> BaseSource:
    """Turn ``--base`` into a :class:`BaseSource` (pulling registry models on first use)."""
    from codeact.llm import models

    spec = spec.strip()
    if not spec:
        raise BaseModelError("--base is empty")
    path: Path | None = None
    if spec in models.MODELS:
        path = models.pull(spec, progress=progress)
    elif (user := models.user_model(spec)) is not None:
        path = Path(user)
    elif Path(spec).expanduser().exists():
        path = Path(spec).expanduser()
    elif spec.lower().endswith(".gguf") or spec.startswith((".", "/", "~")):
        raise BaseModelError(f"base model not found: {spec}")
    if path is None:
        return BaseSource(spec, spec)  # a hub repo id
    path = path.resolve()
    if path.is_file():
        if path.suffix.lower() != ".gguf":
            raise BaseModelError(f"{path} is a file but not a .gguf model; pass a GGUF file "
                                 "or a checkpoint directory")
        return BaseSource(spec, str(path.parent), path.name)
    if not (path / "config.json").is_file():
        raise BaseModelError(f"{path} is not a Hugging Face checkpoint (no config.json)")
    return BaseSource(spec, str(path))


def load_tokenizer(source: BaseSource, chat_template: str = "base") -> tuple[Any, bool]:
    """The base's fast tokenizer with a chat template (ChatML when it has none, or when
    ``chat_template == "chatml"``); True when special tokens were added."""
    from transformers import AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(source.location, **source.kwargs())
    except (OSError, ValueError) as exc:
        raise BaseModelError(f"cannot load the tokenizer of {source.spec}: "
                             f"{_first_line(exc)}") from exc
    if chat_template == "chatml":
        tokenizer.chat_template = None
    elif chat_template != "base":
        tokenizer.chat_template = chat_template  # a Jinja template given verbatim
    added = ensure_chat_template(tokenizer)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer, added


def load_model(source: BaseSource, dtype: Any, *, resize_to: int | None = None) -> Any:
    """The causal LM in ``dtype`` (GGUF weights are dequantised on load)."""
    import torch
    from transformers import AutoModelForCausalLM

    try:
        model = AutoModelForCausalLM.from_pretrained(source.location, dtype=dtype,
                                                     **source.kwargs())
    except (OSError, ValueError, RuntimeError) as exc:
        raise BaseModelError(f"cannot load the model {source.spec}: {_first_line(exc)}") from exc
    if source.gguf_file:
        _forget_gguf_quantization(model)
    weight = model.get_input_embeddings().weight
    if resize_to is not None and isinstance(weight, torch.Tensor) and \
            weight.shape[0] < resize_to:
        model.resize_token_embeddings(resize_to)
    return model


def _forget_gguf_quantization(model: Any) -> None:
    """transformers dequantises GGUF weights to ordinary tensors but keeps a GGUF marker
    that makes Trainer refuse the model and save_pretrained write a quantization config;
    the weights are plain floats, so drop the marker."""
    model.hf_quantizer = None
    model.is_quantized = False
    config = model.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


__all__ = ["BaseModelError", "BaseSource", "CHATML_TEMPLATE", "load_model", "load_tokenizer",
           "resolve_base"]
