"""Build a backend from a model spec string.

- ``"qwen2.5-coder-1.5b"``, ``"smollm2-135m"``: a registry model, pulled on first use and
  run in-process with llama.cpp;
- ``"./model.gguf"`` (any path to a ``.gguf`` file): llama.cpp on that file;
- a Hugging Face checkpoint directory (e.g. one ``codeact train`` wrote): transformers;
- a name added with ``codeact models add``: its .gguf file or checkpoint directory;
- ``"openai:NAME"``: an OpenAI-compatible server (``base_url`` / ``OPENAI_BASE_URL``);
- ``"hf:REPO_OR_PATH"``: transformers in-process;
- ``"litellm:NAME"``: litellm;
- ``"PREFIX:NAME"`` for any other prefix registered in :mod:`codeact.llm.registry`;
- ``"scripted:"`` is not a spec: build :class:`ScriptedLLM` directly in tests.
"""

from __future__ import annotations

from typing import Any

from . import registry
from .base import LLM, LLMError
from .models import MODELS, resolve_model

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
    """A backend for ``spec`` (default :data:`DEFAULT_MODEL`); extra options go to it.

    Which class serves a spec, and which of these keywords it takes, is the registry's
    business (:mod:`codeact.llm.registry`): this only resolves local models."""
    spec = (spec or DEFAULT_MODEL).strip()
    given = {"base_url": base_url, "api_key": api_key, "n_threads": n_threads,
             "n_ctx": n_ctx or DEFAULT_N_CTX}
    found = registry.classify(spec)
    if found is None:
        known = ", ".join(MODELS)
        raise LLMError(
            f"unknown model {spec!r}: use a registry name ({known}), a .gguf path, "
            "openai:NAME, hf:REPO_OR_PATH or litellm:NAME"
        )
    entry, model = found
    if entry.prefix:
        if not model:
            raise LLMError(f"model spec {spec!r} names no model after '{entry.name}:'")
        return registry.build(entry.name, model, given, **options)
    if entry.name == registry.CHECKPOINT:
        return registry.build(entry.name, model, given, name=spec, **options)
    path = resolve_model(spec, progress=progress)
    name = spec if spec in MODELS else None
    return registry.build(entry.name, path, given, name=name, **options)
