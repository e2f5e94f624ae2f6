"""make_llm: model specs → backends."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from codeact.llm import DEFAULT_MODEL, LLMError, make_llm
from codeact.llm.openai_compat import OpenAICompatLLM


def test_default_model_is_the_registry_default() -> None:
    from codeact.llm.models import MODELS

    assert DEFAULT_MODEL == "qwen2.5-coder-1.5b" and DEFAULT_MODEL in MODELS


def test_openai_spec() -> None:
    llm = make_llm("openai:gpt-x", base_url="http://127.0.0.1:9/v1", api_key="k", max_attempts=2)
    assert isinstance(llm, OpenAICompatLLM)
    assert llm.model == "gpt-x" and llm.base_url == "http://127.0.0.1:9/v1"
    assert llm.max_attempts == 2 and llm.name == "openai:gpt-x"


def test_empty_prefixed_spec() -> None:
    with pytest.raises(LLMError, match="names no model"):
        make_llm("openai:")


def test_unknown_spec_lists_the_forms() -> None:
    with pytest.raises(LLMError, match="unknown model 'nope'.*openai:NAME"):
        make_llm("nope")


def test_missing_gguf_path(tmp_path: Path) -> None:
    with pytest.raises(LLMError, match="model file not found"):
        make_llm(str(tmp_path / "x.gguf"))


def test_gguf_path_goes_to_llamacpp(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from codeact.llm import llamacpp

    seen = {}

    class Fake:
        def __init__(self, path: Path, **kw: object) -> None:
            seen.update(path=path, **kw)

    monkeypatch.setattr(llamacpp, "LlamaCppLLM", Fake)
    gguf = tmp_path / "m.gguf"
    gguf.write_bytes(b"GGUF")
    make_llm(str(gguf), n_ctx=None, n_threads=2)
    assert seen == {"path": gguf.resolve(), "n_ctx": 8192, "n_threads": 2, "name": None}


def test_registry_name_pulls_then_loads(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from codeact.llm import factory, llamacpp

    pulled = []

    def fake_resolve(spec: str, progress: bool = True) -> Path:
        pulled.append((spec, progress))
        return tmp_path / "cached.gguf"

    monkeypatch.setattr(factory, "resolve_model", fake_resolve)
    monkeypatch.setattr(llamacpp, "LlamaCppLLM", lambda path, **kw: (path, kw))
    path, kw = make_llm("smollm2-135m", progress=False, n_ctx=2048)  # type: ignore[misc]
    assert pulled == [("smollm2-135m", False)]
    assert path == tmp_path / "cached.gguf" and kw["name"] == "smollm2-135m"
    assert kw["n_ctx"] == 2048


def test_hf_spec_without_transformers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(LLMError, match=r"codeact\[hf\]"):
        make_llm("hf:some/repo")


def test_litellm_spec_without_litellm(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "litellm", None)
    with pytest.raises(LLMError, match=r"codeact\[litellm\]"):
        make_llm("litellm:gpt-4o")
