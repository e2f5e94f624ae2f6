"""BaseLLM.stream, the template method: a backend yields raw pieces and one StreamEnd; the
base cuts at stops (never showing stop text), times, estimates and builds the Completion."""

from __future__ import annotations

from collections.abc import Generator, Iterator, Sequence

import pytest

from codeact.errors import CodeactError
from codeact.llm.base import (
    LLM,
    BaseLLM,
    Completion,
    LLMError,
    Message,
    StreamEnd,
    StreamRequest,
    approx_tokens,
    messages_tokens,
)

MSGS = [{"role": "user", "content": "hello there"}]


class Raw(BaseLLM):
    """Yields the given pieces (then ``end``, if any), recording what it was asked."""

    def __init__(self, pieces: Sequence[str], end: StreamEnd | None = None, *,
                 stop_tokens: Sequence[str] = (), obey_stop: bool = True) -> None:
        self.pieces = list(pieces)
        self.end = end
        self.stop_tokens = list(stop_tokens)
        self.obey_stop = obey_stop
        self.requests: list[StreamRequest] = []
        self.sent = 0
        self.closed = False

    def _raw_stream(self, messages: list[Message],
                    request: StreamRequest) -> Iterator[str | StreamEnd]:
        self.requests.append(request)
        try:
            for p in self.pieces:
                self.sent += 1
                yield p
                if self.obey_stop and request.stopped is not None:
                    break
            if self.end is not None:
                yield self.end
        finally:
            self.closed = True


def split(items: list[str | Completion]) -> tuple[list[str], Completion]:
    assert isinstance(items[-1], Completion)
    assert all(isinstance(i, str) for i in items[:-1])
    return items[:-1], items[-1]  # type: ignore[return-value]


def test_llm_error_is_a_codeact_error_and_still_a_runtime_error() -> None:
    assert issubclass(LLMError, CodeactError) and issubclass(LLMError, RuntimeError)
    from codeact.llm.models import ModelError

    assert issubclass(ModelError, CodeactError) and issubclass(ModelError, LLMError)


def test_stop_split_across_pieces_is_cut_and_reported() -> None:
    llm = Raw(["code\n</ex", "ecute> junk", "more"], stop_tokens=["<|im_end|>"])
    assert isinstance(llm, LLM)
    deltas, done = split(list(llm.stream(MSGS, stop=["</execute>", "</execute>"],
                                         max_tokens=9, temperature=0.5)))
    assert deltas == ["code\n"] and done.text == "code\n"
    assert done.stop_sequence == "</execute>" and done.finish_reason == "stop"
    assert llm.sent == 2 and llm.closed  # the backend was told to stop, and did
    req = llm.requests[0]
    assert req.stop == ["</execute>", "<|im_end|>"]  # merged, deduplicated, caller first
    assert (req.max_tokens, req.temperature) == (9, 0.5)


def test_without_a_stop_the_held_tail_is_flushed_and_the_engine_decides() -> None:
    end = StreamEnd(finish_reason="length", stop_sequence=None, prompt_tokens=3,
                    completion_tokens=2, prompt_seconds=0.25, cached_prompt_tokens=1)
    deltas, done = split(list(Raw(["ab", "c</ex"], end).stream(MSGS, stop=["</execute>"])))
    assert deltas == ["ab", "c", "</ex"] and done.text == "abc</ex"
    assert (done.finish_reason, done.stop_sequence) == ("length", None)
    assert (done.prompt_tokens, done.completion_tokens, done.prompt_seconds,
            done.cached_prompt_tokens) == (3, 2, 0.25, 1)
    assert done.total_seconds >= 0


def test_an_engine_stop_is_reported_when_no_client_stop_hit() -> None:
    done = Raw(["ab"], StreamEnd(stop_sequence="<eos>")).complete(MSGS)
    assert done.text == "ab" and done.stop_sequence == "<eos>" and done.finish_reason == "stop"


def test_estimates_when_the_engine_does_not_count() -> None:
    done = Raw(["ab", "", "cd"]).complete(MSGS)  # no StreamEnd at all
    assert done.prompt_tokens == messages_tokens(MSGS)
    assert done.completion_tokens == 2  # non-empty pieces received
    assert done.prompt_seconds > 0  # time to the first piece
    assert Raw([]).complete(MSGS).completion_tokens == approx_tokens("") == 0


def test_a_backend_that_ignores_the_stop_shows_nothing_more() -> None:
    llm = Raw(["a<s>", "b", "c"], StreamEnd(finish_reason="length", completion_tokens=3),
              obey_stop=False)
    deltas, done = split(list(llm.stream(MSGS, stop=["<s>"])))
    assert deltas == ["a"] and done.text == "a" and llm.sent == 3
    assert done.finish_reason == "stop" and done.completion_tokens == 3


def test_closing_the_stream_early_closes_the_backend() -> None:
    llm = Raw(["a", "b", "c"])
    gen = llm.stream(MSGS)
    assert isinstance(gen, Generator) and next(gen) == "a"
    gen.close()
    assert llm.closed and llm.sent == 1


def test_backend_errors_propagate() -> None:
    class Broken(BaseLLM):
        def _raw_stream(self, messages: list[Message],
                        request: StreamRequest) -> Iterator[str | StreamEnd]:
            yield "partial"
            raise LLMError("engine died")

    gen = Broken().stream(MSGS)
    assert next(gen) == "partial"
    with pytest.raises(LLMError, match="engine died"):
        next(gen)


def test_messages_are_copied_for_the_backend() -> None:
    seen: list[list[Message]] = []

    class Keep(BaseLLM):
        def _raw_stream(self, messages: list[Message],
                        request: StreamRequest) -> Iterator[str | StreamEnd]:
            seen.append(messages)
            yield "x"

    msgs = [{"role": "user", "content": "q"}]
    Keep().complete(msgs)
    assert seen[0] == msgs and seen[0][0] is not msgs[0]


def test_temperature_and_seed_reach_the_backend_per_call() -> None:
    llm = Raw(["x"])
    llm.complete([{"role": "user", "content": "hi"}], temperature=0.7, seed=42)
    list(llm.stream([{"role": "user", "content": "hi"}]))
    assert [(r.temperature, r.seed) for r in llm.requests] == [(0.7, 42), (0.0, None)]
    assert llm.can_vary
