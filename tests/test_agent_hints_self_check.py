"""The optional self-check turn: asked once, with the task and the answer side by side."""

from codeact.agent import Agent
from codeact.agent.hints import default_hint_names
from codeact.agent.hints.base import RunStart
from codeact.agent.hints.self_check import SelfCheck
from codeact.llm.scripted import ScriptedLLM


def test_the_first_answer_is_questioned_once():
    hint = SelfCheck()
    hint.reset(RunStart("Which books by Tolkien are available? Answer with titles."))
    note = hint.checks_answer("['B01', 'B03']")
    assert note and "The task: Which books by Tolkien" in note
    assert "Your answer: ['B01', 'B03']" in note
    assert hint.checks_answer("['The Hobbit']") is None
    hint.reset(RunStart("again"))
    assert hint.checks_answer("x" * 1000).count("x") < 400  # a long answer is cut


def test_off_by_default_and_in_the_loop_when_asked_for(session):
    assert "self_check" not in default_hint_names()
    replies = ["<execute>final_answer(['B01'])</execute>",
               "<execute>final_answer(['The Hobbit'])</execute>"]
    traj = Agent(ScriptedLLM(list(replies)), session=session).run("Titles?")
    assert traj.answer == "['B01']" and len(traj.turns) == 1
    traj = Agent(ScriptedLLM(list(replies)), session=session,
                 hints=[*default_hint_names(), "self_check"]).run("Titles?")
    assert traj.answer == "['The Hobbit']" and len(traj.turns) == 2
    assert "check your answer against the task" in traj.turns[0].observation
