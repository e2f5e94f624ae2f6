"""The unused-tools check: an answer no tool call stands behind is refused once."""

from codeact.agent import Agent
from codeact.agent.hints.base import RunStart, Step, Verdict
from codeact.agent.hints.unused_tools import UnusedTools, uses_any
from codeact.llm.scripted import ScriptedLLM
from codeact.runtime.observation import Observation
from codeact.tools import tool


@tool
def headcount(team: str) -> int:
    """People in a team."""
    return {"support": 3}.get(team, 0)


def _hint(**run) -> UnusedTools:
    hint = UnusedTools()
    hint.reset(RunStart("How many people are in support?", tools=[headcount], **run))
    return hint


def _ran(hint: UnusedTools, code: str) -> None:
    hint.after_action(Step(1, code, "", True, Observation()), Verdict())


def test_uses_any_reads_calls_and_references_not_definitions():
    names = {"headcount"}
    assert uses_any("n = headcount('support')", names)
    assert uses_any("print(list(map(headcount, teams)))", names)
    assert not uses_any('def headcount(team):\n    """People."""\nn = 3', names)
    assert not uses_any("headcounts = 3", names)
    assert uses_any("headcount('x'", names)  # no parse: searched as text
    assert not uses_any("x.headcount('y'", names)


def test_an_answer_without_any_tool_is_refused():
    hint = _hint()
    _ran(hint, "employees = 100  # assume\nprint(employees)")
    note = hint.checks_answer("100", Step(2, "final_answer(100)", "", True, Observation()))
    assert note is not None and "headcount" in note and "submit the same answer again" in note
    hint = _hint()  # the submitting cell itself called a tool
    assert hint.checks_answer("3", Step(1, "final_answer(headcount('support'))", "", True,
                                        Observation())) is None
    hint = _hint()
    _ran(hint, "print(headcount('support'))")
    assert hint.checks_answer("3") is None


def test_runs_without_tools_in_chat_or_with_tool_call_actions_are_left_alone():
    assert UnusedTools().checks_answer("3") is None
    assert _hint(chat=True).checks_answer("3") is None
    assert _hint(code_format=False).checks_answer("3") is None


def test_in_the_loop(session):
    replies = iter(["<execute>final_answer(100)</execute>",
                    "<execute>n = headcount('support')\nprint(n)\nfinal_answer(n)</execute>"])
    traj = Agent(ScriptedLLM(lambda m: next(replies)), session=session,
                 tools=[headcount]).run("How many people are in support?")
    assert "None of your cells called your tools (headcount)" in traj.turns[0].observation
    assert traj.answer == "3"
