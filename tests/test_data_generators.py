"""The generator base and registry: names, seeds, held-out rules, interleaving."""

from __future__ import annotations

import pytest

from codeact.data import generators


def test_registry_lists_every_family() -> None:
    assert set(generators.names()) >= {"math", "files", "coding", "tools", "frames", "apis"}
    for name in generators.names():
        gen = generators.get(name)
        assert gen.name == name and gen.kinds
        assert gen.heldout_kinds and set(gen.heldout_kinds) < set(gen.kinds)
    with pytest.raises(ValueError, match="unknown generator 'nope'; known: "):
        generators.get("nope")


def test_task_names_and_metadata() -> None:
    t = generators.get("math").task(7, 3)
    assert t.name == f"math/{t.metadata['kind']}/s7-3"
    assert t.metadata["seed"] == 7 and t.metadata["index"] == 3
    assert t.metadata["difficulty"] in generators.DIFFICULTIES
    # a task does not depend on how many others were generated
    assert generators.get("math").generate(10, 7)[3].instruction == t.instruction


def test_heldout_seeds_and_kinds_never_train() -> None:
    gen = generators.get("tools")
    with pytest.raises(ValueError, match="held-out range"):
        gen.generate(1, generators.HELDOUT_SEEDS.start)
    with pytest.raises(ValueError, match="held-out seeds"):
        gen.generate(1, 5, split="heldout")
    with pytest.raises(ValueError, match="is held out"):
        gen.task(5, 0, kind=gen.heldout_kinds[0])
    with pytest.raises(ValueError, match="unknown split"):
        gen.generate(1, 5, split="test")
    train = gen.generate(40, 5)
    assert not {t.metadata["kind"] for t in train} & set(gen.heldout_kinds)


def test_difficulty_knob() -> None:
    gen = generators.get("files")
    easy = gen.task(2, 0, difficulty=1)
    hard = gen.task(2, 0, difficulty=3)
    assert easy.metadata["difficulty"] == 1 and hard.metadata["difficulty"] == 3
    size = lambda t: sum(len(v) for v in t.files.values())  # noqa: E731
    assert size(hard) > size(easy)
    with pytest.raises(ValueError, match="difficulty"):
        gen.task(2, 0, difficulty=4)
    # levels to draw from: each task's level comes from its own stream
    drawn = [gen.task(2, i, difficulty=(2, 3)).metadata["difficulty"] for i in range(30)]
    assert set(drawn) == {2, 3}
    assert [gen.task(2, i, difficulty=[2, 3]).metadata["difficulty"] for i in range(30)] == drawn
    mixed = [gen.task(2, i) for i in range(12)]  # all levels drawn: the same tasks as None
    assert [t.instruction for t in mixed] == \
        [gen.task(2, i, difficulty=(1, 2, 3)).instruction for i in range(12)]
    with pytest.raises(ValueError, match="levels"):
        gen.task(2, 0, difficulty=(2, 5))


def test_parse_difficulty() -> None:
    parse = generators.parse_difficulty
    assert parse("3") == 3 and parse("2-3") == (2, 3) and parse("1,3") == (1, 3)
    assert parse(None) is None and parse("mixed") is None and parse("2-2") == 2
    for bad in ("4", "0-2", "hard", "1-"):
        with pytest.raises(ValueError, match="level"):
            parse(bad)


def test_parse_sources_and_interleave() -> None:
    assert generators.parse_sources("math, tools") == ["math", "tools"]
    assert generators.parse_sources("all") == generators.names()
    with pytest.raises(ValueError):
        generators.parse_sources(" , ")
    fams = [generators.get("math"), generators.get("coding")]
    tasks = generators.interleave(fams, 5, 1)
    assert [t.domain for t in tasks] == ["math", "coding", "math", "coding", "math"]
    assert tasks[2].name.endswith("s1-1")


def test_a_new_family_is_one_class_and_one_register_line(monkeypatch) -> None:
    import random

    from codeact.data import sources
    from codeact.data.generator_base import Generator, Spec

    class CountGenerator(Generator):
        """A toy family: count the letters of a word."""

        name = "count"
        kinds = ("letters", "vowels")
        heldout_kinds = ("vowels",)

        def make(self, kind: str, rng: random.Random, difficulty: int) -> Spec:
            word = "".join(rng.choice("abcdeiou") for _ in range(3 * difficulty))
            n = len(word) if kind == "letters" else sum(c in "aeiou" for c in word)
            return Spec(instruction=f"How many {kind} in {word!r}?", expected=n,
                        reference_answer=str(n), near_miss=str(n + 1))

    monkeypatch.setattr(generators, "_REGISTRY", dict(generators._REGISTRY))  # undone after
    generators.register("count", CountGenerator)  # the one registration line
    assert "count" in generators.names() and "count" in generators.parse_sources("all")
    task = generators.get("count").task(7, 0)
    assert task.name == "count/letters/s7-0" and task.metadata["family"] == "count"
    assert task.instruction == generators.get("count").task(7, 0).instruction
    assert task.expected == int(task.metadata["reference_answer"])
    assert [t.metadata["kind"] for t in generators.get("count").generate(3, 7)] == \
        ["letters"] * 3  # the held-out kind never reaches training
    sources.check_source("count")  # a collection source like the built-in families
    tasks = sources.SourceSpec(["count", "math"], n=4, seed=3)()
    assert [t.metadata["family"] for t in tasks] == ["count", "math", "count", "math"]
