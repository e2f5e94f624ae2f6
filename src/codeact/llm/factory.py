"""Build a backend from a model spec string.

- ``"qwen2.5-coder-1.5b"``, ``"smollm2-135m"``: a registry model, pulled on first use and
  run in-process with llama.cpp;
- ``"./model.gguf"`` (any path to a ``.gguf`` file): llama.cpp on that file;
- a Hugging Face checkpoint directory (e.g. one ``codeact train`` wrote): transformers;
- a name added with ``codeact models add``: its .gguf file or checkpoint directory;
- ``"openai:NAME"``: an OpenAI-compatible server (``base_url`` / ``OPENAI_BASE_URL``);
- ``"hf:REPO_OR_PATH"``: transformers in-process;
- ``"litellm:NAME"``: litellm;
- ``"scripted:"`` is not a spec: build :class:`ScriptedLLM` directly in tests.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .base import LLM, LLMError
from .models import MODELS, is_gguf_path, resolve_model, user_model

DEFAULT_MODEL = "qwen2.5-coder-1.5b"
DEFAULT_N_CTX = 8192


def make_llm(
    spec: str | None = None,
    *,
    base_url: str | None = None,
    api_key: str | None = None,
    n_ctx: int | None = DEFAULT_N_CTX,
    n_threads: int | None = None,
    progress: bool = True,
    **options: Any,
) -> LLM:
    """A backend for ``spec`` (default :data:`DEFAULT_MODEL`); extra options go to it."""
    spec = (spec or DEFAULT_MODEL).strip()
    prefix, sep, rest = spec.partition(":")
    if sep and prefix in ("openai", "hf", "litellm"):
        if not rest:
            raise LLMError(f"model spec {spec!r} names no model after '{prefix}:'")
        if prefix == "openai":
            from .openai_compat import OpenAICompatLLM

            return OpenAICompatLLM(rest, base_url=base_url, api_key=api_key, **options)
        if prefix == "hf":
            from .transformers_backend import TransformersLLM

            return TransformersLLM(rest, n_threads=n_threads, **options)
        from .litellm_backend import LiteLLM

        return LiteLLM(rest, base_url=base_url, api_key=api_key, **options)
    local = user_model(spec) or spec
    if spec not in MODELS and Path(local).expanduser().is_dir():  # a checkpoint directory
        from .transformers_backend import TransformersLLM

        return TransformersLLM(str(Path(local).expanduser()), n_threads=n_threads,
                               name=spec, **options)
    if spec in MODELS or user_model(spec) or is_gguf_path(spec):
        path = resolve_model(spec, progress=progress)
        from .llamacpp import LlamaCppLLM

        name = spec if spec in MODELS else None
        return LlamaCppLLM(path, n_ctx=n_ctx or DEFAULT_N_CTX, n_threads=n_threads, name=name,
                           **options)
    known = ", ".join(MODELS)
    raise LLMError(
        f"unknown model {spec!r}: use a registry name ({known}), a .gguf path, "
        "openai:NAME, hf:REPO_OR_PATH or litellm:NAME"
    )
