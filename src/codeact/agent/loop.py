"""The CodeAct loop: ask the model, run its action, show it the observation, repeat.

``Agent.stream`` yields events (see :mod:`codeact.events`) so the CLI, the chat app and
the benchmark can render or record a run as it happens; ``Agent.run`` just collects the
final :class:`~codeact.trajectory.Trajectory`. Model and runtime failures never raise out
of the loop: the run ends with stop reason ``error`` and an :class:`ErrorEvent`.

One turn is five small steps: generate (:mod:`.generate`), parse (the action format),
act (:mod:`.act`), advise (the hints, :mod:`.hints`), observe and record (here).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from codeact.actions import (
    Action,
    ActionFormat,
    CodeAction,
    CodeFormat,
    FinalAnswer,
    Invalid,
    NoAction,
    ToolCall,
    get_format,
    prompt_for,
)
from codeact.agent.act import (
    Outcome,
    answered,
    call_tool,
    execute_streaming,
    noted,
    tool_call_key,
)
from codeact.agent.consistency import normalise_answer
from codeact.agent.executor import Executor, SandboxFailure
from codeact.agent.generate import Reply, generate
from codeact.agent.hints import FirmNote, GuessNote, RunStart, Step, Verdict, make_hints
from codeact.agent.hints.answer_check import cannot_be_an_answer
from codeact.agent.history import ContextBudget, collapse_repeats, with_note, without_action
from codeact.agent.observe import compose_observation, render_observation, turns_left_note
from codeact.agent.reply import REPLY_TOKENS, final_reply, needs_reply, reply_request
from codeact.events import (
    CodeActionEvent,
    DoneEvent,
    ErrorEvent,
    Event,
    FinalAnswerEvent,
    ObservationEvent,
    ResampledEvent,
    ToolCallEvent,
    TurnStarted,
)
from codeact.llm.base import LLM, estimate_tokens
from codeact.prompts import Prompt
from codeact.syntax import program_key
from codeact.tools import Tool, as_tools
from codeact.trajectory import (
    ActionKind,
    ExecOutput,
    StopReason,
    Trajectory,
    TurnRecord,
    tool_records,
)

if TYPE_CHECKING:
    from codeact.runtime.observation import Observation

CONTEXT_MARGIN = 64  # tokens kept free besides the reply's room (template, estimates)
CHAT_PROMPT = "chat"  # the code format's prompt variant in chat mode
# answers a cell submitted with final_answer(...): values, not replies (a <solution> is
# the model's own written reply and stands as it is)
SUBMITTED = (ActionKind.CODE_FINAL_ANSWER, ActionKind.CODE_AUTO_FINAL_ANSWER)
DEFAULT_RESAMPLE = 2  # tries to replace a repeated action before it runs anyway
RESAMPLE_TEMPERATURES = (0.7, 1.0)  # per try, the last one repeated for later tries
MAX_FIRM_REFUSALS = 3  # per run: answers that can never be right, refused each time
PROBE_TIMEOUT = 10.0  # seconds for a hint's silent probe cell (examples of a function)
UNRUN_NOTE = "Note: your last reply was not run, because {}. Write your next step without that."
# mechanisms ``Agent(ablate=...)`` switches off, one at a time, so a benchmark can measure
# what each adds (hints, resampling and self-consistency have their own switches):
# collapse: repeated identical failed exchanges stay in the model's view one by one;
# notes_heading: notes follow the output without NOTES_HEADING, turns left on every turn;
# did_you_mean: the kernel adds no "Did you mean ...?" to lookup errors;
# answer_check: answers end the run unchecked (no hint may refuse one)
ABLATIONS = ("collapse", "notes_heading", "did_you_mean", "answer_check")
# run ends after which a refused guess is kept as the answer rather than none
FALLBACK_STOPS = (StopReason.MAX_TURNS, StopReason.STUCK, StopReason.TIME_LIMIT,
                  StopReason.MAX_TOKENS)
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Approval:
    """The user's decision on a code action before it runs (``Agent(approve=...)``):
    ``run`` it, run ``code`` instead (``edit``: the model is told), or ``skip`` it."""

    action: Literal["run", "edit", "skip"] = "run"
    code: str | None = None


class Agent:
    """A CodeAct agent over any LLM backend, action format and runtime session.

    ``session`` is any :class:`~codeact.agent.executor.Executor` (a runtime ``Session``,
    or a fake in unit tests); None: the agent starts its own sandboxed ``Session``.
    ``hints``: the names of the small-model hints to use (None: all registered, see
    :mod:`codeact.agent.hints`). ``resample``: how often a reply that repeats an earlier
    action is discarded and the model asked again, sampling (temperatures from
    :data:`RESAMPLE_TEMPERATURES`, seeds from ``seed``); 0: never. ``ablate``: names
    from :data:`ABLATIONS`, mechanisms switched off to measure what they add
    (``did_you_mean`` needs the agent's own session, or a ``Session(suggest=False)``).
    """

    def __init__(
        self,
        llm: LLM,
        tools: Sequence[Tool | Callable[..., Any]] = (),
        *,
        action_format: str | ActionFormat = "code",
        session: Executor | None = None,
        sandbox: Any = "bwrap",
        workspace: str | Path | None = None,
        max_turns: int = 10,
        max_total_tokens: int | None = None,
        time_limit: float | None = None,
        exec_timeout: float = 60.0,
        max_new_tokens: int = 1024,
        temperature: float = 0.0,
        chat: bool = False,
        system_prompt: str | None = None,
        prompt: str | Prompt | None = None,
        context_window: int | None = None,
        approve: Callable[[str], Approval] | None = None,
        hints: Sequence[str] | None = None,
        resample: int = DEFAULT_RESAMPLE,
        seed: int = 0,
        ablate: Sequence[str] = (),
    ) -> None:
        if max_turns < 1:
            raise ValueError("max_turns must be at least 1")
        self.ablate = check_ablations(ablate)
        if "did_you_mean" in self.ablate and getattr(session, "suggest", False):
            raise ValueError("ablate did_you_mean: the session given adds did-you-mean "
                             "notes; pass Session(suggest=False) or no session")
        self.llm = llm
        self.tools = as_tools(tools)
        self._tools_by_name = {t.name: t for t in self.tools}
        self.format = get_format(action_format)
        self.max_turns = max_turns
        self.max_total_tokens = max_total_tokens
        self.time_limit = time_limit
        self.exec_timeout = exec_timeout
        self.max_new_tokens = max_new_tokens
        self.temperature = temperature
        self.chat = chat
        self.approve = approve  # asked before each code action runs (None: run it)
        # --prompt applies to the code format; json and text keep their frozen prompts so
        # the comparison between formats stays fair
        if prompt is None and chat and self.format.name == "code":
            prompt = CHAT_PROMPT  # a turn ends with a reply a person reads
        self.prompt = prompt if isinstance(prompt, Prompt) else prompt_for(self.format, prompt)
        self.system_prompt = system_prompt or _render_prompt(self.format, self.tools,
                                                             self.prompt, session, sandbox)
        # recorded in every trajectory: which prompt (variant name, hash of its template)
        self.prompt_name, self.prompt_sha = self.prompt.name, self.prompt.sha
        if system_prompt is not None:
            self.prompt_name, self.prompt_sha = "custom", Prompt("custom", system_prompt).sha
            if isinstance(self.format, CodeFormat):  # as the rendered prompt would have
                self.format.tool_names = frozenset(self._tools_by_name)
        self.context_window = context_window or getattr(llm, "context_window", None)
        self._budget: ContextBudget | None = None
        if self.context_window:
            count = getattr(llm, "count_tokens", None) or estimate_tokens
            room = max(256, int(self.context_window) - max_new_tokens - CONTEXT_MARGIN)
            self._budget = ContextBudget(room, count=count)
        self.hints = make_hints(hints)
        if resample < 0:
            raise ValueError("resample must be at least 0")
        self.resample = resample
        self.seed = seed
        self._said_cannot_vary = False
        self._refused_by: set[str] = set()  # hints that refused an answer in this run
        self._refused_answers: set[str] = set()  # those answers, normalised
        # cells whose answer was refused once, not firmly: sent again, the answer stands
        self._resendable: set[str] = set()
        self._firm_refusals = 0  # answers refused with a FirmNote in this run
        # code of cells whose output a hint said does not answer the task -> that note
        self._unfinished: dict[str, str] = {}
        self.messages: list[dict[str, Any]] = [{"role": "system",
                                                "content": self.system_prompt}]
        self._session: Executor | None = session
        self._owns_session = session is None
        self._session_tools_set = False
        self._sandbox = sandbox
        self._workspace = Path(workspace) if workspace is not None else None
        self._interrupted = threading.Event()
        self._executing = threading.Event()

    # ----------------------------------------------------------------- lifecycle
    @property
    def session(self) -> Executor:
        """The runtime session, started on first use when the agent owns it."""
        if self._session is None:
            from codeact.runtime import Session

            session = Session(sandbox=self._sandbox, workspace=self._workspace,
                              tools=self.tools, suggest="did_you_mean" not in self.ablate)
            session.start()
            self._session = session
            self._session_tools_set = True
        elif not self._session_tools_set:
            if self.tools:
                self._session.set_tools(self.tools)
            self._session_tools_set = True
        return self._session

    def interrupt(self) -> None:
        """Stop the run: the model's generation ends, a running cell is interrupted."""
        self._interrupted.set()
        if self._executing.is_set() and self._session is not None:
            self._session.interrupt()

    def reset(self) -> None:
        """Forget the conversation and restart the kernel (files in the workspace stay)."""
        self.messages = [{"role": "system", "content": self.system_prompt}]
        if self._budget is not None:
            self._budget.reset()
        if self._session is not None:
            self._session.restart()
            self._session_tools_set = False

    def load_messages(self, messages: Sequence[dict[str, Any]]) -> None:
        """Restore a conversation (without its system prompt, or with it)."""
        msgs = [dict(m) for m in messages if m.get("role") != "system"]
        self.messages = [{"role": "system", "content": self.system_prompt}, *msgs]

    def close(self) -> None:
        """Close the session if the agent started it."""
        if self._owns_session and self._session is not None:
            self._session.close()
            self._session = None

    def __enter__(self) -> Agent:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ----------------------------------------------------------------- running
    def run(self, task: str) -> Trajectory:
        """Run until an answer or a stop condition; return the trajectory."""
        trajectory: Trajectory | None = None
        for event in self.stream(task):
            if isinstance(event, DoneEvent):
                trajectory = event.trajectory
        assert trajectory is not None
        return trajectory

    def stream(self, task: str) -> Iterator[Event]:
        """Run the loop, yielding events as they happen; the last is a DoneEvent."""
        self._interrupted.clear()
        start_info = RunStart(task, tuple(self.tools), code_format=self.format.name == "code",
                              chat=self.chat, system_prompt=self.system_prompt)
        for hint in self.hints:
            hint.reset(start_info)
        self._refused_by = set()
        self._refused_answers = set()
        self._resendable = set()
        self._firm_refusals = 0
        self._fallback: tuple[int, str] | None = None
        self._unfinished = {}
        if not self.chat:
            self.messages = [{"role": "system", "content": self.system_prompt}]
            if self._budget is not None:
                self._budget.reset()
        self.messages.append({"role": "user", "content": task})
        traj = Trajectory(task=task, model=getattr(self.llm, "name", type(self.llm).__name__),
                          action_format=self.format.name)
        traj.metadata.update(prompt=self.prompt_name, prompt_sha=self.prompt_sha,
                             tools=tool_records(self.tools), seed=self.seed,
                             ablate=sorted(self.ablate))
        start = time.monotonic()
        try:
            yield from self._loop(traj, start)
            yield from self._fall_back(traj)
        finally:
            traj.wall_seconds = time.monotonic() - start
            traj.messages = [dict(m) for m in self.messages]
        yield DoneEvent(traj)

    def _loop(self, traj: Trajectory, start: float) -> Iterator[Event]:
        """Turns until one ends the run: generate, parse, act, advise, observe."""
        for turn in range(1, self.max_turns + 1):
            limit = self._limit_reached(traj, start)
            if limit is not None:
                return self._stop(traj, limit)
            remaining = self.max_turns - turn
            yield TurnStarted(turn, remaining)
            reply = yield from self._generate(turn)
            if reply.error is not None:
                return (yield from self._fail(traj, turn, reply.error))
            if reply.completion is None:
                return self._stop(traj, StopReason.INTERRUPTED)
            action = self.format.parse(reply.completion)
            discarded: list[Reply] = []
            if self.resample:
                reply, action = yield from self._resample(traj, turn, reply, action,
                                                          discarded)
            record = self._record_reply(traj, turn, reply, discarded,
                                        shown=getattr(action, "shown", None))
            if self._interrupted.is_set():
                return self._stop(traj, StopReason.INTERRUPTED)
            outcome = yield from self._act(record, action)
            if outcome.error is not None:
                return (yield from self._fail(traj, turn, outcome.error))
            if outcome.step is not None and outcome.step.observation is not None:
                self._probe(outcome.step)
            refused = False
            if outcome.stop == StopReason.SOLUTION and remaining \
                    and "answer_check" not in self.ablate:  # the last turn's stands:
                outcome = self._check_answer(record, outcome)  # no turn to act on a note
                refused = outcome.answer is None
            if outcome.step is not None and outcome.stop is None:
                outcome = self._advise(record, outcome.step, outcome, refused=refused)
            ended = outcome.stop is not None or self._interrupted.is_set()
            if outcome.observed:
                heading = "notes_heading" not in self.ablate
                notes = outcome.notes if ended else noted(
                    *outcome.notes, turns_left_note(remaining, always=not heading))
                for hint in self.hints:
                    hint.shown_notes(notes)
                text = compose_observation(outcome.output, notes, heading=heading)
                yield from self._observe(record, text, outcome.observation)
            if outcome.answer is not None:
                yield from self._deliver(traj, record, outcome.answer)
            if ended:
                return self._stop(traj, outcome.stop or StopReason.INTERRUPTED)
        return self._stop(traj, StopReason.MAX_TURNS)

    def _limit_reached(self, traj: Trajectory, start: float) -> StopReason | None:
        """A limit that ends the run before the next turn starts, if any."""
        if self._interrupted.is_set():
            return StopReason.INTERRUPTED
        if self.time_limit is not None and time.monotonic() - start > self.time_limit:
            return StopReason.TIME_LIMIT
        if self.max_total_tokens is not None and traj.total_tokens >= self.max_total_tokens:
            return StopReason.MAX_TOKENS
        return None

    def _generate(self, turn: int, *, temperature: float | None = None,
                  seed: int | None = None, note: str | None = None,
                  hide: Sequence[str] = ()) -> Generator[Event, None, Reply]:
        """The model's next reply, from the view of the conversation that fits. For a
        resample, in this view only: the exchanges that hold an action of ``hide`` are
        left out, and ``note`` is added to the last observation."""
        view = self.messages if self._budget is None else self._budget.view(self.messages)
        for action in hide:
            view = without_action(view, action)
        heading = "notes_heading" not in self.ablate
        if note is not None:
            view = with_note(view, note, heading=heading)
        if "collapse" not in self.ablate:
            view = collapse_repeats(view, heading=heading)
        temperature = self.temperature if temperature is None else temperature
        if seed is None and temperature > 0 and getattr(self.llm, "can_vary", False):
            seed = self.seed + 1000 * turn  # a sampled run can be drawn again
        return (yield from generate(
            self.llm, view, turn=turn, stop=self.format.stop,
            max_tokens=self.max_new_tokens,
            temperature=temperature, interrupted=self._interrupted, seed=seed))

    def _resample(self, traj: Trajectory, turn: int, reply: Reply, action: Action,
                  discarded: list[Reply]) -> Generator[Event, None, tuple[Reply, Action]]:
        """While the reply repeats an action a hint vetoes, discard it and sample another
        (up to ``resample`` times); the last reply runs whatever it holds, so a model that
        insists still meets the repeat guard. Each retry is asked from a view without the
        exchanges of the vetoed actions that failed or whose output a hint said does not
        answer the task (any other successful output is information the model needs, so
        it stays), the reason noted: the veto's, which holds the output, and the hint's.
        A cell whose answer a hint refused once (not firmly) is run when sent again: the
        note invited that, and the answer then stands. Seen: `final_answer(11)`, right,
        refused for not calling the tools, then resampled away on each resend until the
        run stopped stuck."""
        hidden: list[str] = []
        said: list[str] = []
        for attempt in range(1, self.resample + 1):
            if (text := _action_text(action)) is not None and \
                    program_key(text) in self._resendable:
                break  # the refusal invited it: the model insists, and the answer stands
            reason = self._veto(action)
            invalid = _repeated_invalid(traj, reply, action) \
                if reason is None and not self.chat else None
            if invalid is not None:
                reason = "it repeats, word for word, an earlier reply that held no action"
            if reason is None or not self._can_vary(traj):
                break
            assert reply.completion is not None
            discarded.append(reply)
            template = self.format.resample_note
            if invalid is not None:  # seen: the same made-up "Observation:" seven turns
                hidden.append(invalid)
                told = action.message if isinstance(action, Invalid) else \
                    self.format.no_action_note
                template = "Note: your last reply was not used, because {}. " + \
                    told.replace("{", "{{").replace("}", "}}")
            elif (text := _action_text(action)) is not None:
                if _failed_before(traj, text):
                    hidden += _texts_of(traj, text)  # an error: nothing worth keeping
                elif (problem := self._unfinished.get(program_key(text))) is not None:
                    hidden += _texts_of(traj, text)  # copied from view, it would be again
                    if problem and problem not in said:
                        said.append(problem)
                elif _ran_before(traj, text):  # it worked and nothing was said against
                    template = self.format.resample_done_note  # its output: answer?
                else:  # a hint vetoed an action that never ran: the reason says why
                    template = UNRUN_NOTE
            yield ResampledEvent(turn, attempt, reply.completion.text, reason)
            schedule = RESAMPLE_TEMPERATURES[min(attempt, len(RESAMPLE_TEMPERATURES)) - 1]
            again = yield from self._generate(turn,
                                              temperature=max(schedule, self.temperature),
                                              seed=self.seed + 1000 * turn + attempt,
                                              note="\n".join([template.format(reason),
                                                               *said]),
                                              hide=hidden)
            if again.completion is None:  # failed or interrupted: keep the last reply
                break
            reply, action = again, self.format.parse(again.completion)
        return reply, action

    def _veto(self, action: Action) -> str | None:
        """Why a hint would rather not run ``action`` (None: run it)."""
        if isinstance(action, CodeAction):
            key = action.code
        elif isinstance(action, ToolCall):
            key = tool_call_key(action)
        else:
            return None
        return next((r for h in self.hints if (r := h.vetoes(key)) is not None), None)

    def _can_vary(self, traj: Trajectory) -> bool:
        """Whether asking again can give another reply; a backend that cannot vary is
        said once (log and trajectory metadata) and its repeats run as they are."""
        if getattr(self.llm, "can_vary", False):
            return True
        traj.metadata["resample"] = "the backend cannot vary its replies"
        if not self._said_cannot_vary:
            self._said_cannot_vary = True
            log.warning("%s cannot vary its replies (no can_vary): repeated actions are "
                        "run instead of resampled", getattr(self.llm, "name", self.llm))
        return False

    def _record_reply(self, traj: Trajectory, turn: int, reply: Reply,
                      discarded: Sequence[Reply] = (), shown: str | None = None) -> TurnRecord:
        """Keep the reply in the trajectory and the conversation (as ``shown``, when the
        parse cut it short); discarded replies are kept as text, their cost added to the
        turn's."""
        completion = reply.completion
        assert completion is not None
        spent = [r.completion for r in discarded if r.completion is not None]
        every = [*spent, completion]
        record = TurnRecord(turn=turn, completion=completion.text, action=ActionKind.NONE,
                            prompt_tokens=sum(c.prompt_tokens for c in every),
                            completion_tokens=sum(c.completion_tokens for c in every),
                            cached_prompt_tokens=sum(c.cached_prompt_tokens for c in every),
                            prompt_seconds=sum(c.prompt_seconds for c in every),
                            llm_seconds=reply.seconds + sum(r.seconds for r in discarded),
                            resampled=[c.text for c in spent])
        traj.turns.append(record)
        self.messages.append({"role": "assistant",
                              "content": shown or self.format.restore_stop(completion)})
        return record

    def _act(self, record: TurnRecord, action: Action) -> Generator[Event, None, Outcome]:
        """Do what the parsed reply says; the record learns what kind of action it was."""
        if isinstance(action, FinalAnswer):
            record.action = ActionKind.SOLUTION
            return answered(action.answer)
        if isinstance(action, NoAction):
            if self.chat:  # a plain reply goes back to the user
                return Outcome(answer=action.text.strip(), stop=StopReason.NO_ACTION)
            record.action = ActionKind.INVALID
            return Outcome(notes=(self.format.no_action_note,))
        if isinstance(action, Invalid):
            record.action = ActionKind.INVALID
            return Outcome(notes=(action.message,))
        if isinstance(action, CodeAction):
            return (yield from self._act_code(record, action))
        return (yield from self._act_tool(record, action))

    def _act_code(self, record: TurnRecord,
                  action: CodeAction) -> Generator[Event, None, Outcome]:
        """Ask for approval, run the cell, and accept an answer it gave."""
        record.action, record.code = ActionKind.CODE, action.code
        yield CodeActionEvent(record.turn, action.code)
        decision = self.approve(action.code) if self.approve is not None else None
        if decision is not None and decision.action == "skip":
            record.action = ActionKind.SKIPPED
            return Outcome(notes=(self.format.skipped_note,))
        code = action.code
        if decision is not None and decision.action == "edit" and decision.code:
            code = decision.code
        record.code = code
        try:
            obs = yield from execute_streaming(lambda: self.session, code, turn=record.turn,
                                               timeout=self.exec_timeout,
                                               interrupted=self._interrupted,
                                               executing=self._executing)
        except SandboxFailure as exc:
            record.observation = str(exc)
            return Outcome(error=str(exc))
        record.exec_seconds, record.exec_ok = obs.duration, obs.ok
        record.output = ExecOutput.from_observation(obs)
        output = render_observation(obs)
        edited = self.format.edited_note.format(code) if code != action.code else None
        ran = Outcome(output=output, notes=noted(edited, action.note), observation=obs,
                      step=Step(record.turn, code, output, obs.ok, obs))
        if obs.final_answer is not None and obs.ok:  # final_answer(...) called in the cell
            record.action = ActionKind.CODE_FINAL_ANSWER
            return replace(ran, answer=obs.final_answer, stop=StopReason.SOLUTION)
        if action.solution is not None and obs.ok:
            record.action = ActionKind.CODE_SOLUTION
            return replace(ran, answer=action.solution, stop=StopReason.SOLUTION)
        rejected = noted(
            self.format.rejected_final_answer_note if obs.final_answer is not None else None,
            self.format.rejected_solution_note if action.solution is not None else None)
        return replace(ran, notes=ran.notes + rejected)

    def _act_tool(self, record: TurnRecord,
                  call: ToolCall) -> Generator[Event, None, Outcome]:
        """Run a json/text tool call in the host."""
        record.action, record.tool, record.arguments = (ActionKind.TOOL_CALL, call.tool,
                                                        call.arguments)
        yield ToolCallEvent(record.turn, call.tool, call.arguments)
        started = time.monotonic()
        text, ok = call_tool(self._tools_by_name, call)
        record.exec_seconds = time.monotonic() - started
        record.exec_ok = ok
        record.output = ExecOutput(result=text) if ok else ExecOutput(stderr=text)
        step = Step(record.turn, tool_call_key(call), text, ok)
        return Outcome(output=text, notes=noted(call.note), step=step)

    def _deliver(self, traj: Trajectory, record: TurnRecord, answer: str) -> Iterator[Event]:
        """The run's answer; in chat, a value a cell submitted gets a prose reply first."""
        if self.chat and record.action in SUBMITTED and needs_reply(answer):
            answer = yield from self._chat_reply(traj, record.turn, answer)
        traj.answer = answer
        yield FinalAnswerEvent(record.turn, answer)

    def _fall_back(self, traj: Trajectory) -> Iterator[Event]:
        """When the run ended without an answer: what a hint submits for it (the function
        the task asks for, :meth:`_submitted_at_limit`), else an answer refused as a guess
        (a :class:`GuessNote`: nothing computed it) is kept; either is marked as such in
        ``metadata["fallback_answer"]`` and in the event, since a refused guess is
        sometimes right and no answer never is. Answers refused on evidence (a count that
        does not match the task, a value where a function was asked) are not kept, nor
        answers that cannot be one (None, empty, an error message). Seen: the README task
        at T=0.7 kept 65796, refused as the sum over 25 primes where 100 were asked."""
        if traj.answer is not None or traj.stop_reason not in FALLBACK_STOPS or self.chat:
            return
        fallback = self._submitted_at_limit(traj) or self._fallback
        if fallback is None:
            return
        turn, answer = fallback
        traj.metadata["fallback_answer"] = {"turn": turn, "stop": str(traj.stop_reason)}
        traj.answer = answer
        traj.stop_reason = StopReason.SOLUTION
        yield FinalAnswerEvent(turn, answer, fallback=True)

    def _submitted_at_limit(self, traj: Trajectory) -> tuple[int, str] | None:
        """What a hint submits for a run that ended without an answer (the function the
        task asks for, as the kernel holds it), before a refused guess: it is what the
        task asked for. ``(turn, answer)``, or None."""
        for hint in self.hints:
            code = hint.submit_at_limit()
            answer = self._submit(code) if code else None
            if answer is not None:
                return len(traj.turns), answer
        return None

    def _chat_reply(self, traj: Trajectory, turn: int,
                    answer: str) -> Generator[Event, None, str]:
        """Chat mode: ask once for a prose reply to a bare answer; the reply the user
        reads (see :mod:`.reply`). The request and the reply join the conversation."""
        self.messages.append({"role": "user", "content": "Observation:\n" + compose_observation(
            None, [reply_request(answer)], heading="notes_heading" not in self.ablate)})
        saved = self.max_new_tokens
        self.max_new_tokens = min(saved, REPLY_TOKENS)
        try:
            reply = yield from self._generate(turn + 1)
        finally:
            self.max_new_tokens = saved
        text = reply.completion.text if reply.completion is not None else ""
        final = final_reply(text, answer)
        record = self._record_reply(traj, turn + 1, reply) \
            if reply.completion is not None else None
        if record is not None:
            record.action = ActionKind.NONE
            self.messages[-1] = {"role": "assistant", "content": final}
        else:
            self.messages.append({"role": "assistant", "content": final})
        return final

    def _check_answer(self, record: TurnRecord, outcome: Outcome) -> Outcome:
        """The hints' check of an answer before the run ends on it: each hint may refuse
        once per run (the answer becomes a note and one more turn), and an answer that was
        refused before stands when sent again (the model insists); a firm refusal (an
        answer that can never be right) comes each time, up to ``MAX_FIRM_REFUSALS`` per
        run. Seen: `final_answer(0)` refused for not calling the tools, then
        `final_answer(1)`, a number no output had shown, kept because the run's one
        refusal was spent."""
        if outcome.answer is None:
            return outcome
        answer = normalise_answer(outcome.answer)
        insists = answer in self._refused_answers
        note = None
        for hint in self.hints:
            said = hint.checks_answer(outcome.answer, outcome.step)
            if said and isinstance(said, FirmNote):
                if self._firm_refusals >= MAX_FIRM_REFUSALS:
                    continue  # the model insists: the answer stands
                self._firm_refusals += 1
                note = said
                break
            if said and not insists and hint.name not in self._refused_by:
                self._refused_by.add(hint.name)
                self._refused_answers.add(answer)
                if outcome.step is not None:
                    self._resendable.add(program_key(outcome.step.action))
                note = said
                break
        if note is None:
            return outcome
        if isinstance(note, GuessNote) and not cannot_be_an_answer(outcome.answer):
            self._fallback = (record.turn, outcome.answer)
        record.action = ActionKind.CODE if record.action != ActionKind.SOLUTION else \
            ActionKind.ANSWER_REFUSED
        return replace(outcome, answer=None, stop=None, notes=outcome.notes + (note,))

    def _advise(self, record: TurnRecord, step: Step, outcome: Outcome, *,
                refused: bool = False) -> Outcome:
        """Let the hints speak on an action that ran; a stuck run stops, or submits the
        answer a hint offers. ``refused``: the action's answer was refused, so no hint
        may urge answering it (seen: `final_answer(None)` refused, then told "give the
        answer now" for repeating it), and a retry of it is hidden like a flagged cell."""
        verdict = Verdict(problem=refused)
        for hint in self.hints:
            advice = hint.after_action(step, verdict)
            if advice is not None:
                verdict.add(advice)
        if verdict.problem and step.observation is not None:
            first = verdict.notes[0] if verdict.notes else \
                outcome.notes[-1] if refused and outcome.notes else ""
            self._unfinished[program_key(step.action)] = first
        notes = outcome.notes + tuple(verdict.notes)
        if not verdict.stuck:
            return replace(outcome, notes=notes)
        answer = self._submit(verdict.submit) if verdict.submit else None
        if answer is not None:
            record.action = ActionKind.CODE_AUTO_FINAL_ANSWER
            return replace(outcome, notes=notes + noted(verdict.submit_note), answer=answer,
                           stop=StopReason.SOLUTION)
        return replace(outcome, notes=notes, stop=StopReason.STUCK)

    def _probe(self, step: Step) -> None:
        """Run the hints' silent probe cells for a code action that ran (the task's
        examples on a function it defined). Not when a person approves each cell: they
        would not have seen that code."""
        if self.approve is not None:
            return
        for hint in self.hints:
            code = hint.probe(step)
            if code is None:
                continue
            try:
                obs = self.session.execute(code, timeout=min(PROBE_TIMEOUT, self.exec_timeout))
            except Exception:  # the kernel is gone: the next cell says so
                continue
            hint.read_probe(step, obs)

    def _submit(self, code: str) -> str | None:
        """Run a hint's submitting cell (``final_answer(fn)``); the answer, or None when it
        did not give one (the run then stops stuck)."""
        try:
            sub = self.session.execute(code, timeout=self.exec_timeout)
        except Exception:  # the kernel is gone: nothing to submit
            return None
        return sub.final_answer if sub.ok else None

    def _observe(self, record: TurnRecord, text: str,
                 obs: Observation | None) -> Iterator[Event]:
        """Record an observation, show it, and add it to the conversation."""
        record.observation = text
        yield ObservationEvent(record.turn, text, obs)
        self.messages.append({"role": "user", "content": f"Observation:\n{text}"})

    def _stop(self, traj: Trajectory, reason: StopReason) -> None:
        traj.stop_reason = reason

    def _fail(self, traj: Trajectory, turn: int, message: str) -> Iterator[Event]:
        traj.error = message
        yield ErrorEvent(turn, message)
        self._stop(traj, StopReason.ERROR)


def _render_prompt(fmt: ActionFormat, tools: Sequence[Tool], prompt: Prompt,
                   session: Executor | None, sandbox: Any) -> str:
    """The system prompt; the code format's names the kernel's packages (from the
    session when given, else from the sandbox config: runtime/kernel_env.py)."""
    if not (isinstance(fmt, CodeFormat) and fmt.name == "code"):
        return fmt.system_prompt(tools, prompt)
    from codeact.runtime.kernel_env import prompt_info

    if session is not None:
        policy = getattr(session, "package_policy", None)
        packages = list(getattr(session, "packages", ()))
        can_install = getattr(policy, "mode", "deny") != "deny"
    else:
        packages, can_install = prompt_info(sandbox)
    return fmt.system_prompt(tools, prompt, packages=packages, can_install=can_install)


def _action_text(action: Action) -> str | None:
    """What a repeated action looks like in a reply: its code (a tool call's text varies,
    so its exchanges stay in view)."""
    return action.code if isinstance(action, CodeAction) else None


def _repeated_invalid(traj: Trajectory, reply: Reply, action: Action) -> str | None:
    """The text of an unusable reply (no action) that an earlier turn of this run sent
    word for word, else None: at temperature 0 a model that once answered with a made-up
    observation sends it again each turn, so it is asked again without that exchange."""
    if not isinstance(action, Invalid | NoAction) or reply.completion is None:
        return None
    text = reply.completion.text.strip()
    if text and any(t.action == ActionKind.INVALID and t.completion.strip() == text
                    for t in traj.turns):
        return text
    return None


def _runs_of(traj: Trajectory, code: str) -> list[TurnRecord]:
    """The turns of this run whose cell was this program (comments and spacing aside)."""
    key = program_key(code)
    return [t for t in traj.turns if t.code is not None and program_key(t.code) == key]


def _texts_of(traj: Trajectory, code: str) -> list[str]:
    """``code`` and the text of each earlier cell of the same program, once each: the
    exchanges to hide from a resample's view (a copy with a comment added is a copy)."""
    return list(dict.fromkeys([code, *(t.code for t in _runs_of(traj, code) if t.code)]))


def _ran_before(traj: Trajectory, code: str) -> bool:
    """Whether a cell with this code ran in this run."""
    return bool(_runs_of(traj, code))


def _failed_before(traj: Trajectory, code: str) -> bool:
    """Whether a cell with this code ran in this run and failed."""
    return any(t.exec_ok is False for t in _runs_of(traj, code))


def check_ablations(names: Sequence[str]) -> frozenset[str]:
    """The ablation names, checked: a typo must fail loudly, not measure the full agent
    under a wrong label."""
    if isinstance(names, str):
        names = (names,)
    unknown = sorted(set(names) - set(ABLATIONS))
    if unknown:
        raise ValueError(f"unknown ablation(s) {', '.join(unknown)}; known: "
                         f"{', '.join(ABLATIONS)}")
    return frozenset(names)
