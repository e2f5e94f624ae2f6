"""Events that ``Agent.stream`` yields, for the CLI, the chat app and the benchmark."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from codeact.runtime.observation import Observation
    from codeact.trajectory import Trajectory


@dataclass
class SampleStarted:
    """Self-consistency (``--samples``): run ``sample`` of ``k`` begins (from 1)."""

    sample: int
    k: int


@dataclass
class TurnStarted:
    """A new model turn begins; ``remaining`` counts turns left after this one."""

    turn: int
    remaining: int


@dataclass
class TextDelta:
    """A piece of the model's text as it is generated."""

    turn: int
    text: str


@dataclass
class ResampledEvent:
    """The reply just streamed repeated an earlier action, so it was discarded (not run)
    and the model is asked again: ``attempt`` counts the tries within the turn."""

    turn: int
    attempt: int
    discarded: str
    reason: str


@dataclass
class CodeActionEvent:
    """The model's code action, about to be executed in the sandbox."""

    turn: int
    code: str


@dataclass
class ToolCallEvent:
    """A json/text-format tool call, about to run in the host."""

    turn: int
    tool: str
    arguments: Any = None


@dataclass
class OutputDelta:
    """stdout/stderr text from the running code action, as it arrives."""

    turn: int
    stream: str
    text: str


@dataclass
class ObservationEvent:
    """What the model will see next: ``text``, and the raw execution result if any."""

    turn: int
    text: str
    observation: Observation | None = None


@dataclass
class FinalAnswerEvent:
    """The agent's answer (the content of ``<solution>``, or what a cell submitted with
    ``final_answer(...)``), or a chat reply."""

    turn: int
    answer: str
    fallback: bool = False  # an answer refused earlier, kept as the run ended without one


@dataclass
class ErrorEvent:
    """Something went wrong that ends or disturbs the run (LLM unreachable, ...)."""

    turn: int
    message: str


@dataclass
class DoneEvent:
    """Always the last event: the finished trajectory."""

    trajectory: Trajectory
    extra: dict[str, Any] = field(default_factory=dict)


Event = (
    SampleStarted
    | TurnStarted
    | TextDelta
    | ResampledEvent
    | CodeActionEvent
    | ToolCallEvent
    | OutputDelta
    | ObservationEvent
    | FinalAnswerEvent
    | ErrorEvent
    | DoneEvent
)
