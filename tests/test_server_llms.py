"""Tests for codeact.server.llms: one backend per spec, serialised in-process backends."""

from __future__ import annotations

import threading
import time

from codeact.llm.scripted import ScriptedLLM
from codeact.llm.serialized import SerializedLLM
from codeact.server.llms import LLMCache


def test_cache_builds_each_spec_once() -> None:
    built: list[str] = []

    def build(spec: str) -> ScriptedLLM:
        built.append(spec)
        return ScriptedLLM(lambda m: "ok", name=spec)

    cache = LLMCache(build)
    assert cache("a") is cache("a")
    assert cache("b") is not cache("a")
    assert built == ["a", "b"]


def test_serialized_llm_runs_one_generation_at_a_time() -> None:
    active, peak = 0, 0
    lock = threading.Lock()

    def reply(messages: list) -> str:
        nonlocal active, peak
        with lock:
            active += 1
            peak = max(peak, active)
        time.sleep(0.05)
        with lock:
            active -= 1
        return "hello world"

    llm = SerializedLLM(ScriptedLLM(reply, name="inproc"))
    assert llm.name == "inproc"
    threads = [threading.Thread(target=lambda: llm.complete([{"role": "user",
                                                             "content": "x"}]))
               for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert peak == 1
    assert "".join(x for x in llm.stream([{"role": "user", "content": "x"}])
                   if isinstance(x, str)) == "hello world"


def test_unknown_spec_raises_llm_error() -> None:
    import pytest

    from codeact.llm import LLMError

    with pytest.raises(LLMError):
        LLMCache()("no-such-model-spec")
