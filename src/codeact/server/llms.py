"""Model backends for the chat app: one instance per model spec, shared by conversations.

In-process backends (llama.cpp, transformers) hold one model in memory and cannot serve
two generations at once, so their ``stream`` calls are serialised with a lock; HTTP
backends (``openai:``, ``litellm:``) run concurrently.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any

CONCURRENT_PREFIXES = ("openai:", "litellm:")


class SerializedLLM:
    """Wraps a backend so only one ``stream``/``complete`` runs at a time."""

    def __init__(self, llm: Any) -> None:
        self.llm = llm
        self.name = getattr(llm, "name", type(llm).__name__)
        self.stop_tokens = getattr(llm, "stop_tokens", [])
        self.context_window = getattr(llm, "context_window", None)
        self._lock = threading.Lock()

    def count_tokens(self, messages: Sequence[dict[str, Any]]) -> int:
        from codeact.history import estimate_tokens

        count = getattr(self.llm, "count_tokens", None)
        return count(messages) if count else estimate_tokens(messages)

    def stream(self, messages: Sequence[dict[str, Any]], **kwargs: Any) -> Iterator[Any]:
        with self._lock:
            yield from self.llm.stream(messages, **kwargs)

    def complete(self, messages: Sequence[dict[str, Any]], **kwargs: Any) -> Any:
        with self._lock:
            return self.llm.complete(messages, **kwargs)


class LLMCache:
    """``cache(spec)`` builds the backend for ``spec`` once (thread-safe) and reuses it."""

    def __init__(self, build: Callable[[str], Any] | None = None,
                 options: dict[str, Any] | None = None) -> None:
        self._build = build
        self._options = dict(options or {})
        self._llms: dict[str, Any] = {}
        self._lock = threading.Lock()

    def _make(self, spec: str) -> Any:
        if self._build is not None:
            return self._build(spec)
        from codeact.llm import make_llm

        llm = make_llm(spec, progress=False, **self._options)
        if spec.startswith(CONCURRENT_PREFIXES):
            return llm
        return SerializedLLM(llm)

    def __call__(self, spec: str) -> Any:
        with self._lock:
            llm = self._llms.get(spec)
            if llm is None:
                llm = self._llms[spec] = self._make(spec)
            return llm
