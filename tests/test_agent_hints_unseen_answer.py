"""The unseen-answer check: which answers count as seen, and in the loop, once per run."""

import pytest

from codeact.agent import Agent
from codeact.agent.hints.base import RunStart, Step, Verdict
from codeact.agent.hints.unseen_answer import UnseenAnswer
from codeact.llm.scripted import ScriptedLLM


def _hint(task: str, *outputs: str) -> UnseenAnswer:
    hint = UnseenAnswer()
    hint.reset(RunStart(task))
    for turn, output in enumerate(outputs, 1):
        hint.after_action(Step(turn, "code", output, True), Verdict())
    return hint


@pytest.mark.parametrize(("output", "answer"), [
    ("210", "210"),
    ("total: 8,384,727", "8384727"),
    ("mean 2.3456", "2.35"),  # rounded from a shown number
    ("The Hobbit\nThe Silmarillion", "['The Hobbit', 'The Silmarillion']"),  # item by item
    ("{'a': 1, 'b': 2}", "{'b': 2, 'a': 1}"),
    ("HX-210 SW-402", "['hx-210', 'SW-402']"),  # case does not matter
    ("done", "True"),  # booleans are not judged
    ("x", "def f(x):\n    return x + 1"),  # code submitted as a function
    ("x", "The chart shows the squares of 1 to 5, and the largest of them is 25 here."),
])
def test_answers_the_run_showed_or_does_not_judge_pass(output, answer):
    assert _hint("Find it.", output).checks_answer(answer) is None


@pytest.mark.parametrize(("output", "answer"), [
    ("The Hobbit\nThe Silmarillion", "['B01', 'B03']"),  # ids where titles were shown
    ("[] 0", "chickpea curry"),
    ("mean 2.3456", "2.4567"),
    ("[2, 2, 2]", "200"),
    ("0.0", "1"),  # seen: "1" counted as shown by the task's "12 lb"
])
def test_an_answer_no_output_showed_is_shown_back_once(output, answer):
    hint = _hint("Which books are available? Answer with the titles (12 lb, 1.5 kg).", output)
    note = hint.checks_answer(answer)
    assert note and answer in note and "Answer with the titles" in note
    assert "submit the same answer again" in note
    assert hint.checks_answer(answer) is None  # once per run


def test_what_the_submitting_cell_printed_counts_as_shown():
    hint = _hint("What is 17*23+5?", "computing")
    cell = Step(2, "t = 17 * 23 + 5\nprint(t)\nfinal_answer(t)", "396", True)
    assert hint.checks_answer("396", cell) is None
    assert hint.checks_answer("397", cell) is not None


def test_nothing_is_questioned_before_an_action_ran_or_when_the_task_names_it():
    assert _hint("What is the capital of France?").checks_answer("Paris") is None
    assert _hint("Is 7 bigger, or 9?", "checked").checks_answer("9") is None


def test_a_chat_reply_is_not_judged():
    hint = UnseenAnswer()
    hint.reset(RunStart("Print one thing.", chat=True))
    hint.after_action(Step(1, "code", "first", True), Verdict())
    assert hint.checks_answer("It printed one.") is None


def test_failed_outputs_do_not_count_as_shown():
    hint = _hint("Find the recipe.")
    hint.after_action(Step(1, "code", "KeyError: 'lentil soup'", False), Verdict())
    assert hint.checks_answer("{'soup': 10, 'curry': 15}")  # only failures so far
    hint = _hint("Find the recipe.")
    hint.after_action(Step(1, "code", "KeyError: 'lentil soup'", False), Verdict())
    hint.after_action(Step(2, "code", "recipes: 4", True), Verdict())
    assert hint.checks_answer("lentil soup")


def test_the_loop_shows_an_unseen_answer_then_takes_the_second(session):
    replies = iter(["<execute>ids = ['B01', 'B03']\nprint('The Hobbit')</execute>",
                    "<execute>final_answer(ids)</execute>",
                    "<execute>final_answer(ids)</execute>"])
    traj = Agent(ScriptedLLM(lambda m: next(replies)), session=session).run(
        "Which books are available? Answer with the titles.")
    assert [t.action for t in traj.turns] == ["code", "code", "code+final_answer"]
    assert "No cell has shown the value you submitted" in traj.turns[1].observation
    assert "['B01', 'B03']" in traj.turns[1].observation
    assert traj.stop_reason == "solution" and traj.answer == "['B01', 'B03']"


def test_the_loop_does_not_question_a_printed_answer(session):
    replies = iter(["<execute>total = 17 * 23 + 5\nprint(total)</execute>",
                    "<execute>final_answer(total)</execute>"])
    traj = Agent(ScriptedLLM(lambda m: next(replies)), session=session).run("What is 17*23+5?")
    assert [t.action for t in traj.turns] == ["code", "code+final_answer"]
    assert traj.answer == "396"
