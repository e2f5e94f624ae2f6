"""The dataset card names counts, tokenizer, filters, decontamination and teacher."""

from codeact.data import card, stats


def test_card_contents() -> None:
    recs = [{"id": "a", "conversations": [{"role": "assistant", "content": "abcd"}] * 3,
             "metadata": {"source": "extra.jsonl", "family": "extra", "kind": "jsonl",
                          "recovered": True}}]
    st = stats.compute(recs)
    text = card.render(
        st, run={"teacher": "qwen2.5-coder-1.5b", "seed": 7, "sources": ["math", "extra.jsonl"],
                 "source_types": {"extra.jsonl": "jsonl"}, "temperature": 0.0,
                 "resample": 2, "difficulty": [2, 3],
                 "decontamination": {"suites": {"builtin": 96, "humaneval": 164},
                                     "skipped": {"thirdparty": "ImportError"},
                                     "hits": [{"task": "x"}]}},
        report={"total": 10, "funnel": [{"rule": "solved", "remaining": 4}],
                "decontamination": []},
        filters={"solved": True, "min_turns": 3}, prompts={"code": "ab" * 32},
        files={"jsonl": "out/data.jsonl"})
    assert text.startswith("---\npretty_name:")
    for needle in ("| teacher | qwen2.5-coder-1.5b |", "| seed | 7 |",
                   "| extra.jsonl | jsonl | 1 |", "| 3 | 1 |", "approx: 4 chars/token",
                   "| solved | 4 |", "| min_turns | 3 |", "builtin (96 tasks)",
                   "humaneval (164 tasks)", "not checked): thirdparty",
                   "Tasks dropped before collection: 1.", "code: " + "ab" * 32,
                   "out/data.jsonl", "load_dataset", "| difficulty | levels 2, 3, drawn per task |",
                   "| resample (retries of a repeated action) | 2 |",
                   "a code cell failed and a later cell ran cleanly): 1 of 1."):
        assert needle in text, needle


def test_card_describes_the_generator_families() -> None:
    recs = [{"id": f"r{i}", "conversations": [{"role": "assistant", "content": "x"}],
             "metadata": {"source": src, "family": src, "kind": kind}}
            for i, (src, kind) in enumerate([("frames", "pivot"), ("apis", "clinic")])]
    text = card.render(stats.compute(recs))
    assert "| frames | pandas data work" in text and "| reshape |" in text
    assert "| apis | third-party-style tool worlds" in text and "| auction |" in text


def test_every_prompt_a_collection_used_is_named():
    """A collection resumed at another commit can hold runs of two prompts: the card
    named only the last one it saw."""
    def rec(sha):
        return {"metadata": {"prompt_name": "code", "prompt_sha256": sha}}

    assert card.prompts_in([rec("a" * 64)] * 3) == {"code": "a" * 64}
    two = card.prompts_in([rec("a" * 64), rec("b" * 64), rec("b" * 64), {"metadata": {}}])
    assert two == {"code": f"{'b' * 64} (2 records), {'a' * 64} (1 record)"}
