"""The one protocol every LLM backend implements.

Messages are OpenAI-style dicts (``{"role": ..., "content": ...}``). ``stream`` yields
text deltas and then exactly one final :class:`Completion`; ``complete`` is the same
call without the deltas.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

Message = dict[str, Any]


class LLMError(RuntimeError):
    """A backend failed in a way the user must hear about (one clear line)."""


@dataclass
class Completion:
    """One model reply plus what it cost."""

    text: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    finish_reason: str = "stop"  # "stop" | "length" | "interrupted" | ...
    stop_sequence: str | None = None  # which stop sequence ended it, when known
    prompt_seconds: float = 0.0  # time spent evaluating the prompt (local backends)
    total_seconds: float = 0.0
    cached_prompt_tokens: int = 0  # prompt tokens reused from a KV cache


@runtime_checkable
class LLM(Protocol):
    """An LLM backend: ``name`` for reports, ``stop_tokens`` its template end markers."""

    name: str

    def stream(
        self,
        messages: Sequence[Message],
        *,
        stop: Sequence[str] = (),
        max_tokens: int = 1024,
        temperature: float = 0.0,
    ) -> Iterator[str | Completion]:
        """Yield text deltas, then one final Completion."""
        ...

    def complete(
        self,
        messages: Sequence[Message],
        *,
        stop: Sequence[str] = (),
        max_tokens: int = 1024,
        temperature: float = 0.0,
    ) -> Completion:
        """Return the whole reply."""
        ...


class BaseLLM:
    """Mixin: derive ``complete`` from ``stream`` so backends write one method.

    ``context_window``: the most tokens a prompt plus its reply may take, when the backend
    knows it (llama.cpp: ``n_ctx``; transformers: the model's positions); None when it
    does not (a remote server), in which case the agent's ``context_window`` setting
    decides. ``count_tokens`` is exact where the backend can tokenize, else an estimate.
    """

    name: str = "llm"
    context_window: int | None = None

    def count_tokens(self, messages: Sequence[Message]) -> int:
        from codeact.history import estimate_tokens

        return estimate_tokens(messages)

    def stream(
        self,
        messages: Sequence[Message],
        *,
        stop: Sequence[str] = (),
        max_tokens: int = 1024,
        temperature: float = 0.0,
    ) -> Iterator[str | Completion]:  # pragma: no cover - abstract
        raise NotImplementedError

    def complete(
        self,
        messages: Sequence[Message],
        *,
        stop: Sequence[str] = (),
        max_tokens: int = 1024,
        temperature: float = 0.0,
    ) -> Completion:
        final: Completion | None = None
        parts: list[str] = []
        for item in self.stream(messages, stop=stop, max_tokens=max_tokens,
                                temperature=temperature):
            if isinstance(item, Completion):
                final = item
            else:
                parts.append(item)
        if final is None:
            final = Completion(text="".join(parts))
        return final
