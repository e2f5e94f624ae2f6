"""Rendering a record like `codeact run`'s transcript."""

import pytest
from rich.console import Console

from codeact.data.show import events, find, render
from codeact.events import CodeActionEvent, FinalAnswerEvent, ObservationEvent

REC = {"id": "math/units/s1-0/m/code-max5-s0", "metadata": {"teacher": "m", "answer": "42"},
       "conversations": [
           {"role": "system", "content": "prompt"},
           {"role": "user", "content": "What is 6*7?"},
           {"role": "assistant", "content": "Compute.\n<execute>\nprint(6*7)\n</execute>"},
           {"role": "user", "content": "Observation:\n42\nYou have 4 turns left."},
           {"role": "assistant", "content": "Done.\n<solution>42</solution>"}]}


def test_events_replay_the_conversation() -> None:
    evs = events(REC["conversations"])
    assert [type(e).__name__ for e in evs] == [
        "TurnStarted", "TextDelta", "CodeActionEvent", "ObservationEvent", "TurnStarted",
        "TextDelta", "FinalAnswerEvent"]
    assert next(e for e in evs if isinstance(e, CodeActionEvent)).code.strip() == \
        "print(6*7)"
    assert next(e for e in evs if isinstance(e, ObservationEvent)).text.startswith("42")
    assert next(e for e in evs if isinstance(e, FinalAnswerEvent)).answer == "42"


def test_render_prints_a_transcript() -> None:
    console = Console(record=True, width=100)
    render(REC, console)
    out = console.export_text()
    for needle in ("What is 6*7?", "turn 1", "print(6*7)", "42", "turn 2", "answer",
                   "Compute.", "2 assistant turn(s)"):
        assert needle in out, needle
    assert "<execute>" not in out


def test_find() -> None:
    other = {**REC, "id": "math/units/s1-1/m/code-max5-s0"}
    recs = [REC, other]
    assert find(recs, None) is REC and find(recs, "s1-1") is other
    assert find(recs, REC["id"]) is REC
    with pytest.raises(LookupError, match="2 record ids contain"):
        find(recs, "math/units")
    with pytest.raises(LookupError, match="no record id contains"):
        find(recs, "zzz")
    with pytest.raises(LookupError, match="no records"):
        find([], None)


def test_find_by_the_run_name_results_files_use() -> None:
    """`coding/dicts/s2-8@1` (a raw record's task name, as logs show it) finds that sample."""
    def rec(sample):
        return {**REC, "id": f"coding/dicts/s2-8/m/code-s{sample}",
                "metadata": {"task": "coding/dicts/s2-8", "sample": sample}}

    recs = [rec(0), rec(1)]
    assert find(recs, "coding/dicts/s2-8@1") is recs[1]
    assert find(recs, "coding/dicts/s2-8@0") is recs[0]
