"""Decontamination: drop training tasks that share a 13-gram with any evaluation task.

Text is lower-cased and whitespace collapsed, then split into words; a training
instruction is contaminated when one of its word 13-grams occurs in an instruction of an
evaluation suite. An evaluation instruction shorter than 13 words counts as one n-gram
(the whole text), so a short eval question copied verbatim is still caught.

The evaluation suites are every suite the bench registry knows
(:data:`codeact.bench.suites.BUILTIN_SUITES` plus the ``codeact.bench_suites`` entry
points), enumerated at run time, so a suite added later is covered without a change
here. Subset suites (``builtin-quick``) add nothing new but cost little; a suite that
cannot load here (HumanEval without its package) is reported as skipped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any

N = 13


def normalize(text: str) -> str:
    """Lower-case and collapse whitespace."""
    return re.sub(r"\s+", " ", str(text).lower()).strip()


def ngrams(text: str, n: int = N) -> set[str]:
    """Word n-grams of the normalised text (the whole text if it is shorter)."""
    words = normalize(text).split(" ")
    if not words or words == [""]:
        return set()
    if len(words) < n:
        return {" ".join(words)}
    return {" ".join(words[i:i + n]) for i in range(len(words) - n + 1)}


def eval_suite_names() -> list[str]:
    """Every suite name the bench registry knows: built-in names and entry points."""
    from codeact.bench.suites import BUILTIN_SUITES, ENTRY_POINT_GROUP

    names = list(BUILTIN_SUITES)
    names += [ep.name for ep in entry_points(group=ENTRY_POINT_GROUP)]
    return list(dict.fromkeys(names))


@dataclass
class Hit:
    """One contaminated training instruction and the evaluation task it overlaps."""

    task: str
    suite: str
    eval_task: str
    ngram: str

    def to_dict(self) -> dict[str, str]:
        return {"task": self.task, "suite": self.suite, "eval_task": self.eval_task,
                "ngram": self.ngram}


@dataclass
class EvalIndex:
    """The n-grams of every evaluation instruction, and where each came from."""

    n: int = N
    grams: dict[str, tuple[str, str]] = field(default_factory=dict)  # gram -> (suite, task)
    short: dict[str, tuple[str, str]] = field(default_factory=dict)  # whole short texts
    suites: dict[str, int] = field(default_factory=dict)  # suite -> tasks indexed
    skipped: dict[str, str] = field(default_factory=dict)  # suite -> why

    def add(self, suite: str, task: str, instruction: str) -> None:
        words = normalize(instruction).split(" ")
        target = self.short if len(words) < self.n else self.grams
        for g in ngrams(instruction, self.n):
            target.setdefault(g, (suite, task))

    def find(self, instruction: str) -> tuple[str, str, str] | None:
        """(suite, eval task, shared n-gram) of the first overlap, or None."""
        for g in sorted(ngrams(instruction, self.n)):
            if g in self.grams:
                return (*self.grams[g], g)
        if self.short:
            text = normalize(instruction)
            for s, where in self.short.items():
                if re.search(rf"(?:^|\W){re.escape(s)}(?:\W|$)", text):
                    return (*where, s)
        return None


def build_index(suites: Sequence[str] | None = None, *, n: int = N,
                extra: Iterable[tuple[str, str, str]] = ()) -> EvalIndex:
    """Index the instructions of ``suites`` (default: every registered suite) plus
    ``extra`` ``(suite, task, instruction)`` triples."""
    from codeact.bench.suites import load_suite

    index = EvalIndex(n=n)
    for name in suites if suites is not None else eval_suite_names():
        try:
            tasks = load_suite(name)
        except Exception as exc:  # a suite that cannot load here: say so, go on
            index.skipped[name] = f"{type(exc).__name__}: {exc}"
            continue
        index.suites[name] = len(tasks)
        for t in tasks:
            index.add(name, t.name, t.instruction)
    for suite, task, text in extra:
        index.suites[suite] = index.suites.get(suite, 0) + 1
        index.add(suite, task, text)
    return index


def check(items: Iterable[tuple[str, str]], index: EvalIndex) -> list[Hit]:
    """Hits among ``(task name, instruction)`` pairs."""
    hits = []
    for name, text in items:
        found = index.find(text)
        if found is not None:
            hits.append(Hit(name, *found))
    return hits


def split_clean(tasks: Sequence[Any], index: EvalIndex) -> tuple[list[Any], list[Hit]]:
    """Tasks with no overlap, and the hits that removed the others."""
    hits = check(((t.name, t.instruction) for t in tasks), index)
    bad = {h.task for h in hits}
    return [t for t in tasks if t.name not in bad], hits
