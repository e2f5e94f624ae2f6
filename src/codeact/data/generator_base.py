"""The base of a task-generator family: :class:`Generator`, :class:`Spec`, seed rules.

A :class:`Generator` is one family (``math``, ``files``, ``coding``, ``tools``) with a few
sub-kinds. Task ``i`` of seed ``s`` is built from its own random stream
(``random.Random("family/kind/s/i")``), so a task never depends on how many others were
asked for, and the same ``(seed, i)`` always gives the same task.

Held-out part, never used for training (the fine-tuning issue evaluates on it): every
seed in :data:`HELDOUT_SEEDS`, and the family's ``heldout_kinds`` at any seed. The
``train`` split refuses held-out seeds and skips held-out kinds; the ``heldout`` split
uses held-out seeds over every kind (``metadata["unseen_kind"]`` marks the held-out ones).

Family modules (``gen_math`` ...) import this module; the registry
(:mod:`codeact.data.generators`) imports them, so nothing imports in a circle.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from codeact.bench.task import Task

HELDOUT_SEEDS = range(1_000_000, 2_000_000)

# How a task that asks for a function says to hand it in, per action format: the code
# format's prompt teaches ``final_answer(value)`` (a kernel function submits as its
# source with the imports and helpers it uses), json and text teach ``<solution>``.
SUBMIT_FUNCTION = {
    "code": "Test it on your own examples first. Then submit the function itself with "
            "`final_answer({name})` (its source code, with the imports and helper "
            "functions it uses, becomes the answer).",
    "json": "Then reply with the complete function definition (plus any imports it "
            "needs) as plain Python inside <solution></solution>.",
    "text": "Then reply with the complete function definition (plus any imports it "
            "needs) as plain Python inside <solution></solution>.",
}
SPLITS = ("train", "heldout")
DIFFICULTIES = (1, 2, 3)
# A difficulty setting: one level, several levels to draw from per task, or None (all).
Difficulty = int | Sequence[int] | None


@dataclass
class Spec:
    """What a generator's ``make`` returns: the task's content, plus known answers.

    ``reference_answer`` is an answer text that passes the checker (a code solution for
    coding tasks); ``near_miss`` is a plausible wrong answer (off by one) that must fail.
    ``format_instructions``: the instruction worded per action format (see
    :meth:`codeact.bench.task.Task.instruction_for`); ``instruction`` is the code format's.
    """

    instruction: str
    expected: Any = None
    checker: Callable[..., Any] | None = None
    tools: Any = ()
    files: Any = None
    reference: Callable[..., Any] | None = None
    reference_answer: str | None = None
    near_miss: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    format_instructions: dict[str, str] | None = None


class Generator:
    """One family of generated tasks. Subclasses set ``name``, ``kinds``,
    ``heldout_kinds`` and implement :meth:`make`."""

    name: str = ""
    description: str = ""
    kinds: tuple[str, ...] = ()
    heldout_kinds: tuple[str, ...] = ()
    source_type: str = "generated"

    def make(self, kind: str, rng: random.Random, difficulty: int) -> Spec:
        """Build one task of ``kind`` from ``rng`` (all randomness must come from it)."""
        raise NotImplementedError

    @property
    def train_kinds(self) -> tuple[str, ...]:
        return tuple(k for k in self.kinds if k not in self.heldout_kinds)

    def kinds_for(self, split: str) -> tuple[str, ...]:
        if split not in SPLITS:
            raise ValueError(f"unknown split {split!r}; choose from {', '.join(SPLITS)}")
        return self.train_kinds if split == "train" else self.kinds

    def task(self, seed: int, index: int, *, split: str = "train", kind: str | None = None,
             difficulty: Difficulty = None) -> Task:
        """Task ``index`` of ``seed`` (deterministic). ``difficulty``: a level, levels to
        draw from, or None for all (:func:`draw_difficulty`)."""
        check_seed(seed, split)
        kinds = self.kinds_for(split)
        if kind is None:
            kind = kinds[index % len(kinds)]
        elif kind not in self.kinds:
            raise ValueError(f"{self.name} has no kind {kind!r}; kinds: {', '.join(self.kinds)}")
        elif split == "train" and kind in self.heldout_kinds:
            raise ValueError(f"kind {self.name}/{kind} is held out: use split 'heldout'")
        rng = random.Random(f"{self.name}/{kind}/{seed}/{index}")
        level = draw_difficulty(difficulty, rng)
        spec = self.make(kind, rng, level)
        task_id = f"s{seed}-{index}"
        metadata = {
            "source": self.name,
            "source_type": self.source_type,
            "family": self.name,
            "kind": kind,
            "task_id": task_id,
            "seed": seed,
            "index": index,
            "difficulty": level,
            "split": split,
            "unseen_kind": kind in self.heldout_kinds,
            "reference_answer": spec.reference_answer,
            "near_miss": spec.near_miss,
            **spec.extra,
        }
        fields: dict[str, Any] = {}
        if spec.reference is not None:
            fields["reference"] = spec.reference
        else:
            fields["expected"] = spec.expected
        return Task(name=f"{self.name}/{kind}/{task_id}", instruction=spec.instruction,
                    domain=self.name, tools=spec.tools, checker=spec.checker,
                    files=spec.files, metadata=metadata,
                    format_instructions=spec.format_instructions, **fields)

    def generate(self, n: int, seed: int, *, split: str = "train", start: int = 0,
                 difficulty: Difficulty = None) -> list[Task]:
        """``n`` tasks of ``seed``: indices ``start .. start+n-1``, kinds in turn."""
        return [self.task(seed, i, split=split, difficulty=difficulty)
                for i in range(start, start + n)]


def function_task_text(statement: str, name: str) -> tuple[str, dict[str, str]]:
    """A write-a-function instruction: the code format's text, and every format's
    (:data:`SUBMIT_FUNCTION`), so each asks for the function the way its prompt teaches."""
    per_format = {fmt: f"{statement}\n{how.format(name=name)}"
                  for fmt, how in SUBMIT_FUNCTION.items()}
    return per_format["code"], per_format


def draw_difficulty(difficulty: Difficulty, rng: random.Random) -> int:
    """The level of one task: ``difficulty`` itself when it is one level, else drawn from
    the task's own stream among the given levels (all three when None), so a task's level
    never depends on other tasks. Levels drawn from all three give the same tasks as
    before levels could be listed."""
    if difficulty is None:
        return rng.choice(DIFFICULTIES)
    if isinstance(difficulty, int):
        if difficulty not in DIFFICULTIES:
            raise ValueError(f"difficulty must be one of {DIFFICULTIES}")
        return difficulty
    levels = sorted(set(difficulty))
    if not levels or any(x not in DIFFICULTIES for x in levels):
        raise ValueError(f"difficulty levels must be among {DIFFICULTIES}")
    return levels[0] if len(levels) == 1 else rng.choice(levels)


def parse_difficulty(text: str | None) -> Difficulty:
    """``"3"`` → 3, ``"2-3"`` → (2, 3), ``"1,3"`` → (1, 3), ``""``/``"mixed"``/None →
    None (all levels); anything else is a ValueError naming the forms."""
    if text is None or text.strip().lower() in ("", "mixed", "all"):
        return None
    t = text.strip()
    try:
        if "-" in t:
            lo, hi = (int(x) for x in t.split("-", 1))
            levels: tuple[int, ...] = tuple(range(lo, hi + 1))
        else:
            levels = tuple(int(x) for x in t.split(",") if x.strip())
    except ValueError:
        raise ValueError(f"difficulty {text!r}: give a level (2), a range (2-3) or a list "
                         "(1,3) of levels 1-3") from None
    if not levels or any(x not in DIFFICULTIES for x in levels):
        raise ValueError(f"difficulty {text!r}: levels are 1, 2 and 3")
    return levels[0] if len(levels) == 1 else levels


def check_seed(seed: int, split: str) -> None:
    """Train tasks never come from held-out seeds, held-out tasks only from them."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; choose from {', '.join(SPLITS)}")
    if seed < 0:
        raise ValueError("seed must be >= 0")
    if split == "train" and seed in HELDOUT_SEEDS:
        raise ValueError(f"seed {seed} is in the held-out range "
                         f"[{HELDOUT_SEEDS.start}, {HELDOUT_SEEDS.stop}): pick a smaller "
                         "seed for training data, or split 'heldout'")
    if split == "heldout" and seed not in HELDOUT_SEEDS:
        raise ValueError(f"held-out seeds are [{HELDOUT_SEEDS.start}, {HELDOUT_SEEDS.stop})")


def interleave(families: Iterable[Generator], n: int, seed: int, *, split: str = "train",
               difficulty: Difficulty = None) -> list[Task]:
    """``n`` tasks spread over ``families`` in turn (task ``i`` goes to family
    ``i % F``), so any prefix covers every family."""
    fams = list(families)
    if not fams:
        raise ValueError("no generator given")
    return [fams[i % len(fams)].task(seed, i // len(fams), split=split, difficulty=difficulty)
            for i in range(n)]
