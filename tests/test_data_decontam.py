"""13-gram decontamination against every registered evaluation suite."""

from __future__ import annotations

from codeact.bench.suites import BUILTIN_SUITES, load_suite
from codeact.data import decontam, generators

TEXT = ("Return the sum of all even numbers in the list that are strictly greater than "
        "the first element of the list.")


def test_normalize_and_ngrams() -> None:
    assert decontam.normalize("  A\tB \n c ") == "a b c"
    grams = decontam.ngrams(TEXT)
    assert len(grams) == len(TEXT.split()) - 12
    assert all(len(g.split()) == 13 for g in grams)
    assert decontam.ngrams("short text") == {"short text"}
    assert decontam.ngrams("") == set()


def test_index_finds_a_shared_13_gram_and_nothing_shorter() -> None:
    index = decontam.build_index([], extra=[("evalx", "e1", TEXT)])
    copied = "Please: " + TEXT.upper().replace(" ", "  ") + " Thanks."
    hit = decontam.check([("mine", copied)], index)
    assert [(h.task, h.suite, h.eval_task) for h in hit] == [("mine", "evalx", "e1")]
    twelve = " ".join(TEXT.split()[:12])
    assert decontam.check([("mine", twelve + " and other words entirely")], index) == []


def test_short_eval_instructions_match_whole() -> None:
    index = decontam.build_index([], extra=[("evalx", "e2", "What is 2 + 2?")])
    assert decontam.check([("a", "Question: what is 2 + 2? Answer briefly.")], index)
    assert not decontam.check([("b", "what is 2 + 22?")], index)


def test_every_registered_suite_is_checked(monkeypatch) -> None:
    names = decontam.eval_suite_names()
    assert set(BUILTIN_SUITES) <= set(names)
    # a suite registered later is picked up with no change here
    monkeypatch.setitem(BUILTIN_SUITES, "late-suite", lambda: [
        {"name": "late/1", "instruction": TEXT, "expected": 1}])
    index = decontam.build_index()
    assert "late-suite" in index.suites and "builtin" in index.suites
    assert decontam.check([("x", TEXT)], index)[0].suite == "late-suite"


def test_a_suite_that_cannot_load_is_reported(monkeypatch) -> None:
    def broken() -> list:
        raise ImportError("needs a package")

    monkeypatch.setitem(BUILTIN_SUITES, "broken-suite", broken)
    index = decontam.build_index()
    assert "broken-suite" in index.skipped and "needs a package" in index.skipped[
        "broken-suite"]


def test_builtin_instructions_are_caught_and_generated_ones_are_not() -> None:
    index = decontam.build_index()
    builtin = load_suite("builtin")
    long = [t for t in builtin if len(t.instruction.split()) >= 13]
    assert len(decontam.check(((t.name, t.instruction) for t in long), index)) == len(long)
    tasks = []
    for name in generators.names():
        gen = generators.get(name)
        tasks += gen.generate(40, 123) + gen.generate(20, 1_500_000, split="heldout")
    clean, hits = decontam.split_clean(tasks, index)
    assert hits == [] and len(clean) == len(tasks)
