"""The general check of `codeact train compare`: seeded questions and their grading."""

from __future__ import annotations

import pytest

from codeact.llm.scripted import ScriptedLLM
from codeact.train import general_check as gc


def test_general_items_are_at_least_50_with_answers():
    items = gc.general_items()
    assert len(items) >= 50
    assert {i["kind"] for i in items} == {"arithmetic", "knowledge"}
    assert items == gc.general_items()  # seeded
    arith = items[0]
    a, op, b = arith["question"].split()[2:5]
    b = b.rstrip("?")
    expected = {"plus": int(a) + int(b), "minus": int(a) - int(b), "times": int(a) * int(b)}[op]
    assert arith["answers"] == [str(expected)]


@pytest.mark.parametrize("reply,answers,ok", [
    ("The answer is 1,234.", ["1234"], True),
    ("12 + 3 = 15", ["15"], True),
    ("15 is close but it is 16", ["15"], False),
    ("It is Paris, of course.", ["Paris"], True),
    ("Parisian food", ["Paris"], False),
    ("CO2 is absorbed", ["carbon dioxide", "CO2"], True),
    ("", ["7", "seven"], False),
])
def test_grade_general(reply, answers, ok):
    assert gc.grade_general(reply, answers) is ok


def test_run_general_with_a_scripted_model():
    items = gc.general_items(n_arithmetic=2)[:3]
    answers = [f"It is {i['answers'][0]}." for i in items[:2]] + ["No idea."]
    records = gc.run_general(ScriptedLLM(answers), items)
    assert [r["correct"] for r in records] == [True, True, False]
