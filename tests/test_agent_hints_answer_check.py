"""The answer check: what it refuses, and in the loop, once per run."""

import pytest

from codeact.agent import Agent
from codeact.agent.hints.answer_check import AnswerCheck
from codeact.agent.hints.base import RunStart
from codeact.llm.scripted import ScriptedLLM


def _check(answer: str, task: str = "Compute it.") -> str | None:
    hint = AnswerCheck()
    hint.reset(RunStart(task))
    return hint.checks_answer(answer)


@pytest.mark.parametrize("answer", ["", "  ", "None", "nan", "Traceback (most recent call "
                                    "last):\n  File", "KeyError: 'x'", "Error: no such tool",
                                    "ValueError('bad')"])
def test_non_answers_are_refused(answer):
    assert _check(answer)


@pytest.mark.parametrize("answer", ["42", "Paris", "Errors were found in 3 lines",
                                    "def f():\n    return None", "['a', 'b']", "none of them"])
def test_real_answers_pass(answer):
    assert _check(answer) is None


def test_a_count_needs_a_number_but_code_and_prose_pass():
    assert _check("several", "How many primes are below 20?")
    assert _check("8", "How many primes are below 20?") is None
    assert _check("def count(s):\n    return len(s)", "Write def count(s): the number of "
                  "letters") is None


def test_the_loop_refuses_once_then_takes_the_next_answer(session):
    replies = iter(["<execute>result = None\nfinal_answer(result)</execute>",
                    "<execute>final_answer(None)</execute>"])
    traj = Agent(ScriptedLLM(lambda m: next(replies)), session=session).run("Find it.")
    assert [t.action for t in traj.turns] == ["code", "code+final_answer"]
    assert "which is not an answer" in traj.turns[0].observation
    assert traj.stop_reason == "solution" and traj.answer == "None"  # a second one stands


def test_a_refused_solution_tag_is_recorded_as_refused(session):
    replies = iter(["<solution>None</solution>", "<solution>7</solution>"])
    traj = Agent(ScriptedLLM(lambda m: next(replies)), session=session).run("Find it.")
    assert [t.action for t in traj.turns] == ["answer_refused", "solution"]
    assert traj.answer == "7"
