"""The name-as-text hint, on its own and with a real kernel."""

from codeact.agent import Agent
from codeact.agent.hints.base import RunStart, Step, Verdict
from codeact.agent.hints.name_as_text import NameAsText
from codeact.llm.scripted import ScriptedLLM
from codeact.runtime import Session
from codeact.runtime.observation import ExecutionError, Observation


def _step(output: str, error: ExecutionError | None = None) -> Step:
    return Step(1, "code", output, error is None, Observation(error=error))


def test_an_undefined_name_seen_as_text_gets_quoted():
    hint = NameAsText()
    hint.reset(RunStart("Look up the code for the order."))
    assert hint.after_action(_step("order code: w686y666"), Verdict()) is None
    undefined = ExecutionError("NameError", "name 'w686y666' is not defined", "")
    advice = hint.after_action(_step("NameError: ...", undefined), Verdict())
    assert advice is not None and "write it in quotes: 'w686y666'" in advice.note
    # a name never shown, or one shown only inside quotes, gets nothing
    other = ExecutionError("NameError", "name 'total' is not defined", "")
    assert hint.after_action(_step("NameError", other), Verdict()) is None
    hint.reset(RunStart("x"))
    hint.after_action(_step("value = 'abc'"), Verdict())
    quoted = ExecutionError("NameError", "name 'abc' is not defined", "")
    assert hint.after_action(_step("NameError", quoted), Verdict()) is None


def test_a_file_name_in_the_task_is_not_text_to_quote():
    # seen: "`catalog.json` in the workspace holds ...", then `catalog['items']`: told to
    # write 'catalog' in quotes (the kernel now says to read the file)
    hint = NameAsText()
    hint.reset(RunStart("`catalog.json` in the workspace holds an inventory."))
    undefined = ExecutionError("NameError", "name 'catalog' is not defined", "")
    assert hint.after_action(_step("NameError", undefined), Verdict()) is None
    hint.reset(RunStart("The code is catalog."))  # the word itself, at a sentence's end
    advice = hint.after_action(_step("NameError", undefined), Verdict())
    assert advice is not None and "quotes: 'catalog'" in advice.note


def test_a_tool_parameter_is_not_text_to_quote():
    hint = NameAsText()
    hint.reset(RunStart("How many parcels can no carrier take?"))
    undefined = ExecutionError("NameError", "name 'carrier' is not defined", "")
    said = ("NameError: name 'carrier' is not defined\n`carrier` is a parameter of the tool "
            "`quote(carrier: str, parcel_id: str)`, not a value you have")
    assert hint.after_action(_step(said, undefined), Verdict()) is None


def test_in_the_loop_the_note_follows_the_error():
    session = Session(sandbox="bwrap")
    session.start()
    try:
        replies = iter(["<execute>print('the id is', 'w686y666')</execute>",
                        "<execute>final_answer(w686y666)</execute>",
                        "<execute>final_answer('w686y666')</execute>"])
        traj = Agent(ScriptedLLM(lambda m: next(replies)), session=session).run("get id")
    finally:
        session.close()
    assert "write it in quotes: 'w686y666'" in traj.turns[1].observation
    assert traj.answer == "w686y666"


def test_a_tool_call_step_is_ignored():
    assert NameAsText().after_action(Step(1, "call", "out", True), Verdict()) is None


def test_a_name_the_model_assigned_is_not_called_text():
    """Seen: `total_cost = ...` failed, the traceback echoed the line, and the next
    `final_answer(total_cost)` was told to quote 'total_cost'."""
    hint = NameAsText()
    hint.reset(RunStart("What is the total cost?"))
    failed = ExecutionError("KeyError", "'paint'", "")
    echo = ("Cell In[1], line 1\n----> 1 total_cost = price('paint')\n"
            "KeyError: 'paint'")
    hint.after_action(Step(1, "total_cost = price('paint')", echo, False,
                           Observation(error=failed)), Verdict())
    undefined = ExecutionError("NameError", "name 'total_cost' is not defined", "")
    step = Step(2, "final_answer(total_cost)", "NameError", False, Observation(error=undefined))
    assert hint.after_action(step, Verdict()) is None


def test_traceback_code_lines_are_not_output_text():
    hint = NameAsText()
    hint.reset(RunStart("Find the winner."))
    failed = ExecutionError("ValueError", "bad", "")
    echo = "Cell In[1], line 2\n----> 2 print(winner_name)\nValueError: bad"
    hint.after_action(Step(1, "print(winner_name)", echo, False, Observation(error=failed)),
                      Verdict())
    undefined = ExecutionError("NameError", "name 'winner_name' is not defined", "")
    step = Step(2, "final_answer(winner_name)", "NameError", False, Observation(error=undefined))
    assert hint.after_action(step, Verdict()) is None


def test_an_error_and_its_kernel_note_are_not_output_text():
    """Seen: `StringIO` unimported failed twice; the second time the note said to quote
    'StringIO', because the first error's kernel note named it."""
    hint = NameAsText()
    hint.reset(RunStart("Count the hotels rated 4.5 or more."))
    undefined = ExecutionError("NameError", "name 'StringIO' is not defined", "")
    output = ("NameError: name 'StringIO' is not defined\nNothing defines `StringIO`: "
              "add `from io import StringIO`.")
    for turn in (1, 2):
        step = Step(turn, "df = read(StringIO(text))", output, False,
                    Observation(stdout="reading\n", error=undefined))
        assert hint.after_action(step, Verdict()) is None
    # a name from the task's code that the kernel says to import is no text to quote
    hint.reset(RunStart("def f(xs: List[int]) -> int:"))
    missing = ExecutionError("NameError", "name 'List' is not defined", "")
    output = ("NameError: name 'List' is not defined\n`List` is not imported: add `from "
              "typing import List`.")
    assert hint.after_action(Step(1, "def f(xs: List[int]): pass", output, False,
                                  Observation(error=missing)), Verdict()) is None
    # what a failed cell printed before its error still counts
    hint.after_action(Step(3, "print('code w686y666'); 1/0", "", False,
                           Observation(stdout="code w686y666\n",
                                       error=ExecutionError("ZeroDivisionError", "", ""))),
                      Verdict())
    shown = ExecutionError("NameError", "name 'w686y666' is not defined", "")
    advice = hint.after_action(Step(4, "final_answer(w686y666)", "NameError", False,
                                    Observation(error=shown)), Verdict())
    assert advice is not None and "'w686y666'" in advice.note
