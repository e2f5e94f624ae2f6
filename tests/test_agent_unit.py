"""The agent loop against a small in-test executor: no kernel, no sandbox.

The real-sandbox behaviour is covered by tests/test_agent.py; these tests pin down what the
loop does with whatever an :class:`~codeact.executor.Executor` returns or raises.
"""

from __future__ import annotations

import contextlib
import io
import threading
import time
import traceback
from collections.abc import Sequence
from typing import Any

from codeact.agent import Agent
from codeact.agent.executor import Executor, OutputCallback, SandboxFailure
from codeact.events import (
    CodeActionEvent,
    DoneEvent,
    ErrorEvent,
    FinalAnswerEvent,
    ObservationEvent,
    OutputDelta,
)
from codeact.llm.scripted import ScriptedLLM
from codeact.runtime import Session
from codeact.runtime.observation import ExecutionError, Observation
from codeact.tools import Tool, tool


@tool
def double(x: int) -> int:
    """Twice ``x``."""
    return 2 * x


class FakeExecutor:
    """Runs code with ``exec`` in one namespace: just enough of a kernel for the loop."""

    def __init__(self, *, broken: BaseException | None = None) -> None:
        self.namespace: dict[str, Any] = {}
        self.broken = broken
        self.calls: list[tuple[str, float]] = []
        self.tools: list[Tool] = []
        self.restarts = self.interrupts = self.closes = 0
        self.release = threading.Event()  # a cell running "wait()" blocks on this
        self.packages = ["numpy"]

    def execute(self, code: str, timeout: float = 60.0,
                on_output: OutputCallback | None = None) -> Observation:
        if self.broken is not None:
            raise self.broken
        self.calls.append((code, timeout))
        submitted: list[str] = []
        self.namespace.update({t.name: t.fn for t in self.tools})
        self.namespace["final_answer"] = lambda value: submitted.append(str(value))
        self.namespace["wait"] = lambda: self.release.wait(10)
        out = io.StringIO()
        error = None
        try:
            with contextlib.redirect_stdout(out):
                exec(code, self.namespace)
        except Exception as exc:
            error = ExecutionError(type(exc).__name__, str(exc), traceback.format_exc())
        if on_output is not None and out.getvalue():
            on_output("stdout", out.getvalue())
        return Observation(stdout=out.getvalue(), error=error,
                           final_answer=submitted[-1] if submitted else None)

    def interrupt(self) -> None:
        self.interrupts += 1
        self.release.set()

    def restart(self) -> None:
        self.restarts += 1
        self.namespace.clear()

    def close(self) -> None:
        self.closes += 1

    def set_tools(self, tools: Sequence[Tool]) -> None:
        self.tools = list(tools)


def run(agent: Agent, task: str = "task") -> tuple[list, Any]:
    events = list(agent.stream(task))
    assert isinstance(events[-1], DoneEvent)
    return events, events[-1].trajectory


def test_the_fake_and_the_real_session_both_satisfy_the_executor_protocol():
    assert isinstance(FakeExecutor(), Executor)
    assert issubclass(Session, Executor)


def test_code_observation_solution_without_a_sandbox():
    fake = FakeExecutor()
    llm = ScriptedLLM(["<execute>x = 6 * 7\nprint(x)</execute>", "<solution>42</solution>"])
    events, traj = run(Agent(llm, session=fake, exec_timeout=5.0))
    assert fake.calls == [("x = 6 * 7\nprint(x)", 5.0)]
    assert any(isinstance(e, OutputDelta) and e.text == "42\n" for e in events)
    obs = next(e for e in events if isinstance(e, ObservationEvent))
    assert obs.text.startswith("42") and obs.observation is not None
    assert traj.stop_reason == "solution" and traj.answer == "42"
    assert [t.action for t in traj.turns] == ["code", "solution"]
    assert fake.namespace["x"] == 42  # state persisted in the executor


def test_state_persists_across_turns_and_errors_are_observed():
    fake = FakeExecutor()
    llm = ScriptedLLM(["<execute>n = 5</execute>", "<execute>print(n / 0)</execute>",
                       "<execute>print(n + 1)</execute>", "<solution>6</solution>"])
    _, traj = run(Agent(llm, session=fake))
    assert "ZeroDivisionError" in traj.turns[1].observation
    assert traj.turns[1].exec_ok is False
    assert traj.turns[2].observation.startswith("6")
    assert traj.answer == "6"


def test_tools_are_installed_once_and_final_answer_ends_the_run():
    fake = FakeExecutor()
    llm = ScriptedLLM(["<execute>final_answer(double(21))</execute>"])
    agent = Agent(llm, [double], session=fake)
    events, traj = run(agent)
    assert [t.name for t in fake.tools] == ["double"]
    assert traj.stop_reason == "solution" and traj.answer == "42"
    assert [t.action for t in traj.turns] == ["code+final_answer"]
    assert isinstance(events[-2], FinalAnswerEvent)
    assert "numpy" in agent.system_prompt  # the executor's packages reach the prompt


def test_an_executor_that_cannot_run_code_ends_the_run_with_an_error():
    fake = FakeExecutor(broken=OSError("no kernel"))
    llm = ScriptedLLM(["<execute>print(1)</execute>", "<solution>1</solution>"])
    events, traj = run(Agent(llm, session=fake))
    assert traj.stop_reason == "error"
    assert traj.error == "the sandbox could not run the code: OSError: no kernel"
    assert isinstance(events[-2], ErrorEvent) and len(traj.turns) == 1
    assert traj.turns[0].observation == traj.error


def test_an_error_named_sandboxfailure_from_the_code_is_an_ordinary_error():
    fake = FakeExecutor()
    llm = ScriptedLLM(["<execute>class SandboxFailure(Exception):\n    pass\n"
                       "raise SandboxFailure('mine')</execute>", "<execute>print('ok')</execute>",
                       "<solution>ok</solution>"])
    _, traj = run(Agent(llm, session=fake))
    assert "SandboxFailure: mine" in traj.turns[0].observation
    assert traj.stop_reason == "solution" and traj.error is None


def test_a_sandboxfailure_raised_by_the_executor_itself_stops_the_run():
    fake = FakeExecutor(broken=SandboxFailure("kernel died twice"))
    _, traj = run(Agent(ScriptedLLM(["<execute>1</execute>"]), session=fake))
    assert traj.stop_reason == "error" and "kernel died twice" in traj.error


def test_interrupt_reaches_the_executor_while_a_cell_runs():
    fake = FakeExecutor()
    agent = Agent(ScriptedLLM(lambda messages: "<execute>wait()</execute>"), session=fake)
    seen: list = []
    worker = threading.Thread(target=lambda: seen.extend(agent.stream("block")))
    worker.start()
    deadline = time.monotonic() + 10
    while not any(isinstance(e, CodeActionEvent) for e in seen) or not fake.calls:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    agent.interrupt()
    worker.join(10)
    assert not worker.is_alive()
    assert fake.interrupts >= 1
    assert seen[-1].trajectory.stop_reason == "interrupted"


def test_reset_restarts_and_close_leaves_a_given_executor_open():
    fake = FakeExecutor()
    agent = Agent(ScriptedLLM(["<execute>y = 1</execute>", "<solution>1</solution>"]),
                  session=fake)
    run(agent)
    agent.reset()
    assert fake.restarts == 1 and fake.namespace == {}
    agent.close()
    assert fake.closes == 0  # the caller owns a session it passed in
