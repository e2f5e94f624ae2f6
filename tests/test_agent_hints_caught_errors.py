"""The caught-errors hint: a cell that caught an exception, printed it and went on."""

from codeact.agent import Agent
from codeact.agent.hints.base import RunStart, Step, Verdict
from codeact.agent.hints.caught_errors import CaughtErrors, printing_handlers
from codeact.llm.scripted import ScriptedLLM
from codeact.runtime.observation import Observation
from codeact.tools import tool


@tool
def checkout(book_id: str, member: str) -> bool:
    """Lend one copy of a book to a member."""
    return True


LOOP = ("n = 0\nfor book in books:\n    try:\n        checkout(book, 'M661')\n        n += 1\n"
        "    except Exception as e:\n        print(f'Failed to check out {book}: {e}')\n"
        "print(f'On loan: {n}')")
OUTPUT = ("Failed to check out {'id': 'B103'}: unhashable type: 'dict'\n"
          "Failed to check out {'id': 'B107'}: unhashable type: 'dict'\nOn loan: 0\n")


def _advice(code: str, obs: Observation, tools=(checkout,)):
    hint = CaughtErrors()
    hint.reset(RunStart("t", tools=tools))
    return hint.after_action(Step(1, code, obs.stdout, obs.ok, obs), Verdict())


def test_a_printed_exception_is_said_with_the_tools_the_try_calls():
    [handler] = printing_handlers(LOOP)
    assert handler.fragments == ("Failed to check out",) and handler.calls == ("checkout",)
    advice = _advice(LOOP, Observation(stdout=OUTPUT))
    assert advice is not None and advice.problem
    assert advice.note.startswith(
        "Note: your code caught an error and printed it (2 times): `Failed to check out "
        "{'id': 'B103'}: unhashable type: 'dict'`. The code inside `try` failed")
    assert "    checkout(book_id: str, member: str)" in advice.note
    assert "tools already defined" not in _advice(LOOP, Observation(stdout=OUTPUT),
                                                  tools=()).note


def test_handlers_that_did_not_run_or_do_not_show_the_error_get_nothing():
    assert _advice(LOOP, Observation(stdout="On loan: 2\n")) is None  # no failure printed
    assert _advice(LOOP, Observation(stdout=OUTPUT, final_answer="0")) is None
    quiet = "try:\n    x = 1 / 0\nexcept ZeroDivisionError:\n    print('Failed to divide')"
    assert printing_handlers(quiet) == []  # the exception itself is not shown
    bare = "try:\n    x = 1 / 0\nexcept Exception as e:\n    print(e)"
    assert printing_handlers(bare) == []  # no text of its own to find it by
    assert printing_handlers("try:\n") == []
    assert CaughtErrors().after_action(Step(1, '["t", {}]', "", True), Verdict()) is None


def test_in_the_loop(session):
    code = ("try:\n    int('x')\nexcept ValueError as err:\n"
            "    print('Could not convert:', err)")
    replies = iter([f"<execute>{code}</execute>", "<execute>final_answer(0)</execute>"])
    traj = Agent(ScriptedLLM(lambda m: next(replies)), session=session).run("t")
    assert "caught an error and printed it: `Could not convert: invalid literal" in \
        traj.turns[0].observation
