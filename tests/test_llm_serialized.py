"""SerializedLLM: the one lock wrapper the server and the bench share for in-process models."""

from __future__ import annotations

import threading
import time
from collections.abc import Generator, Iterator
from typing import Any

from codeact.llm.base import BaseLLM, Completion
from codeact.llm.scripted import ScriptedLLM
from codeact.llm.serialized import SerializedLLM, is_in_process, serialize

MSGS = [{"role": "user", "content": "x"}]


class Probe(ScriptedLLM):
    """An in-process model that records whether two generations overlapped."""

    in_process = True

    def __init__(self) -> None:
        self.active = 0
        self.peak = 0
        self._probe = threading.Lock()
        super().__init__(self._reply, name="probe", stop_tokens=["<|im_end|>"])
        self.context_window = 512

    def _reply(self, messages: list[Any]) -> str:
        with self._probe:
            self.active += 1
            self.peak = max(self.peak, self.active)
        time.sleep(0.03)
        with self._probe:
            self.active -= 1
        return "hello world<|im_end|>tail"


def hammer(fn: Any, n: int = 4) -> None:
    threads = [threading.Thread(target=fn) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def test_looks_like_the_inner_backend() -> None:
    inner = Probe()
    llm = SerializedLLM(inner)
    assert llm.inner is inner and llm.llm is inner
    assert llm.name == "probe" and llm.context_window == 512
    assert llm.stop_tokens == ["<|im_end|>"] and not is_in_process(llm)
    assert llm.count_tokens(MSGS) == inner.count_tokens(MSGS)
    done = llm.complete(MSGS, stop=["world"])
    assert done.text == "hello " and done.stop_sequence == "world"


def test_stream_and_complete_run_one_at_a_time() -> None:
    inner = Probe()
    llm = SerializedLLM(inner)
    hammer(lambda: llm.complete(MSGS))
    hammer(lambda: list(llm.stream(MSGS)))
    assert inner.peak == 1
    text = "".join(x for x in llm.stream(MSGS) if isinstance(x, str))
    assert text == "hello world"


def test_a_closed_stream_releases_the_lock() -> None:
    llm = SerializedLLM(Probe())
    gen = llm.stream(MSGS)
    assert isinstance(gen, Generator)
    next(gen)
    gen.close()
    assert llm.complete(MSGS).text == "hello world"  # would deadlock if still held


def test_serialize_wraps_in_process_models_once() -> None:
    probe = Probe()
    wrapped = serialize(probe)
    assert isinstance(wrapped, SerializedLLM) and serialize(wrapped) is wrapped
    http_like = ScriptedLLM(["ok"])
    assert serialize(http_like) is http_like
    assert is_in_process(probe) and not is_in_process(http_like) and not is_in_process(object())


def test_wraps_a_bare_streaming_object() -> None:
    class Bare:
        in_process = True
        name = "bare"

        def stream(self, messages: Any, **kw: Any) -> Iterator[str | Completion]:
            yield "hi"
            yield Completion(text="hi", completion_tokens=1)

    llm = serialize(Bare())  # type: ignore[arg-type]
    assert isinstance(llm, SerializedLLM) and isinstance(llm, BaseLLM)
    assert llm.complete(MSGS).text == "hi" and llm.stop_tokens == []


def test_the_seed_passes_through_and_a_bare_object_cannot_vary() -> None:
    seen: list[Any] = []

    class Bare:
        in_process = True
        name = "bare"

        def stream(self, messages: Any, **kw: Any) -> Iterator[str | Completion]:
            seen.append(kw.get("seed", "absent"))
            yield Completion(text="hi")

    llm = serialize(Bare())  # type: ignore[arg-type]
    list(llm.stream(MSGS))
    list(llm.stream(MSGS, temperature=0.7, seed=5))
    assert seen == ["absent", 5] and not llm.can_vary
    assert serialize(ScriptedLLM(["x"])).can_vary  # type: ignore[attr-defined]
