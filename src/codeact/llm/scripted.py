"""A deterministic backend for tests: replays the replies it was given.

``ScriptedLLM(["reply 1", "reply 2"])`` returns them in order, one per call;
``ScriptedLLM(fn)`` calls ``fn(messages)`` for each reply. Like a real model it stops at
the first stop sequence (the stop text is not part of the reply, ``stop_sequence`` says
which one), obeys ``max_tokens`` (finish_reason ``"length"``), streams in small chunks and
counts tokens approximately (about four characters a token).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator, Sequence

from .base import BaseLLM, Completion, LLMError, Message
from .stops import truncate_at_stop

CHARS_PER_TOKEN = 4


def approx_tokens(text: str) -> int:
    """A rough token count: about four characters a token."""
    return math.ceil(len(text) / CHARS_PER_TOKEN)


def messages_tokens(messages: Sequence[Message]) -> int:
    """Rough prompt size of chat messages (content plus a few tokens per message)."""
    return sum(approx_tokens(str(m.get("content") or "")) + 4 for m in messages)


class ScriptedLLM(BaseLLM):
    """Replays ``replies`` (a list, or ``fn(messages) -> str``) deterministically."""

    def __init__(
        self,
        replies: Sequence[str] | Callable[[list[Message]], str],
        *,
        chunk_size: int = 4,
        name: str = "scripted",
        stop_tokens: Sequence[str] = (),
    ):
        if chunk_size < 1:
            raise ValueError("chunk_size must be at least 1")
        self._fn = replies if callable(replies) else None
        self._replies = [] if callable(replies) else list(replies)
        self.chunk_size = chunk_size
        self.name = name
        self.stop_tokens = list(stop_tokens)
        self.calls: list[list[Message]] = []  # the messages of every call, for assertions

    @property
    def remaining(self) -> int | None:
        """Replies left (None when replies come from a function)."""
        return None if self._fn is not None else len(self._replies) - len(self.calls)

    def _next_reply(self, messages: list[Message]) -> str:
        if self._fn is not None:
            reply = self._fn(messages)
            if not isinstance(reply, str):
                raise LLMError(f"ScriptedLLM function returned {type(reply).__name__}, not str")
            return reply
        index = len(self.calls) - 1
        if index >= len(self._replies):
            raise LLMError(
                f"ScriptedLLM ran out of replies: call {index + 1} but only "
                f"{len(self._replies)} scripted"
            )
        return self._replies[index]

    def stream(
        self,
        messages: Sequence[Message],
        *,
        stop: Sequence[str] = (),
        max_tokens: int = 1024,
        temperature: float = 0.0,
    ) -> Iterator[str | Completion]:
        start = time.perf_counter()
        msgs = [dict(m) for m in messages]
        self.calls.append(msgs)
        reply = self._next_reply(msgs)
        text, hit = truncate_at_stop(reply, [*stop, *self.stop_tokens])
        finish = "stop"
        limit = max(0, max_tokens) * CHARS_PER_TOKEN
        if len(text) > limit:
            text, hit, finish = text[:limit], None, "length"
        for i in range(0, len(text), self.chunk_size):
            yield text[i : i + self.chunk_size]
        yield Completion(
            text=text,
            prompt_tokens=messages_tokens(msgs),
            completion_tokens=approx_tokens(text),
            finish_reason=finish,
            stop_sequence=hit,
            total_seconds=time.perf_counter() - start,
        )
