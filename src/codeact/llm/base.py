"""The one protocol every LLM backend implements, and the base class that implements it.

Messages are OpenAI-style dicts (``{"role": ..., "content": ...}``). ``stream`` yields
text deltas and then exactly one final :class:`Completion`; ``complete`` is the same
call without the deltas.

:class:`BaseLLM.stream` is a template method: the skeleton every backend needs (merging
the caller's stops with the backend's template stop tokens, the client-side
:class:`~codeact.llm.stops.StopScanner`, timing, building the :class:`Completion`) lives
here once, and a backend writes only :meth:`BaseLLM._raw_stream`, which yields the
engine's text pieces and then one :class:`StreamEnd` with what only the engine knows.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from codeact.errors import CodeactError

from .stops import StopScanner

Message = dict[str, Any]

CHARS_PER_TOKEN = 4


class LLMError(CodeactError, RuntimeError):
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


def approx_tokens(text: str) -> int:
    """A rough token count: about four characters a token."""
    return math.ceil(len(text) / CHARS_PER_TOKEN)


def messages_tokens(messages: Sequence[Message]) -> int:
    """Rough prompt size of chat messages (content plus a few tokens per message)."""
    return sum(approx_tokens(str(m.get("content") or "")) + 4 for m in messages)


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
        seed: int | None = None,
    ) -> Iterator[str | Completion]:
        """Yield text deltas, then one final Completion. ``seed``: for sampling
        (temperature > 0), a reply that can be drawn again; None: any."""
        ...

    def complete(
        self,
        messages: Sequence[Message],
        *,
        stop: Sequence[str] = (),
        max_tokens: int = 1024,
        temperature: float = 0.0,
        seed: int | None = None,
    ) -> Completion:
        """Return the whole reply."""
        ...


@dataclass
class StreamRequest:
    """What :meth:`BaseLLM._raw_stream` is asked for, and the base's signal to end early.

    ``stop`` is the caller's stops followed by the backend's ``stop_tokens`` (deduplicated,
    order kept: the first ones are the ones worth sending to a server that caps them).
    ``stopped`` is set by the base as soon as a stop sequence appeared in the text: the
    backend should then end its generation and yield its :class:`StreamEnd`.
    """

    stop: list[str]
    max_tokens: int = 1024
    temperature: float = 0.0
    stopped: str | None = None
    seed: int | None = None  # the sampler's seed, when the caller chose one


@dataclass
class StreamEnd:
    """What the engine alone knows at the end of a raw stream; ``None`` fields let the base
    estimate (prompt/completion tokens from the text) or measure (``prompt_seconds``: the
    time to the first text piece)."""

    finish_reason: str = "stop"
    stop_sequence: str | None = None  # a stop the engine itself ended on (EOG, vLLM)
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    prompt_seconds: float | None = None
    cached_prompt_tokens: int = 0


def estimate_tokens(messages: Sequence[Message]) -> int:
    """A conservative token count when the backend cannot tokenize: about 3 characters
    per token (code and numbers tokenize densely), plus template overhead per message."""
    return sum(len(str(m.get("content") or "")) // 3 + 8 for m in messages)


class BaseLLM:
    """The base of the backends: ``stream`` over a backend's ``_raw_stream``, and
    ``complete`` derived from ``stream``, so a backend writes one generator.

    ``in_process``: True when the backend runs the model in this process and cannot run
    two generations at once; whoever shares one instance between threads (the server, the
    bench) wraps it in :class:`~codeact.llm.serialized.SerializedLLM`. HTTP backends are
    False and are called concurrently.

    ``context_window``: the most tokens a prompt plus its reply may take, when the backend
    knows it (llama.cpp: ``n_ctx``; transformers: the model's positions); None when it
    does not (a remote server), in which case the agent's ``context_window`` setting
    decides. ``count_tokens`` is exact where the backend can tokenize, else an estimate.
    """

    name: str = "llm"
    in_process: bool = False
    # Whether a reply sampled at another temperature and seed can differ from the greedy
    # one (the agent resamples a repeated action only where it can; see _raw_stream).
    can_vary: bool = True
    context_window: int | None = None
    stop_tokens: Sequence[str] = ()

    def count_tokens(self, messages: Sequence[Message]) -> int:
        return estimate_tokens(messages)

    def _raw_stream(
        self, messages: list[Message], request: StreamRequest
    ) -> Iterator[str | StreamEnd]:  # pragma: no cover - abstract
        """Yield the engine's text pieces, then one :class:`StreamEnd`.

        Stops need not be applied here (the base cuts the text and never shows the stop
        text); after each piece, end the generation once ``request.stopped`` is set.
        """
        raise NotImplementedError
        yield ""

    def stream(
        self,
        messages: Sequence[Message],
        *,
        stop: Sequence[str] = (),
        max_tokens: int = 1024,
        temperature: float = 0.0,
        seed: int | None = None,
    ) -> Iterator[str | Completion]:
        """Yield the text deltas (never any stop text), then one final Completion."""
        start = time.perf_counter()
        msgs = [dict(m) for m in messages]
        request = StreamRequest(stop=list(dict.fromkeys([*stop, *self.stop_tokens])),
                                max_tokens=max_tokens, temperature=temperature, seed=seed)
        scanner = StopScanner(request.stop)
        parts: list[str] = []
        pieces = 0
        first: float | None = None
        end = StreamEnd()
        raw = self._raw_stream(msgs, request)
        try:
            for item in raw:
                if isinstance(item, StreamEnd):
                    end = item
                    continue
                if request.stopped is not None:
                    continue  # the backend is winding down: nothing more is shown
                if first is None:
                    first = time.perf_counter() - start
                if item:
                    pieces += 1
                safe = scanner.feed(item)
                if safe:
                    parts.append(safe)
                    yield safe
                request.stopped = scanner.stopped
        finally:
            close = getattr(raw, "close", None)
            if close is not None:  # a generator: let the backend free its engine now
                close()
        tail = scanner.flush()
        if tail:
            parts.append(tail)
            yield tail
        text = "".join(parts)
        yield Completion(
            text=text,
            prompt_tokens=(end.prompt_tokens if end.prompt_tokens is not None
                           else messages_tokens(msgs)),
            completion_tokens=(end.completion_tokens if end.completion_tokens is not None
                               else pieces or approx_tokens(text)),
            finish_reason="stop" if scanner.stopped else end.finish_reason,
            stop_sequence=scanner.stopped or end.stop_sequence,
            prompt_seconds=(end.prompt_seconds if end.prompt_seconds is not None
                            else first or 0.0),
            total_seconds=time.perf_counter() - start,
            cached_prompt_tokens=end.cached_prompt_tokens,
        )

    def complete(
        self,
        messages: Sequence[Message],
        *,
        stop: Sequence[str] = (),
        max_tokens: int = 1024,
        temperature: float = 0.0,
        seed: int | None = None,
    ) -> Completion:
        final: Completion | None = None
        parts: list[str] = []
        for item in self.stream(messages, stop=stop, max_tokens=max_tokens,
                                temperature=temperature, seed=seed):
            if isinstance(item, Completion):
                final = item
            else:
                parts.append(item)
        if final is None:
            final = Completion(text="".join(parts))
        return final
