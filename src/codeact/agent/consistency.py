"""Self-consistency: K independent runs of one task, the answer chosen by majority.

A small model that solves a task in some of its sampled runs gives the right answer more
often than any single wrong one; voting over normalised answers turns that into a
better single answer, at K times the tokens. Every run is kept: the chosen trajectory
carries the others in ``metadata["samples"]``.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from codeact.events import DoneEvent, Event, SampleStarted
from codeact.trajectory import Trajectory

if TYPE_CHECKING:
    from codeact.agent.loop import Agent

DEFAULT_TEMPERATURE = 0.7
_NUMBER = re.compile(r"[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?")


def normalise_answer(answer: str) -> str:
    """The answer as votes compare it: case, outer quotes, surrounding whitespace and a
    final period do not count; a number counts by value (``42.0`` is ``42``)."""
    text = " ".join(answer.split()).rstrip(".").strip().strip("\"'`").strip().lower()
    plain = text.replace(",", "") if re.fullmatch(r"[-+]?\d{1,3}(,\d{3})+(\.\d+)?", text) \
        else text
    if _NUMBER.fullmatch(plain):
        value = float(plain)
        return str(int(value)) if value.is_integer() and abs(value) < 1e16 else repr(value)
    return text


@dataclass
class Vote:
    """The outcome of a vote: the chosen run and how many runs agreed with it."""

    chosen: Trajectory
    agreement: int  # runs whose normalised answer is the chosen one (0: no run answered)
    runs: list[Trajectory] = field(default_factory=list)

    @property
    def k(self) -> int:
        return len(self.runs)


def choose(answers: Sequence[str | None]) -> tuple[int, int]:
    """The index of the majority answer among ``answers`` (None: that run gave none) and
    how many agree with it; ties go to the answer reached first. No answer at all:
    ``(0, 0)``. Shared by :func:`vote` and offline re-votes over recorded answers."""
    answered = [(i, normalise_answer(a)) for i, a in enumerate(answers) if a is not None]
    if not answered:
        return 0, 0
    counts = Counter(key for _, key in answered)
    best = max(counts.values())
    return next(i for i, key in answered if counts[key] == best), best


def decided(answers: Sequence[str | None], k: int) -> bool:
    """Whether the vote of ``k`` runs is already settled by these first answers: the
    leading answer has more votes than the runner-up could still reach with every run
    left, so the runs left cannot change which answer, or which run, is chosen."""
    counts = sorted(Counter(normalise_answer(a) for a in answers if a is not None).values(),
                    reverse=True)
    if not counts:
        return False
    runner_up = counts[1] if len(counts) > 1 else 0
    return runner_up + (k - len(answers)) < counts[0]


def vote(runs: Sequence[Trajectory]) -> Vote:
    """Majority over the runs that ended with an answer; ties go to the answer reached
    first (in run order). No run answered: the first run is chosen, agreement 0."""
    if not runs:
        raise ValueError("no runs to vote over")
    first, agreement = choose([t.answer if t.solved else None for t in runs])
    return Vote(runs[first], agreement, list(runs))


def annotate(result: Vote, k: int | None = None) -> Trajectory:
    """The chosen trajectory with the vote in ``metadata["samples"]``: k (the runs
    asked for), ran (the runs made), agreement, each run's answer, and the other runs in
    full."""
    chosen = result.chosen
    others = [t.to_dict() for t in result.runs if t is not chosen]
    chosen.metadata["samples"] = {
        "k": k or result.k, "ran": result.k, "agreement": result.agreement,
        "answers": [t.answer if t.solved else None for t in result.runs],
        "chosen": result.runs.index(chosen), "others": others,
    }
    return chosen


def stream_samples(agent: Agent, task: str, k: int, *,
                   temperature: float = DEFAULT_TEMPERATURE,
                   on_sample: Callable[[int, Trajectory], None] | None = None,
                   all_runs: bool = False) -> Iterator[Event]:
    """Run ``task`` up to ``k`` times with ``agent`` (a fresh kernel and a new seed each
    time, sampling at ``temperature``), yielding a :class:`SampleStarted` and each run's
    events except its DoneEvent; the last event is one DoneEvent with the voted
    trajectory (:func:`annotate`). Runs stop once the vote is :func:`decided` (the answer
    and the chosen run are what all ``k`` would give; a run's seed depends only on its
    index), unless ``all_runs``: every run costs a whole agent run."""
    if k < 1:
        raise ValueError("samples must be at least 1")
    runs: list[Trajectory] = []
    saved = agent.temperature, agent.seed
    agent.temperature = temperature
    try:
        for i in range(k):
            if i:
                agent.reset()  # an independent run: no variables of the last one
            agent.seed = saved[1] + 7919 * i
            yield SampleStarted(i + 1, k)
            for event in agent.stream(task):
                if isinstance(event, DoneEvent):
                    runs.append(event.trajectory)
                    if on_sample is not None:
                        on_sample(i, event.trajectory)
                else:
                    yield event
            if not all_runs and decided([t.answer if t.solved else None for t in runs], k):
                break
    finally:
        agent.temperature, agent.seed = saved
    yield DoneEvent(annotate(vote(runs), k))
