"""Tests for codeact.server.store.search (titles, full-text over messages, snippets) on
SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from store_helpers import BACKENDS, open_store, postgres_url  # noqa: F401 (a fixture)

from codeact.server.store import Store
from codeact.server.store.search import SEARCH_TOKENS, snippet


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    yield from open_store(request, tmp_path)


def test_search_titles_and_message_text(store: Store) -> None:
    a = store.create_conversation("Budget planning")["id"]
    b = store.create_conversation("Other")["id"]
    store.add_message(b, "user", "text", "please compute the fibonacci numbers up to 100")
    store.add_message(b, "assistant", "answer", "Here they are: 1 1 2 3 5")
    c = store.create_conversation("Third")["id"]
    store.add_message(c, "user", "text", "plot a sine wave")
    assert [r["id"] for r in store.search("budget")] == [a]
    hits = store.search("fibo")  # a word prefix
    assert [r["id"] for r in hits] == [b]
    assert "fibonacci" in hits[0]["match"]["snippet"]
    assert [r["id"] for r in store.search("sine wave")] == [c]
    assert store.search("nothing-like-this") == [] and store.search("  %_ ") == []
    msg = store.add_message(c, "assistant", "text", "", status="streaming")
    store.append_message_text(msg["id"], "streamed aardvark text")  # updates are indexed
    assert [r["id"] for r in store.search("aardvark")] == [c]
    store.soft_delete(c)  # deleted conversations are not found
    assert store.search("aardvark") == []


def test_snippet_centres_on_the_match() -> None:
    text = "word " * 50 + "needle" + " tail" * 50
    out = snippet(text, ["needle"])
    assert "needle" in out and out.startswith("…") and out.endswith("…")


def test_only_the_first_words_of_a_query_count(store: Store) -> None:
    cid = store.create_conversation("t")["id"]
    store.add_message(cid, "user", "text", "alpha beta")
    words = ["alpha"] * SEARCH_TOKENS + ["missing"]
    assert [r["id"] for r in store.search(" ".join(words))] == [cid]



def test_like_wildcards_in_a_query_match_only_themselves(store: Store) -> None:
    store.create_conversation("100 percent")
    assert store.search("100%") == [] and store.search("10_") == []
    assert [r["title"] for r in store.search("100 p")] == ["100 percent"]
