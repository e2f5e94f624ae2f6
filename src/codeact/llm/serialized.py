"""One generation at a time for a model that lives in this process.

An in-process backend (llama.cpp, transformers: ``in_process = True``) holds one model and
cannot serve two generations at once. Whoever shares one instance between threads (the
chat server's conversations, the bench's workers) wraps it with :func:`serialize`, which
puts a lock around every ``stream``/``complete``; HTTP backends are left as they are, so
their calls overlap. This is the one wrapper for everyone (it replaces the bench's
``LockedLLM`` and the server's ``SerializedLLM``, which remain as aliases).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from typing import Any

from .base import LLM, BaseLLM, Completion, Message

__all__ = ["SerializedLLM", "is_in_process", "serialize"]


def is_in_process(llm: Any) -> bool:
    """True for a backend that runs the model in this process (its ``in_process``
    attribute; objects without one are taken as safe to call concurrently)."""
    return bool(getattr(llm, "in_process", False))


class SerializedLLM(BaseLLM):
    """Wraps a backend so only one ``stream``/``complete`` runs at a time.

    It looks like the backend to the agent: ``name``, ``stop_tokens``, ``context_window``
    and ``count_tokens`` are the inner one's. A ``stream`` holds the lock until it is
    exhausted or closed. The wrapper itself is safe to share (``in_process`` False)."""

    in_process = False

    def __init__(self, llm: LLM) -> None:
        self.inner = llm
        self.name = getattr(llm, "name", type(llm).__name__)
        tokens = getattr(llm, "stop_tokens", None)
        self.stop_tokens = tokens if isinstance(tokens, list) else list(tokens or [])
        self.context_window = getattr(llm, "context_window", None)
        self.can_vary = bool(getattr(llm, "can_vary", False))
        self._lock = threading.Lock()

    @property
    def llm(self) -> LLM:
        """The wrapped backend (the server's historical name for :attr:`inner`)."""
        return self.inner

    def count_tokens(self, messages: Sequence[Message]) -> int:
        count = getattr(self.inner, "count_tokens", None)
        return count(messages) if count else super().count_tokens(messages)

    def stream(self, messages: Sequence[Message], *, stop: Sequence[str] = (),
               max_tokens: int = 1024, temperature: float = 0.0, seed: int | None = None
               ) -> Iterator[str | Completion]:
        more = {} if seed is None else {"seed": seed}  # a bare LLM may not take a seed
        with self._lock:
            yield from self.inner.stream(messages, stop=stop, max_tokens=max_tokens,
                                         temperature=temperature, **more)

    def complete(self, messages: Sequence[Message], *, stop: Sequence[str] = (),
                 max_tokens: int = 1024, temperature: float = 0.0,
                 seed: int | None = None) -> Completion:
        complete = getattr(self.inner, "complete", None)
        if complete is None:  # a bare streaming object: derive it (self.stream locks)
            return super().complete(messages, stop=stop, max_tokens=max_tokens,
                                    temperature=temperature, seed=seed)
        more = {} if seed is None else {"seed": seed}
        with self._lock:
            return complete(messages, stop=stop, max_tokens=max_tokens,
                            temperature=temperature, **more)


def serialize(llm: LLM) -> LLM:
    """``llm`` behind a lock when it is an in-process model not wrapped yet, else itself."""
    if is_in_process(llm) and not isinstance(llm, SerializedLLM):
        return SerializedLLM(llm)
    return llm
