"""A record of one agent run that serialises to a single JSON line and loads back."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


class StopReason(StrEnum):
    """Why a run ended (``Trajectory.stop_reason``). A ``str``: it serialises as its value
    and compares equal to it, so stored trajectories load back unchanged."""

    SOLUTION = "solution"  # the run ended with an answer
    MAX_TURNS = "max_turns"
    MAX_TOKENS = "max_tokens"
    TIME_LIMIT = "time_limit"
    INTERRUPTED = "interrupted"
    ERROR = "error"  # the LLM or runtime failed; see Trajectory.error
    NO_ACTION = "no_action"  # chat mode: a plain reply that goes back to the user
    STUCK = "stuck"  # the model repeated one action with one result until the guard stopped it


class ActionKind(StrEnum):
    """What one model turn did (``TurnRecord.action``)."""

    CODE = "code"
    CODE_SOLUTION = "code+solution"  # code that ran cleanly, then a <solution>
    CODE_FINAL_ANSWER = "code+final_answer"  # a cell that called final_answer(...)
    CODE_AUTO_FINAL_ANSWER = "code+auto_final_answer"  # the agent submitted the function
    TOOL_CALL = "tool_call"
    SOLUTION = "solution"
    ANSWER_REFUSED = "answer_refused"  # a <solution> a hint refused (the run went on)
    SKIPPED = "skipped"  # approval mode: the user declined to run the code
    INVALID = "invalid"
    NONE = "none"  # chat mode: a plain reply


# the kinds whose turn ran model-written code in the kernel
CODE_ACTIONS = frozenset({ActionKind.CODE, ActionKind.CODE_SOLUTION,
                          ActionKind.CODE_FINAL_ANSWER, ActionKind.CODE_AUTO_FINAL_ANSWER})
# the kinds that are a well-formed action of the model's (not invalid, not skipped)
VALID_ACTIONS = frozenset({ActionKind.CODE, ActionKind.CODE_SOLUTION,
                           ActionKind.CODE_FINAL_ANSWER, ActionKind.TOOL_CALL,
                           ActionKind.SOLUTION, ActionKind.ANSWER_REFUSED})


@dataclass
class ExecOutput:
    """What one action printed, returned and raised, kept apart from the observation text
    (a lossy rendering for the model) so a run can become a notebook with real outputs.

    ``images`` are base64 PNGs; ``error`` is ``{"name", "message", "traceback"}``;
    ``notice`` says the cell timed out, was interrupted or lost its kernel.
    """

    stdout: str = ""
    stderr: str = ""
    result: str | None = None
    images: list[str] = field(default_factory=list)
    error: dict[str, str] | None = None
    notice: str | None = None
    truncated: bool = False

    @classmethod
    def from_observation(cls, obs: Any) -> ExecOutput:
        """From a runtime ``Observation`` (duck-typed: this module imports no runtime)."""
        err = obs.error
        notice = None
        if obs.restarted:
            notice = f"The kernel was restarted ({obs.restart_reason or 'it died'})."
        elif obs.timed_out:
            notice = f"Execution timed out after {obs.duration:.0f} s and was interrupted."
        elif getattr(obs, "interrupted", False):
            notice = "Execution was interrupted."
        return cls(stdout=obs.stdout or "", stderr=obs.stderr or "", result=obs.result,
                   images=[base64.b64encode(png).decode("ascii") for png in obs.images],
                   error=None if err is None else {"name": err.name, "message": err.message,
                                                   "traceback": err.traceback or ""},
                   notice=notice, truncated=bool(obs.truncated))


def tool_records(tools: Iterable[Any]) -> list[dict[str, Any]]:
    """What a trajectory keeps of its tools: name and signature, and a pure tool's source
    (so an exported notebook can define it and re-run without codeact)."""
    out: list[dict[str, Any]] = []
    for t in tools:
        source = None
        if t.pure:
            try:
                source = t.source()
            except (OSError, TypeError, ValueError):  # no source file (defined in a REPL)
                source = None
        out.append({"name": t.name, "signature": t.signature, "pure": bool(t.pure),
                    "source": source})
    return out


@dataclass
class TurnRecord:
    """One model turn: what it produced, what happened, what it cost."""

    turn: int
    completion: str
    action: str  # an ActionKind
    code: str | None = None
    tool: str | None = None
    arguments: Any = None
    observation: str | None = None
    exec_ok: bool | None = None
    output: ExecOutput | None = None  # the action's structured output (None: no action ran)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_prompt_tokens: int = 0
    llm_seconds: float = 0.0
    prompt_seconds: float = 0.0
    exec_seconds: float = 0.0
    # replies discarded before this one because they repeated an earlier action (their
    # tokens and time are counted above)
    resampled: list[str] = field(default_factory=list)


@dataclass
class Trajectory:
    """Everything about one run: messages, turns, stop reason and outcome."""

    task: str
    model: str = ""
    action_format: str = "code"
    messages: list[dict[str, Any]] = field(default_factory=list)
    turns: list[TurnRecord] = field(default_factory=list)
    stop_reason: str = ""  # a StopReason once the run ended
    answer: str | None = None
    error: str | None = None
    started_at: float = field(default_factory=time.time)
    wall_seconds: float = 0.0
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def prompt_tokens(self) -> int:
        return sum(t.prompt_tokens for t in self.turns)

    @property
    def completion_tokens(self) -> int:
        return sum(t.completion_tokens for t in self.turns)

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    @property
    def solved(self) -> bool:
        """True when the run ended with an answer (not whether the answer is right)."""
        return self.stop_reason == StopReason.SOLUTION and self.answer is not None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["total_tokens"] = self.total_tokens
        return data

    def to_json(self) -> str:
        """One line of JSON (no newlines inside), suitable for JSONL files."""
        return json.dumps(self.to_dict(), ensure_ascii=False, default=str)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Trajectory:
        data = dict(data)
        data.pop("total_tokens", None)
        turns = [TurnRecord(**{**t, "output": ExecOutput(**t["output"])})
                 if t.get("output") else TurnRecord(**t) for t in data.pop("turns", [])]
        known = set(cls.__dataclass_fields__)
        unknown = {k: data.pop(k) for k in list(data) if k not in known}
        traj = cls(**data, turns=turns)
        if unknown:
            traj.metadata.setdefault("unknown_fields", unknown)
        return traj

    @classmethod
    def from_json(cls, line: str) -> Trajectory:
        return cls.from_dict(json.loads(line))
