"""A deterministic backend for tests: replays the replies it was given.

``ScriptedLLM(["reply 1", "reply 2"])`` returns them in order, one per call;
``ScriptedLLM(fn)`` calls ``fn(messages)`` for each reply. Like a real model it stops at
the first stop sequence (the stop text is not part of the reply, ``stop_sequence`` says
which one), obeys ``max_tokens`` (finish_reason ``"length"``), streams in small chunks and
counts tokens approximately (about four characters a token).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

from .base import (
    CHARS_PER_TOKEN,
    BaseLLM,
    LLMError,
    Message,
    StreamEnd,
    StreamRequest,
    approx_tokens,
    messages_tokens,
)
from .stops import truncate_at_stop

__all__ = ["CHARS_PER_TOKEN", "ScriptedLLM", "approx_tokens", "messages_tokens"]


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

    def _raw_stream(self, messages: list[Message],
                    request: StreamRequest) -> Iterator[str | StreamEnd]:
        """The reply cut at its first stop (which is then sent, so the base reports it)
        or at ``max_tokens`` (about four characters a token), in ``chunk_size`` pieces."""
        self.calls.append(messages)
        reply = self._next_reply(messages)
        text, hit = truncate_at_stop(reply, request.stop)
        finish = "stop"
        limit = max(0, request.max_tokens) * CHARS_PER_TOKEN
        if len(text) > limit:
            text, hit, finish = text[:limit], None, "length"
        for i in range(0, len(text), self.chunk_size):
            yield text[i : i + self.chunk_size]
        if hit is not None:
            yield hit
        yield StreamEnd(finish_reason=finish, prompt_tokens=messages_tokens(messages),
                        completion_tokens=approx_tokens(text), prompt_seconds=0.0)
