"""The CodeAct loop: ask the model, run its action, show it the observation, repeat.

``Agent.stream`` yields events (see :mod:`codeact.events`) so the CLI, the chat app and
the benchmark can render or record a run as it happens; ``Agent.run`` just collects the
final :class:`~codeact.trajectory.Trajectory`. Model and runtime failures never raise out
of the loop: the run ends with stop reason ``error`` and an :class:`ErrorEvent`.
"""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from codeact.actions import (
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
from codeact.events import (
    CodeActionEvent,
    DoneEvent,
    ErrorEvent,
    Event,
    FinalAnswerEvent,
    ObservationEvent,
    OutputDelta,
    TextDelta,
    ToolCallEvent,
    TurnStarted,
)
from codeact.executor import Executor, SandboxFailure
from codeact.hints import FailedAssignments, RequestedFunction
from codeact.history import ContextBudget, estimate_tokens
from codeact.llm.base import LLM, Completion, LLMError
from codeact.loopguard import RepeatGuard
from codeact.observe import render_observation, turns_left_note
from codeact.prompts import Prompt
from codeact.tools import Tool, ToolArgumentError, as_tools
from codeact.trajectory import ExecOutput, Trajectory, TurnRecord, tool_records

if TYPE_CHECKING:
    from codeact.runtime.observation import Observation

TOOL_RESULT_LIMIT = 10_000
# Kept for one release: the name of :class:`codeact.executor.SandboxFailure`. The agent no
# longer compares error names (a kernel-side class of that name is an ordinary error).
SANDBOX_FAILURE = SandboxFailure.__name__
CONTEXT_MARGIN = 64  # tokens kept free besides the reply's room (template, estimates)
SKIPPED_NOTE = "The user declined to run this code; it was not executed."
EDITED_NOTE = "The user edited your code before it ran. The code that ran:\n```python\n{}\n```"


@dataclass(frozen=True)
class Approval:
    """The user's decision on a code action before it runs (``Agent(approve=...)``):
    ``run`` it, run ``code`` instead (``edit``: the model is told), or ``skip`` it."""

    action: Literal["run", "edit", "skip"] = "run"
    code: str | None = None


class Agent:
    """A CodeAct agent over any LLM backend, action format and runtime session.

    ``session`` is any :class:`~codeact.executor.Executor` (a runtime ``Session``, or a
    fake in unit tests); None: the agent starts its own sandboxed ``Session``.
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
    ) -> None:
        if max_turns < 1:
            raise ValueError("max_turns must be at least 1")
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
        if isinstance(prompt, Prompt):
            self.prompt = prompt
        else:
            self.prompt = prompt_for(self.format, prompt)
        rendered = None
        if system_prompt is None and isinstance(self.format, CodeFormat) and \
                self.format.name == "code":
            # the kernel's packages, named in the prompt (hook: runtime/kernel_env.py)
            from codeact.runtime.kernel_env import prompt_info

            policy = getattr(session, "package_policy", None)
            pkgs = ((list(getattr(session, "packages", ())), getattr(policy, "mode", "deny")
                     != "deny") if session is not None else prompt_info(sandbox))
            rendered = self.format.system_prompt(
                self.tools, self.prompt, packages=pkgs[0], can_install=pkgs[1])
        self.system_prompt = system_prompt or rendered or self.format.system_prompt(
            self.tools, self.prompt)
        # recorded in every trajectory: which prompt (variant name, hash of its template)
        self.prompt_name, self.prompt_sha = self.prompt.name, self.prompt.sha
        if system_prompt is not None:
            self.prompt_name, self.prompt_sha = "custom", Prompt("custom", system_prompt).sha
        self.context_window = context_window or getattr(llm, "context_window", None)
        self._budget: ContextBudget | None = None
        if self.context_window:
            count = getattr(llm, "count_tokens", None) or estimate_tokens
            room = max(256, int(self.context_window) - max_new_tokens - CONTEXT_MARGIN)
            self._budget = ContextBudget(room, count=count)
        self._guard = RepeatGuard(code_format=self.format.name == "code")
        self._failed_cells = FailedAssignments()
        self._requested = RequestedFunction()
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
                              tools=self.tools)
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
        self._guard.reset()
        self._failed_cells.reset()
        self._requested.reset(task, self._tools_by_name)
        if not self.chat:
            self.messages = [{"role": "system", "content": self.system_prompt}]
            if self._budget is not None:
                self._budget.reset()
        self.messages.append({"role": "user", "content": task})
        traj = Trajectory(task=task, model=getattr(self.llm, "name", type(self.llm).__name__),
                          action_format=self.format.name)
        traj.metadata.update(prompt=self.prompt_name, prompt_sha=self.prompt_sha,
                             tools=tool_records(self.tools))
        start = time.monotonic()
        try:
            yield from self._loop(traj, start)
        finally:
            traj.wall_seconds = time.monotonic() - start
            traj.messages = [dict(m) for m in self.messages]
        yield DoneEvent(traj)

    def _stop(self, traj: Trajectory, reason: str) -> None:
        traj.stop_reason = reason

    def _loop(self, traj: Trajectory, start: float) -> Iterator[Event]:
        for turn in range(1, self.max_turns + 1):
            if self._interrupted.is_set():
                return self._stop(traj, "interrupted")
            if self.time_limit is not None and time.monotonic() - start > self.time_limit:
                return self._stop(traj, "time_limit")
            if self.max_total_tokens is not None and traj.total_tokens >= self.max_total_tokens:
                return self._stop(traj, "max_tokens")
            remaining = self.max_turns - turn
            yield TurnStarted(turn, remaining)

            completion: Completion | None = None
            record = TurnRecord(turn=turn, completion="", action="none")
            t0 = time.monotonic()
            try:
                view = self.messages if self._budget is None else \
                    self._budget.view(self.messages)
                for item in self.llm.stream(view, stop=self.format.stop,
                                            max_tokens=self.max_new_tokens,
                                            temperature=self.temperature):
                    if isinstance(item, Completion):
                        completion = item
                    elif item:
                        yield TextDelta(turn, item)
                    if self._interrupted.is_set():
                        break
            except LLMError as exc:
                return (yield from self._fail(traj, turn, str(exc)))
            except Exception as exc:  # a backend bug must not kill the caller
                return (yield from self._fail(traj, turn,
                                              f"LLM backend failed: {type(exc).__name__}: "
                                              f"{exc}"))
            record.llm_seconds = time.monotonic() - t0
            if completion is None:
                if self._interrupted.is_set():
                    return self._stop(traj, "interrupted")
                return (yield from self._fail(traj, turn, "LLM backend returned no reply"))
            record.completion = completion.text
            record.prompt_tokens = completion.prompt_tokens
            record.completion_tokens = completion.completion_tokens
            record.cached_prompt_tokens = completion.cached_prompt_tokens
            record.prompt_seconds = completion.prompt_seconds
            traj.turns.append(record)
            self.messages.append({"role": "assistant",
                                  "content": self.format.restore_stop(completion)})
            if self._interrupted.is_set():
                return self._stop(traj, "interrupted")

            action = self.format.parse(completion)
            obs: Observation | None = None
            # (action, output, failed) for the repeat guard
            repeat: tuple[str, str, bool] | None = None
            asked: str | None = None  # the function the task names, if this cell defines it
            if isinstance(action, FinalAnswer):
                record.action = "solution"
                return (yield from self._answer(traj, turn, action.answer))
            if isinstance(action, NoAction):
                if self.chat:
                    record.action = "none"
                    traj.answer = action.text.strip()
                    yield FinalAnswerEvent(turn, traj.answer)
                    return self._stop(traj, "no_action")
                record.action = "invalid"
                text = ("Your reply contained neither an <execute> action nor a "
                        "<solution>. Act with <execute>...</execute>, or give the final "
                        "answer in <solution>...</solution>.")
            elif isinstance(action, Invalid):
                record.action = "invalid"
                text = action.message
            elif isinstance(action, CodeAction):
                record.action = "code"
                record.code = action.code
                yield CodeActionEvent(turn, action.code)
                decision = self.approve(action.code) if self.approve is not None else None
                if decision is not None and decision.action == "skip":
                    record.action = "skipped"
                    yield from self._observe(record, f"{SKIPPED_NOTE}\n"
                                                     f"{turns_left_note(remaining)}", None)
                    continue
                code: str = action.code
                if decision is not None and decision.action == "edit" and decision.code:
                    code = decision.code
                edited = code != action.code
                record.code = code
                try:
                    ran: Observation = yield from self._execute(turn, code)
                except SandboxFailure as exc:
                    record.observation = str(exc)
                    return (yield from self._fail(traj, turn, str(exc)))
                obs = ran
                record.exec_seconds = obs.duration
                record.exec_ok = obs.ok
                record.output = ExecOutput.from_observation(obs)
                output = render_observation(obs)
                repeat = (code, output, not obs.ok)
                text = EDITED_NOTE.format(code) + "\n" + output if edited else output
                asked = self._requested.requested(code, obs)
                for hint in (self._failed_cells.observe(code, obs),
                             self._requested.first_note(asked)):
                    if hint:
                        text += "\n" + hint
                if action.note:
                    text += "\n" + action.note
                if obs.final_answer is not None:  # final_answer(...) called in the cell
                    if obs.ok:
                        record.action = "code+final_answer"
                        yield from self._observe(record, text, obs)
                        return (yield from self._answer(traj, turn, obs.final_answer))
                    text += ("\nYour final_answer(...) was not accepted because the cell "
                             "failed; fix the error and call final_answer again.")
                if action.solution is not None and obs.ok:
                    record.action = "code+solution"
                    yield from self._observe(record, text, obs)
                    return (yield from self._answer(traj, turn, action.solution))
                if action.solution is not None:
                    text += ("\nYour <solution> was ignored because the code failed; "
                             "fix it and answer again.")
            else:
                assert isinstance(action, ToolCall)
                record.action = "tool_call"
                record.tool = action.tool
                record.arguments = action.arguments
                yield ToolCallEvent(turn, action.tool, action.arguments)
                t1 = time.monotonic()
                text, ok = self._call_tool(action)
                record.exec_seconds = time.monotonic() - t1
                record.exec_ok = ok
                record.output = ExecOutput(result=text) if ok else ExecOutput(stderr=text)
                repeat = (json.dumps([action.tool, action.arguments], sort_keys=True,
                                     default=str), text, not ok)
                if action.note:
                    text += "\n" + action.note
            if repeat is not None:  # the same action and output again: say so, or stop
                note, stuck = self._guard.check(*repeat)
                if note:
                    text += "\n" + note
                    if asked and not stuck:
                        text += self._requested.repeat_note(asked)
                if stuck:
                    submitted = self._submit_requested(record, asked)
                    if submitted is not None:
                        text += "\n" + submitted[0]
                        yield from self._observe(record, text, obs)
                        return (yield from self._answer(traj, turn, submitted[1]))
                    yield from self._observe(record, text, obs)
                    return self._stop(traj, "stuck")
            if self._interrupted.is_set():
                yield from self._observe(record, text, obs)
                return self._stop(traj, "interrupted")
            yield from self._observe(record, f"{text}\n{turns_left_note(remaining)}", obs)
        return self._stop(traj, "max_turns")

    def _observe(self, record: TurnRecord, text: str,
                 obs: Observation | None) -> Iterator[Event]:
        """Record an observation, show it, and add it to the conversation."""
        record.observation = text
        yield ObservationEvent(record.turn, text, obs)
        self.messages.append({"role": "user", "content": f"Observation:\n{text}"})

    def _submit_requested(self, record: TurnRecord,
                          name: str | None) -> tuple[str, str] | None:
        """When a run is stuck on a successful cell that defines the function the task
        names, submit that function (its source, via the kernel's ``final_answer``)
        rather than end without an answer. Returns (note, answer) or None."""
        if name is None:
            return None
        try:
            sub = self.session.execute(f"final_answer({name})", timeout=self.exec_timeout)
        except Exception:  # the kernel is gone: nothing to submit, stop as stuck
            return None
        if not sub.ok or sub.final_answer is None:
            return None
        record.action = "code+auto_final_answer"
        return (f"The run stopped repeating: `{name}`, the function the task asks for, "
                f"was submitted as the answer.", sub.final_answer)

    def _answer(self, traj: Trajectory, turn: int, answer: str) -> Iterator[Event]:
        traj.answer = answer
        yield FinalAnswerEvent(turn, answer)
        self._stop(traj, "solution")

    def _fail(self, traj: Trajectory, turn: int, message: str) -> Iterator[Event]:
        traj.error = message
        yield ErrorEvent(turn, message)
        self._stop(traj, "error")

    def _execute(self, turn: int, code: str) -> Generator[Event, None, Observation]:
        """Run code in the session on a worker thread, streaming its output as events.

        Returns the Observation (a generator's return value, via ``yield from``); raises
        :class:`SandboxFailure` when the runtime could not run the code at all.
        """
        outputs: queue.Queue[tuple[str, str] | None] = queue.Queue()
        result: dict[str, Observation] = {}
        failure: list[SandboxFailure] = []

        def work() -> None:
            try:
                session = self.session
                self._executing.set()
                if self._interrupted.is_set():
                    session.interrupt()
                result["obs"] = session.execute(
                    code, timeout=self.exec_timeout,
                    on_output=lambda stream, text: outputs.put((stream, text)))
            except Exception as exc:  # runtime unavailable or crashed beyond repair
                err = SandboxFailure(f"the sandbox could not run the code: "
                                     f"{type(exc).__name__}: {exc}")
                err.__cause__ = exc
                failure.append(err)
            finally:
                self._executing.clear()
                outputs.put(None)

        worker = threading.Thread(target=work, name="codeact-exec", daemon=True)
        worker.start()
        while True:
            item = outputs.get()
            if item is None:
                break
            yield OutputDelta(turn, item[0], item[1])
        worker.join()
        if failure:
            raise failure[0]
        return result["obs"]

    def _call_tool(self, call: ToolCall) -> tuple[str, bool]:
        """Run a json/text tool call in the host; return (observation text, ok)."""
        tool = self._tools_by_name.get(call.tool)
        if tool is None:
            known = ", ".join(self._tools_by_name) or "none"
            return f"Error: unknown tool {call.tool!r}. Available tools: {known}.", False
        try:
            value = tool.invoke(call.arguments)
        except ToolArgumentError as exc:
            return f"Error: {exc}", False
        except Exception as exc:
            return f"Error: {call.tool} raised {type(exc).__name__}: {exc}", False
        return _format_tool_result(value), True


def _format_tool_result(value: Any) -> str:
    if isinstance(value, str):
        text = value
    else:
        try:
            text = json.dumps(value, ensure_ascii=False, default=repr)
        except (TypeError, ValueError):
            text = repr(value)
    if len(text) > TOOL_RESULT_LIMIT:
        dropped = len(text) - TOOL_RESULT_LIMIT
        half = TOOL_RESULT_LIMIT // 2
        text = f"{text[:half]}\n[... {dropped} characters truncated ...]\n{text[-half:]}"
    return text
