"""The generate step: stream one reply from the model, as events, into a :class:`Reply`.

Backend failures never raise out of here: an unreachable server or a backend bug becomes
``Reply.error``, which ends the run with stop reason ``error``. A reply that falls into a
loop (:class:`~codeact.llm.repetition.LoopWatch`: ``100000...`` or one line again and
again, seen with 0.5B models for the whole token budget) is stopped there and ends with
``finish_reason`` ``"loop"``: it is parsed as cut off, and the rest of the budget is
not spent generating it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Generator, Sequence
from dataclasses import dataclass
from typing import Any

from codeact.events import Event, TextDelta
from codeact.llm.base import LLM, Completion, LLMError, messages_tokens
from codeact.llm.repetition import LOOPED, LoopWatch


@dataclass(frozen=True)
class Reply:
    """The model's reply, or why there is none (``completion`` None and ``error`` None:
    the user interrupted before the reply was complete)."""

    completion: Completion | None = None
    error: str | None = None
    seconds: float = 0.0


def generate(llm: LLM, messages: Sequence[dict[str, Any]], *, turn: int, stop: list[str],
             max_tokens: int, temperature: float, interrupted: threading.Event,
             seed: int | None = None) -> Generator[Event, None, Reply]:
    """Stream a reply to ``messages``, yielding :class:`TextDelta` events; return it.
    ``seed`` is passed on only when given (an LLM outside ``BaseLLM`` may not take it)."""
    completion: Completion | None = None
    start = time.monotonic()
    more = {} if seed is None else {"seed": seed}
    watch = LoopWatch()
    looped = False
    pieces = 0  # streamed pieces: about a token each for local engines
    stream = None
    try:
        stream = llm.stream(messages, stop=stop, max_tokens=max_tokens,
                            temperature=temperature, **more)
        for item in stream:
            if isinstance(item, Completion):
                completion = item
            elif item:
                yield TextDelta(turn, item)
                looped = watch.feed(item)
                pieces += 1
            if interrupted.is_set() or looped:
                break
    except LLMError as exc:
        return Reply(error=str(exc))
    except Exception as exc:  # a backend bug must not kill the caller
        return Reply(error=f"LLM backend failed: {type(exc).__name__}: {exc}")
    finally:
        close = getattr(stream, "close", None)  # a generator: the backend stops there
        if close is not None:
            close()
    seconds = time.monotonic() - start
    if looped:  # broken off before the backend's final Completion
        completion = _looped(llm, messages, watch.text, pieces, seconds)
    if completion is None and not interrupted.is_set():
        return Reply(error="LLM backend returned no reply", seconds=seconds)
    return Reply(completion=completion, seconds=seconds)


def _looped(llm: LLM, messages: Sequence[dict[str, Any]], text: str, pieces: int,
            seconds: float) -> Completion:
    """The reply as far as it went before it looped; the backend's final counts never
    came, so its tokens are counted here (the backend's tokenizer when it has one)."""
    count: Any = getattr(llm, "count_tokens", None)
    try:
        prompt = int(count(list(messages))) if count is not None else messages_tokens(messages)
    except Exception:  # a counting failure must not lose the reply
        prompt = messages_tokens(messages)
    return Completion(text=text, prompt_tokens=prompt, completion_tokens=pieces,
                      finish_reason=LOOPED, total_seconds=seconds)
