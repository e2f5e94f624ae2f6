"""The hint protocol: how a small-model heuristic sees a run and what it may say.

A hint is told when a run starts (:meth:`Hint.reset`), may veto an action before it runs
so that the model is asked again (:meth:`Hint.vetoes`), may refuse an answer once
(:meth:`Hint.checks_answer`), and sees every action that ran (:meth:`Hint.after_action`):
the code or tool call, the output the model will read, and whether it failed. It answers
with :class:`Advice`: a note for the model, that the run is stuck (it can make no
progress and should stop), or code that submits an answer instead of stopping stuck.
Hints run in registration order, each seeing the advice of the ones before it (the
requested-function hint turns a stuck run into a submission)."""

from __future__ import annotations

import ast
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from codeact.runtime.observation import Observation
    from codeact.tools import Tool


NOTE_TOOLS = 8  # tools a hint's note names before "and N more"


def every_statement(code: str, test: Callable[[ast.stmt], bool]) -> bool:
    """Whether ``code`` parses, has statements, and ``test`` holds for each top-level one
    (what a cell does, judged line by line: only submitting literals, only printing
    typed text)."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return False
    return bool(tree.body) and all(test(stmt) for stmt in tree.body)


@dataclass(frozen=True)
class RunStart:
    """What a hint learns when a run starts."""

    task: str
    tools: Sequence[Tool] = ()
    code_format: bool = True  # actions are code cells (else json/text tool calls)
    chat: bool = False  # a conversation: answers are replies in prose to a person
    system_prompt: str = ""  # as the model sees it (its worked examples included)


@dataclass(frozen=True)
class Step:
    """One action that ran, as hints see it."""

    turn: int
    action: str  # the code as run, or the tool call as canonical JSON
    output: str  # the result as rendered for the model
    ok: bool
    observation: Observation | None = None  # code actions: the raw execution result


class FirmNote(str):
    """A refusal for an answer that can never be right (``None``, nothing, an error
    message): the loop says it every time such an answer comes (up to a few times per
    run), not only for the run's first refused answer, and a second, same answer does not
    stand. Seen: ``final_answer(None)`` refused, then sent again and kept."""


class GuessNote(FirmNote):
    """A firm refusal of an answer that may be right but that no code computed (a literal
    sent after every cell failed): said each time like a :class:`FirmNote`, yet kept as
    the run's answer when the run then ends without another (at the turn limit, stuck): a
    guess is sometimes right, no answer never is. Seen: 'paint' and False refused as
    guesses, both right, then runs that ended with no answer."""


@dataclass(frozen=True)
class Advice:
    """What one hint says about a step. ``submit``: code whose ``final_answer(...)``
    becomes the answer when the run would otherwise stop stuck."""

    note: str | None = None
    repeat: bool = False  # the step repeats an earlier action or result
    problem: bool = False  # the output does not answer the task yet (do not urge an answer)
    stuck: bool = False
    submit: str | None = None


@dataclass
class Verdict:
    """The advice of all hints on one step, in order."""

    notes: list[str] = field(default_factory=list)
    repeat: bool = False
    problem: bool = False
    stuck: bool = False
    submit: str | None = None
    submit_note: str | None = None  # said only when the submission gave an answer

    def add(self, advice: Advice) -> None:
        self.repeat = self.repeat or advice.repeat
        self.problem = self.problem or advice.problem
        self.stuck = self.stuck or advice.stuck
        if advice.submit is not None:
            if self.submit is None:
                self.submit, self.submit_note = advice.submit, advice.note
        elif advice.note:
            self.notes.append(advice.note)


class Hint:
    """One small-model heuristic. Subclasses set ``name`` (the setting that switches it
    off) and override the hooks they need; the defaults say nothing."""

    name: ClassVar[str] = ""
    default: ClassVar[bool] = True  # on unless switched off (False: only when asked for)

    def reset(self, run: RunStart) -> None:
        """A new run starts: forget what the last one saw."""

    def after_action(self, step: Step, so_far: Verdict) -> Advice | None:
        """Advice on an action that ran; ``so_far`` holds the earlier hints' advice."""
        return None

    def shown_notes(self, notes: Sequence[str]) -> None:
        """The notes the model was just shown after an action (every hint's and the
        loop's), as it read them."""

    def checks_answer(self, answer: str, step: Step | None = None) -> str | None:
        """Before the run ends on ``answer``: a note saying why it cannot be the answer
        (the run then goes on for one more turn, once per run; a :class:`FirmNote` each
        time), or None. ``step``: the
        cell that submitted it (not yet seen by :meth:`after_action`); None for an answer
        written as a reply."""
        return None

    def submit_at_limit(self) -> str | None:
        """The run ended without an answer (turn, time or token limit, or stuck): a cell
        that submits what the run made instead (``final_answer(fn)``), or None."""
        return None

    def probe(self, step: Step) -> str | None:
        """After a code action ran: code to run silently in the same kernel (not a turn,
        never shown to the model; the loop skips it when a person approves each cell),
        or None. What it printed goes to :meth:`read_probe` before the answer check and
        :meth:`after_action` see the step."""
        return None

    def read_probe(self, step: Step, obs: Observation) -> None:
        """The result of running :meth:`probe`'s code."""

    def vetoes(self, action: str) -> str | None:
        """Before an action runs (as :attr:`Step.action` would hold it): a reason to ask
        the model again instead of running it, or None."""
        return None
