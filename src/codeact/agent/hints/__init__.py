"""Small-model heuristics behind one protocol (:mod:`.base`), in the order they run.

Adding one is one :class:`~codeact.agent.hints.base.Hint` subclass in its own module plus
one ``register`` line below. Each can be switched off by name (``Agent(hints=...)``,
the ``hints`` setting).
"""

from __future__ import annotations

from collections.abc import Iterable

from codeact.agent.hints.answer_check import AnswerCheck
from codeact.agent.hints.assumed_values import AssumedValues
from codeact.agent.hints.base import (
    Advice,
    FirmNote,
    GuessNote,
    Hint,
    RunStart,
    Step,
    Verdict,
)
from codeact.agent.hints.caught_errors import CaughtErrors
from codeact.agent.hints.counts import CountCheck
from codeact.agent.hints.example_copy import ExampleCopy
from codeact.agent.hints.failed_assignments import FailedAssignments
from codeact.agent.hints.idle_cells import IdleCells
from codeact.agent.hints.images_only import ImagesOnly
from codeact.agent.hints.name_as_text import NameAsText
from codeact.agent.hints.observation_copy import ObservationCopy
from codeact.agent.hints.repeats import RepeatGuard
from codeact.agent.hints.requested_function import RequestedFunction
from codeact.agent.hints.self_check import SelfCheck
from codeact.agent.hints.silent_print import SilentPrint
from codeact.agent.hints.small_steps import SmallSteps
from codeact.agent.hints.task_examples import TaskExamples
from codeact.agent.hints.tool_reminder import ToolReminder
from codeact.agent.hints.type_mismatch import TypeMismatch
from codeact.agent.hints.uncomputed_answer import UncomputedAnswer
from codeact.agent.hints.unseen_answer import UnseenAnswer
from codeact.agent.hints.unused_tools import UnusedTools
from codeact.errors import CodeactError

__all__ = ["HINTS", "Advice", "FirmNote", "GuessNote", "Hint", "HintError", "RunStart", "Step",
           "Verdict", "default_hint_names", "hint_names", "make_hints", "register"]

HINTS: dict[str, type[Hint]] = {}


class HintError(CodeactError, ValueError):
    """An unknown hint name (the message lists the known ones)."""


def register(cls: type[Hint]) -> type[Hint]:
    """Add a hint after the registered ones (a class decorator too)."""
    if not cls.name:
        raise ValueError(f"{cls.__name__} has no name")
    HINTS[cls.name] = cls
    return cls


register(FailedAssignments)
register(NameAsText)
register(ToolReminder)
register(SmallSteps)
register(SilentPrint)
register(CaughtErrors)
register(IdleCells)
register(ImagesOnly)
register(CountCheck)
register(ExampleCopy)
register(ObservationCopy)
register(TaskExamples)  # before repeats: a failing example is no finished result
register(TypeMismatch)  # before repeats: a condition that cannot change is no result
register(RepeatGuard)  # before requested_function: that one reads whether a step is stuck
register(RequestedFunction)
register(AnswerCheck)
register(UncomputedAnswer)  # before unused_tools: the error is what to fix first
register(AssumedValues)  # before unused_tools: it quotes the made-up line
register(UnusedTools)
register(UnseenAnswer)  # after answer_check: a refusal there is the more specific note
register(SelfCheck)  # off by default: one more turn per run


def hint_names() -> list[str]:
    """The registered hints, in the order they run."""
    return list(HINTS)


def default_hint_names() -> list[str]:
    """The hints a run uses when none are named: all but the ones off by default."""
    return [name for name, cls in HINTS.items() if cls.default]


def make_hints(names: Iterable[str] | None = None) -> list[Hint]:
    """New instances of the named hints (None: the default ones), in registration order."""
    wanted = set(default_hint_names()) if names is None else set(names)
    unknown = wanted - set(HINTS)
    if unknown:
        raise HintError(f"unknown hint {', '.join(sorted(unknown))!s}; known hints: "
                        f"{', '.join(HINTS)}")
    return [cls() for name, cls in HINTS.items() if name in wanted]
