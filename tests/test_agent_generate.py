"""The generate step: text deltas as events, and every failure as a Reply, never raised."""

import threading
from collections.abc import Iterator

from step_helpers import drain

from codeact.agent.generate import Reply, generate
from codeact.events import TextDelta
from codeact.llm.base import Completion, LLMError
from codeact.llm.scripted import ScriptedLLM


def _run(llm, interrupted=None) -> tuple[list, Reply]:
    return drain(generate(llm, [{"role": "user", "content": "hi"}], turn=3,
                           stop=["</execute>"], max_tokens=64, temperature=0.0,
                           interrupted=interrupted or threading.Event()))


def test_a_reply_streams_as_text_deltas_of_its_turn():
    events, reply = _run(ScriptedLLM(["<execute>print(1)</execute> and more"], chunk_size=3))
    assert all(isinstance(e, TextDelta) and e.turn == 3 for e in events)
    assert "".join(e.text for e in events) == reply.completion.text == "<execute>print(1)"
    assert reply.error is None and reply.seconds >= 0


class Broken(ScriptedLLM):
    def __init__(self, exc: Exception) -> None:
        super().__init__(["unused"])
        self.exc = exc

    def stream(self, *args, **kwargs) -> Iterator[str | Completion]:
        yield "partial"
        raise self.exc


class Silent(ScriptedLLM):
    def stream(self, *args, **kwargs) -> Iterator[str | Completion]:
        yield from ()


def test_backend_failures_become_the_replys_error():
    _, reply = _run(Broken(LLMError("server at http://x unreachable")))
    assert reply.completion is None and reply.error == "server at http://x unreachable"
    _, reply = _run(Broken(KeyError("oops")))
    assert reply.error == "LLM backend failed: KeyError: 'oops'"
    _, reply = _run(Silent(["x"]))
    assert reply.error == "LLM backend returned no reply"


def test_an_interrupted_generation_without_a_reply_is_no_error():
    stop = threading.Event()
    stop.set()
    _, reply = _run(Silent(["x"]), interrupted=stop)
    assert reply.completion is None and reply.error is None


class Looping(ScriptedLLM):
    """Streams one reply that loops to 10,000 characters, and records how far it was read."""

    def __init__(self) -> None:
        super().__init__(["unused"])
        self.sent = 0
        self.closed = False

    def count_tokens(self, messages) -> int:
        return 42

    def stream(self, *args, **kwargs) -> Iterator[str | Completion]:
        try:
            yield "<execute>\nx = "
            for _ in range(5000):  # bounded: a missed loop fails the test, not hangs it
                self.sent += 1
                yield "10"
            yield Completion(text="never read this far")
        finally:
            self.closed = True


def test_a_reply_that_loops_is_stopped_there_as_cut_off():
    """Seen: `place_bid(lot, "bidder1", 1000000...` for the whole 512-token budget."""
    llm = Looping()
    events, reply = _run(llm)
    text = reply.completion.text
    assert text.startswith("<execute>\nx = 1010") and len(text) < 1000
    assert "".join(e.text for e in events) == text
    assert llm.closed and llm.sent < 500  # the stream was closed, not drained
    assert reply.completion.finish_reason == "loop"
    assert reply.completion.prompt_tokens == 42  # the backend's own count
    assert reply.completion.completion_tokens == llm.sent + 1
