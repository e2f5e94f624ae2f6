"""The assumed-values check: an answer computed from a line the model marked as made up is
refused once, quoting that line."""

from codeact.agent import Agent
from codeact.agent.hints.assumed_values import AssumedValues, assumption_line
from codeact.agent.hints.base import RunStart, Step, Verdict
from codeact.llm.scripted import ScriptedLLM
from codeact.runtime.observation import Observation
from codeact.tools import tool


@tool
def headcount(team: str) -> int:
    """People in a team."""
    return {"support": 3}.get(team, 0)


TASK = "How many people are in support, times 2?"


def _hint(task: str = TASK, **run) -> AssumedValues:
    hint = AssumedValues()
    hint.reset(RunStart(task, tools=[headcount], **run))
    return hint


def _ran(hint: AssumedValues, code: str, ok: bool = True) -> None:
    hint.after_action(Step(1, code, "", ok, Observation()), Verdict())


def test_assumption_line_finds_the_made_up_value():
    assert assumption_line("n = 100  # Assume there are 100 people\nprint(n)") == \
        "n = 100  # Assume there are 100 people"
    # a comment on its own line: the code line after it is the one quoted
    assert assumption_line("# Placeholder value for demonstration\n\nprice = 12.0\n") == \
        "price = 12.0"
    assert assumption_line("def f():\n    return 12.0  # Replace with the actual logic") == \
        "return 12.0  # Replace with the actual logic"
    assert assumption_line("rows = load()  # the real data\nprint(sum(rows))") is None
    assert assumption_line("print('assume nothing')") is None  # not a comment


def test_an_answer_after_an_assumed_value_is_refused_with_the_line():
    hint = _hint()
    _ran(hint, "people = 100  # assuming 100 people\nprint(people * 2)")
    note = hint.checks_answer("200", Step(2, "final_answer(200)", "", True, Observation()))
    assert note is not None
    assert "`people = 100  # assuming 100 people`" in note and "headcount" in note
    # the submitting cell itself carries the comment
    hint = _hint()
    note = hint.checks_answer("200", Step(1, "n = 100  # dummy value\nfinal_answer(n * 2)",
                                          "", True, Observation()))
    assert note is not None and "n = 100" in note


def test_clean_runs_failed_cells_and_tasks_that_assume_are_left_alone():
    hint = _hint()
    _ran(hint, "print(headcount('support') * 2)")
    assert hint.checks_answer("6") is None
    hint = _hint()
    _ran(hint, "n = 100  # assume\nprint(n / 0)", ok=False)  # did not run through
    assert hint.checks_answer("6") is None
    hint = _hint("Assume a team of 4. How many legs do they have?")
    _ran(hint, "people = 4  # assume 4 people\nprint(people * 2)")
    assert hint.checks_answer("8") is None
    hint = _hint(code_format=False)
    _ran(hint, "people = 100  # assume")
    assert hint.checks_answer("200") is None


def test_in_the_loop(session):
    replies = iter(["<execute>people = 100  # Assume 100 people\nprint(people * 2)</execute>",
                    "<execute>final_answer(people * 2)</execute>",
                    "<execute>n = headcount('support') * 2\nprint(n)\n"
                    "final_answer(n)</execute>"])
    traj = Agent(ScriptedLLM(lambda m: next(replies)), session=session,
                 tools=[headcount]).run(TASK)
    assert "`people = 100  # Assume 100 people`" in traj.turns[1].observation
    assert traj.answer == "6"
