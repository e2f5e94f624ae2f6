"""The small-steps hint: two failed cells in a row get the advice to look first."""

from codeact.agent import Agent
from codeact.agent.hints.base import RunStart, Step, Verdict
from codeact.agent.hints.small_steps import SmallSteps
from codeact.llm.scripted import ScriptedLLM
from codeact.runtime.observation import ExecutionError, Observation

ERROR = Observation(error=ExecutionError("TypeError", "bad", ""))


def _step(ok: bool) -> Step:
    return Step(1, "code", "out", ok, Observation() if ok else ERROR)


def test_every_second_failure_in_a_row_gets_the_note():
    hint = SmallSteps()
    hint.reset(RunStart("t"))
    said = [hint.after_action(_step(ok), Verdict()) for ok in
            (False, False, False, False, True, False, False)]
    assert [a is not None for a in said] == [False, True, False, True, False, False, True]
    assert "last 4 cells failed" in said[3].note and "print what it returns" in said[3].note
    assert hint.after_action(Step(1, '["tool", {}]', "Error", False), Verdict()) is None


def test_in_the_loop(session):
    replies = iter(["<execute>1/0</execute>", "<execute>[][1]</execute>",
                    "<execute>final_answer(1)</execute>"])
    traj = Agent(ScriptedLLM(lambda m: next(replies)), session=session).run("t")
    assert "Take a smaller step" not in traj.turns[0].observation
    assert "your last 2 cells failed. Take a smaller step" in traj.turns[1].observation
