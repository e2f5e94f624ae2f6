"""The generate step: stream one reply from the model, as events, into a :class:`Reply`.

Backend failures never raise out of here: an unreachable server or a backend bug becomes
``Reply.error``, which ends the run with stop reason ``error``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Generator, Sequence
from dataclasses import dataclass
from typing import Any

from codeact.events import Event, TextDelta
from codeact.llm.base import LLM, Completion, LLMError


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
    try:
        for item in llm.stream(messages, stop=stop, max_tokens=max_tokens,
                               temperature=temperature, **more):
            if isinstance(item, Completion):
                completion = item
            elif item:
                yield TextDelta(turn, item)
            if interrupted.is_set():
                break
    except LLMError as exc:
        return Reply(error=str(exc))
    except Exception as exc:  # a backend bug must not kill the caller
        return Reply(error=f"LLM backend failed: {type(exc).__name__}: {exc}")
    seconds = time.monotonic() - start
    if completion is None and not interrupted.is_set():
        return Reply(error="LLM backend returned no reply", seconds=seconds)
    return Reply(completion=completion, seconds=seconds)
