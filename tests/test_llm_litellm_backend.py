"""The litellm backend: optional; a clear error without the `litellm` extra."""

from __future__ import annotations

import sys
from types import SimpleNamespace
from typing import Any

import pytest

from codeact.llm.base import Completion, LLMError
from codeact.llm.litellm_backend import LiteLLM


def test_missing_litellm_gives_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "litellm", None)
    with pytest.raises(LLMError, match=r"pip install 'codeact\[litellm\]'"):
        LiteLLM("gpt-4o")


def _chunk(text: str | None, finish: str | None = None) -> Any:
    return SimpleNamespace(choices=[SimpleNamespace(delta=SimpleNamespace(content=text),
                                                    finish_reason=finish)])


def test_streams_and_applies_stops(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[dict[str, Any]] = []

    def completion(**kwargs: Any) -> Any:
        calls.append(kwargs)
        return iter([_chunk("x = 1\n</exe"), _chunk("cute> junk"), _chunk(None, "stop")])

    monkeypatch.setitem(sys.modules, "litellm", SimpleNamespace(completion=completion))
    llm = LiteLLM("provider/model", base_url="http://h", api_key="k")
    items = list(llm.stream([{"role": "user", "content": "q"}],
                            stop=["a", "b", "c", "d", "</execute>"]))
    done = items[-1]
    assert isinstance(done, Completion)
    assert done.text == "x = 1\n" == "".join(items[:-1])  # type: ignore[arg-type]
    assert done.stop_sequence == "</execute>"
    assert calls[0]["stop"] == ["a", "b", "c", "d"] and calls[0]["api_base"] == "http://h"


def test_provider_error_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    def completion(**kwargs: Any) -> Any:
        raise RuntimeError("quota exceeded\nmore detail")

    monkeypatch.setitem(sys.modules, "litellm", SimpleNamespace(completion=completion))
    with pytest.raises(LLMError, match=r"^litellm m: RuntimeError: quota exceeded$"):
        LiteLLM("m").complete([{"role": "user", "content": "q"}])
