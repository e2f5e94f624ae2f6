"""The one registry of LLM backends: a name → the backend class, read by everyone.

``make_llm`` (the factory), the chat server and the bench all look backends up here, and
decide whether calls must be serialised from the class's ``in_process`` attribute, so
adding a backend is one new module plus one registration line::

    register("openai", "codeact.llm.openai_compat:OpenAICompatLLM",
             options=("base_url", "api_key"))

A *prefix* entry makes ``"NAME:MODEL"`` specs build ``cls(MODEL, **chosen options)``.
``options`` names the ``make_llm`` keywords (``base_url``, ``api_key``, ``n_ctx``,
``n_threads``) the constructor takes. Built-in entries are ``"module:Class"`` strings,
imported on use, so ``import codeact`` loads no backend (and no openai, torch or
llama_cpp); a test or a plug-in may register the class itself, or use ``@register``.

Two entries are not spec prefixes: :data:`GGUF` (registry model names, ``.gguf`` paths
and names added with ``codeact models add``) and :data:`CHECKPOINT` (Hugging Face
checkpoint directories); ``make_llm`` resolves such local specs to one of them.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, overload

__all__ = [
    "CHECKPOINT",
    "GGUF",
    "MAKE_LLM_OPTIONS",
    "Backend",
    "backend",
    "backend_class",
    "build",
    "classify",
    "prefixes",
    "register",
    "spec_backend",
    "spec_in_process",
    "unregister",
]

GGUF = "gguf"
CHECKPOINT = "checkpoint"
# the make_llm keywords a registered backend may ask for (``options=``)
MAKE_LLM_OPTIONS = ("base_url", "api_key", "n_ctx", "n_threads")

T = TypeVar("T", bound=type)


@dataclass(frozen=True)
class Backend:
    """One registered backend: its ``target`` (a class, or ``"module:Class"`` imported on
    use), the ``make_llm`` options its constructor takes, and whether ``NAME:`` is a spec
    prefix."""

    name: str
    target: type | str
    options: tuple[str, ...] = ()
    prefix: bool = True

    def load(self) -> Any:
        """The backend class (imported now for a ``"module:Class"`` entry, every time, so
        a monkeypatched module attribute is what gets built)."""
        if not isinstance(self.target, str):
            return self.target
        module, _, attr = self.target.partition(":")
        return getattr(importlib.import_module(module), attr)


_BACKENDS: dict[str, Backend] = {}


@overload
def register(name: str, target: None = None, *, options: Sequence[str] = (),
             prefix: bool = True, replace: bool = False) -> Callable[[T], T]: ...
@overload
def register(name: str, target: type | str, *, options: Sequence[str] = (),
             prefix: bool = True, replace: bool = False) -> None: ...


def register(name: str, target: type | str | None = None, *, options: Sequence[str] = (),
             prefix: bool = True, replace: bool = False) -> Callable[[T], T] | None:
    """Register a backend under ``name`` (``"toy"`` serves ``"toy:MODEL"`` specs).

    Called with a class or a ``"module:Class"`` string it registers at once; called with
    only the name it returns a class decorator. ``replace=True`` overrides an entry;
    otherwise registering a taken name is an error (two backends fighting for a prefix).
    """
    if not name or ":" in name:
        raise ValueError(f"backend name {name!r} must be non-empty and contain no ':'")
    bad = [o for o in options if o not in MAKE_LLM_OPTIONS]
    if bad:
        raise ValueError(f"unknown make_llm option(s) {bad}; choose from {MAKE_LLM_OPTIONS}")

    def add(cls_or_path: type | str) -> None:
        if name in _BACKENDS and not replace and _BACKENDS[name].target != cls_or_path:
            raise ValueError(f"an LLM backend is already registered as {name!r}")
        _BACKENDS[name] = Backend(name, cls_or_path, tuple(options), prefix)

    if target is not None:
        add(target)
        return None

    def decorate(cls: T) -> T:
        add(cls)
        return cls

    return decorate


def unregister(name: str) -> None:
    """Remove an entry (tests that registered a toy backend clean up with this)."""
    _BACKENDS.pop(name, None)


def backend(name: str) -> Backend | None:
    """The entry registered as ``name``, or None."""
    return _BACKENDS.get(name)


def backend_class(name: str) -> Any:
    """The class registered as ``name`` (KeyError when there is none)."""
    return _BACKENDS[name].load()


def prefixes() -> list[str]:
    """The spec prefixes, without the colon, in registration order."""
    return [b.name for b in _BACKENDS.values() if b.prefix]


def classify(spec: str) -> tuple[Backend, str] | None:
    """Which entry serves ``spec``, and the model part: ``"NAME:MODEL"`` with a registered
    prefix → (NAME's entry, MODEL, maybe empty); a checkpoint directory (given as a path
    or a name added with ``codeact models add``) → (CHECKPOINT, the directory); a registry
    name, an added .gguf name or a .gguf path → (GGUF, spec); else None."""
    from pathlib import Path

    from .models import MODELS, is_gguf_path, user_model

    name, sep, rest = spec.partition(":")
    entry = _BACKENDS.get(name) if sep else None
    if entry is not None and entry.prefix:
        return entry, rest
    local = user_model(spec) or spec
    if spec not in MODELS and Path(local).expanduser().is_dir():
        return _BACKENDS[CHECKPOINT], str(Path(local).expanduser())
    if spec in MODELS or user_model(spec) or is_gguf_path(spec):
        return _BACKENDS[GGUF], spec
    return None


def build(entry_name: str, model: Any, given: Mapping[str, Any], /, **kwargs: Any) -> Any:
    """Construct a registered backend: ``cls(model, **its options from given, **kwargs)``
    (``kwargs`` may hold ``name``: the backend's display name)."""
    entry = _BACKENDS[entry_name]
    chosen = {o: given[o] for o in entry.options if o in given}
    return entry.load()(model, **chosen, **kwargs)


def spec_backend(spec: str) -> Any:
    """The class ``make_llm(spec)`` would build, without building it (None: unknown).

    For deciding things before a model is loaded (how many threads a worker gets)."""
    found = classify(spec)
    return None if found is None else found[0].load()


def spec_in_process(spec: str) -> bool:
    """Whether ``make_llm(spec)`` gives an in-process model (unknown specs: True, the safe
    answer for sharing and for splitting CPU threads)."""
    cls = spec_backend(spec)
    return True if cls is None else bool(getattr(cls, "in_process", False))


# ---------------------------------------------------------------- the built-in backends
register("openai", "codeact.llm.openai_compat:OpenAICompatLLM", options=("base_url", "api_key"))
register("hf", "codeact.llm.transformers_backend:TransformersLLM", options=("n_threads",))
register("litellm", "codeact.llm.litellm_backend:LiteLLM", options=("base_url", "api_key"))
register(GGUF, "codeact.llm.llamacpp:LlamaCppLLM", options=("n_ctx", "n_threads"), prefix=False)
register(CHECKPOINT, "codeact.llm.transformers_backend:TransformersLLM",
         options=("n_threads",), prefix=False)
