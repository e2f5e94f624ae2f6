"""Each filter rule on hand-made records, and the invalid-turn repair."""

from __future__ import annotations

from codeact.agent.observe import turns_left_note
from codeact.data import filters
from codeact.data.decontam import build_index

SYSTEM = {"role": "system", "content": "prompt"}


def record(name: str, actions: list[tuple[str, bool | None]], success: bool = True,
           task: str = "solve it", max_turns: int = 10) -> dict:
    """A raw record whose turns have these (action, exec_ok) pairs; the last is the
    solution unless it is itself an action."""
    msgs = [SYSTEM, {"role": "user", "content": task}]
    turns = []
    for i, (action, ok) in enumerate(actions, 1):
        msgs.append({"role": "assistant", "content": f"{name} turn {i} {action}"})
        turns.append({"turn": i, "action": action, "exec_ok": ok})
        if action != "solution":
            note = turns_left_note(max_turns - i)
            msgs.append({"role": "user", "content": f"Observation:\nout {i}"
                                                    + (f"\n{note}" if note else "")})
    return {"task": name, "success": success,
            "trajectory": {"messages": msgs, "turns": turns}}


GOOD = [("code", True), ("code", True), ("solution", None)]


def kept(records: list[dict], **kw) -> list[str]:
    items, _ = filters.apply(records, filters.FilterConfig(decontaminate=False, **kw))
    return [it.name for it in items]


def test_solved() -> None:
    recs = [record("a", GOOD), record("b", GOOD, success=False)]
    assert kept(recs) == ["a"] and kept(recs, solved=False) == ["a", "b"]


def test_min_turns() -> None:
    recs = [record("a", GOOD), record("b", [("code", True), ("solution", None)])]
    assert kept(recs) == ["a"] and kept(recs, min_turns=2) == ["a", "b"]


def test_exec_success() -> None:
    recs = [record("a", [("code", False), ("code", True), ("solution", None)]),
            record("b", [("code", False), ("code", False), ("solution", None)]),
            record("c", [("invalid", None), ("tool_call", True), ("solution", None)])]
    assert kept(recs, invalid="keep") == ["a"]
    assert kept(recs, invalid="keep", exec_success=False) == ["a", "b", "c"]


def test_require_recovery() -> None:
    recs = [record("a", [("code", False), ("code", True), ("solution", None)]),
            record("b", [("code", True), ("code", False), ("solution", None)]),
            record("c", GOOD)]
    assert kept(recs, require_recovery=True) == ["a"]
    assert kept(recs) == ["a", "b", "c"]


def test_no_repeats() -> None:
    looped = record("a", GOOD)
    for t in looped["trajectory"]["turns"][:2]:
        t["code"] = "print(1)\n"  # the same cell twice (whitespace aside)
    looped["trajectory"]["turns"][1]["code"] = "print(1)  # Output: 1"  # a comment added
    auto = record("b", [("code", True), ("code", True), ("code+auto_final_answer", True)])
    varied = record("c", GOOD)
    for i, t in enumerate(varied["trajectory"]["turns"][:2]):
        t["code"] = f"print({i})"
    at_limit = record("d", GOOD)  # answered by the agent when the run hit its limit
    at_limit["trajectory"]["metadata"] = {"fallback_answer": {"turn": 3, "stop": "max_turns"}}
    recs = [looped, auto, varied, at_limit]
    assert kept(recs) == ["c"]
    assert kept(recs, no_repeats=False) == ["a", "b", "c", "d"]


def test_dedup_keeps_the_first() -> None:
    recs = [record("a", GOOD), record("a", GOOD), record("c", GOOD)]
    recs[1]["task"] = "b"
    assert kept(recs) == ["a", "c"] and kept(recs, dedup=False) == ["a", "b", "c"]


def test_records_without_trajectory_are_counted_and_dropped() -> None:
    items, report = filters.apply([{"task": "crashed", "trajectory": None}, record("a", GOOD)],
                                  filters.FilterConfig(decontaminate=False))
    assert [i.name for i in items] == ["a"] and report.total == 2
    assert report.dropped["no_trajectory"] == ["crashed"]
    assert report.funnel[0] == ("with a trajectory", 1)


def test_decontaminate() -> None:
    text = " ".join(f"w{i}" for i in range(20))
    index = build_index([], extra=[("ev", "e", text)])
    recs = [record("a", GOOD, task="prefix " + text), record("b", GOOD)]
    items, report = filters.apply(recs, filters.FilterConfig(), index=index)
    assert [i.name for i in items] == ["b"]
    assert report.decontamination[0]["task"] == "a"


def test_invalid_drop_and_repair() -> None:
    acts = [("code", True), ("invalid", None), ("invalid", None), ("code", True),
            ("solution", None)]
    recs = [record("a", acts)]
    assert kept(recs) == []
    items, report = filters.apply(recs, filters.FilterConfig(invalid="repair",
                                                             decontaminate=False))
    assert report.repaired == 1
    item = items[0]
    texts = [m["content"] for m in item.messages]
    assert not any("invalid" in t for t in texts)
    assert [t["action"] for t in item.turns] == ["code", "code", "solution"]
    assert [t["turn"] for t in item.turns] == [1, 2, 3]
    notes = [t.splitlines()[-1] for t in texts if t.startswith("Observation")]
    assert notes == ["out 1", "out 4"]  # turns-left notes appear near the end only


def test_repair_renumbers_the_turns_left_notes() -> None:
    acts = [("invalid", None), ("code", True), ("code", True), ("solution", None)]
    items, _ = filters.apply([record("a", acts, max_turns=4)],
                             filters.FilterConfig(invalid="repair", decontaminate=False))
    texts = [m["content"] for m in items[0].messages if m["content"].startswith("Obs")]
    # before: "out 2" with 2 turns left, "out 3" with 1; one turn fewer used after repair
    assert texts == ["Observation:\nout 2", "Observation:\nout 3\nYou have 2 turns left."]


def test_repair_that_leaves_too_few_turns_drops() -> None:
    recs = [record("a", [("invalid", None), ("code", True), ("solution", None)])]
    assert kept(recs, invalid="repair") == []
    assert kept(recs, invalid="repair", min_turns=2) == ["a"]


def test_verdict_is_the_per_record_part() -> None:
    cfg = filters.FilterConfig()
    assert filters.verdict(record("a", GOOD), cfg)
    assert not filters.verdict(record("a", GOOD, success=False), cfg)


def test_bad_config() -> None:
    import pytest

    with pytest.raises(ValueError, match="drop, repair, keep"):
        filters.FilterConfig(invalid="fix")
