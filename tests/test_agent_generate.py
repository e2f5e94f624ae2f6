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
