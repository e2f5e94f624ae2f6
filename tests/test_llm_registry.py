"""The LLM backend registry: a toy backend is one class plus one registration line, and then
``make_llm``, the template ``stream``, the chat server and the bench all know it."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from codeact.llm import LLMError, make_llm, register, registry
from codeact.llm.base import BaseLLM, Completion, Message, StreamEnd, StreamRequest
from codeact.llm.serialized import SerializedLLM, is_in_process


class ToyLLM(BaseLLM):
    """Echoes its model name, one character a piece, and records overlapping calls."""

    in_process = True

    def __init__(self, model: str, *, base_url: str | None = None, delay: float = 0.0):
        self.model = model
        self.base_url = base_url
        self.delay = delay
        self.name = f"toy:{model}"
        self.stop_tokens = ["<eot>"]
        self.active = 0
        self.peak = 0
        self.pieces_sent = 0
        self._count = threading.Lock()

    def _raw_stream(self, messages: list[Message],
                    request: StreamRequest) -> Iterator[str | StreamEnd]:
        with self._count:
            self.active += 1
            self.peak = max(self.peak, self.active)
        try:
            for ch in self.model:
                time.sleep(self.delay)
                self.pieces_sent += 1
                yield ch
                if request.stopped is not None:
                    break
        finally:
            with self._count:
                self.active -= 1
        yield StreamEnd(finish_reason="length", prompt_tokens=7)


@pytest.fixture(autouse=True)
def clean_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test registers into a copy of the registry, dropped afterwards."""
    monkeypatch.setattr(registry, "_BACKENDS", dict(registry._BACKENDS))


def run(llm: object, **kwargs: object) -> tuple[list[str], Completion]:
    items = list(llm.stream([{"role": "user", "content": "hi"}], **kwargs))  # type: ignore[attr-defined]
    assert isinstance(items[-1], Completion)
    return items[:-1], items[-1]


def test_one_line_makes_a_spec_prefix() -> None:
    register("toy", ToyLLM, options=("base_url",))
    llm = make_llm("toy:abc", base_url="http://h", api_key="ignored", delay=0.0)
    assert isinstance(llm, ToyLLM)
    assert (llm.model, llm.base_url, llm.name) == ("abc", "http://h", "toy:abc")
    assert "toy" in registry.prefixes()
    with pytest.raises(LLMError, match="names no model after 'toy:'"):
        make_llm("toy:")


def test_the_decorator_form_registers_too() -> None:
    @register("deco")
    class Deco(ToyLLM):
        pass

    assert isinstance(make_llm("deco:x"), Deco)


def test_toy_streams_through_the_template_with_stops() -> None:
    register("toy", ToyLLM)
    llm = make_llm("toy:say </ex no</execute> hidden")
    assert isinstance(llm, ToyLLM)
    deltas, done = run(llm, stop=["</execute>"])
    assert done.text == "say </ex no" == "".join(deltas)
    assert done.stop_sequence == "</execute>" and done.finish_reason == "stop"
    assert llm.pieces_sent == len("say </ex no</execute>")  # the backend stopped early
    assert done.prompt_tokens == 7  # the engine's own count wins over the estimate
    assert done.completion_tokens == llm.pieces_sent  # estimated: pieces received
    # the backend's stop_tokens apply too; without a stop the engine's finish reason stays
    assert make_llm("toy:a<eot>b").complete([]).text == "a"
    free = make_llm("toy:abc").complete([])
    assert (free.text, free.finish_reason, free.stop_sequence) == ("abc", "length", None)


def test_registering_a_taken_prefix_is_an_error() -> None:
    with pytest.raises(ValueError, match="already registered as 'openai'"):
        register("openai", ToyLLM)
    register("openai", ToyLLM, replace=True)
    assert isinstance(make_llm("openai:x"), ToyLLM)
    with pytest.raises(ValueError, match="contain no ':'"):
        register("a:b", ToyLLM)
    with pytest.raises(ValueError, match="unknown make_llm option"):
        register("toy", ToyLLM, options=("colour",))


@pytest.mark.parametrize("in_process", [True, False])
def test_server_and_bench_follow_in_process(monkeypatch: pytest.MonkeyPatch,
                                            in_process: bool) -> None:
    from codeact.bench.runner import share
    from codeact.server.llms import LLMCache

    monkeypatch.setattr(ToyLLM, "in_process", in_process)
    register("toy", ToyLLM)
    assert registry.spec_in_process("toy:x") is in_process
    # the server: one instance per spec, locked only when in-process
    served = LLMCache(options={"delay": 0.02})("toy:abcd")
    assert isinstance(served, SerializedLLM) is in_process
    inner = served.inner if in_process else served
    assert isinstance(inner, ToyLLM)
    threads = [threading.Thread(target=served.complete, args=([],)) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert (inner.peak == 1) is in_process
    # the bench: several workers share it behind the lock only when in-process
    toy = make_llm("toy:x")
    assert is_in_process(toy) is in_process
    assert isinstance(share(toy, 3), SerializedLLM) is in_process
    assert share(toy, 1) is toy


def test_builtin_specs_are_classified_without_building(tmp_path: Path) -> None:
    gguf = tmp_path / "m.gguf"
    assert registry.spec_backend("openai:gpt").__name__ == "OpenAICompatLLM"
    assert registry.spec_backend("litellm:x").__name__ == "LiteLLM"
    assert registry.spec_backend("hf:org/repo").__name__ == "TransformersLLM"
    assert registry.spec_backend(str(gguf)).__name__ == "LlamaCppLLM"
    assert registry.spec_backend(str(tmp_path)).__name__ == "TransformersLLM"
    assert registry.spec_backend("no-such-model") is None
    assert not registry.spec_in_process("openai:gpt")
    assert registry.spec_in_process(str(gguf)) and registry.spec_in_process("no-such-model")
    assert registry.prefixes()[:3] == ["openai", "hf", "litellm"]


def test_importing_codeact_llm_loads_no_backend_module() -> None:
    code = ("import sys, codeact.llm; from codeact.llm import registry; "
            "print(sorted(m for m in sys.modules if m.startswith(('codeact.llm.openai', "
            "'codeact.llm.llamacpp', 'codeact.llm.transformers', 'codeact.llm.litellm', "
            "'openai', 'torch', 'llama_cpp'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env={"PYTHONPATH": str(Path(registry.__file__)
                                                            .parents[2])})
    assert out.stdout.strip() == "[]"
