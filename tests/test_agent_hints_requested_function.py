"""The requested-function hint, on its own and in the agent loop with a real kernel."""


from codeact.agent import Agent
from codeact.agent.hints.requested_function import RequestedFunction, defined_functions
from codeact.llm.scripted import ScriptedLLM
from codeact.runtime.observation import ExecutionError, Observation


def _failed(name: str, message: str) -> Observation:
    return Observation(error=ExecutionError(name, message, ""))


def test_defined_functions_are_module_level_defs_in_order():
    code = "import math\ndef helper(x):\n    def inner(): pass\n    return x\n" \
           "async def fetch(): pass\nclass C:\n    def method(self): pass\n"
    assert defined_functions(code) == ["helper", "fetch"]
    assert defined_functions("def broken(:") == []


def test_requested_function_note_once_and_only_for_a_named_function():
    asked = RequestedFunction()
    asked.read_task("def count_distinct(s: str) -> int:\n    '''How many distinct characters'''")
    ok = Observation(stdout="")

    def note_for(code: str, obs: Observation) -> str | None:
        return asked.first_note(asked.requested(code, obs))

    assert note_for("def helper(): pass", ok) is None  # not named in the task
    assert note_for("def count_distinct(s): return len(s)",
                    _failed("SyntaxError", "x")) is None  # the cell failed
    note = note_for("def count_distinct(s): return len(set(s))", ok)
    assert note and "final_answer(count_distinct)" in note
    assert note_for("def count_distinct(s): return len(set(s))", ok) is None
    # a task that names no function never gets the note
    asked.read_task("What is 2 + 2?")
    assert note_for("def count_distinct(s): pass", ok) is None
    # a plain word of the task is not a function it asks for; a call or backticks are
    asked.read_task("Write out 37! (the factorial of 37) and add its digits together.")
    assert note_for("def factorial(n): return 1", ok) is None
    asked.read_task("Write a Python function `rotate`; e.g. rotate('ab') == 'ba'.")
    assert asked.requested("def rotate(s): return s[::-1]", ok) == "rotate"
    asked.read_task("Write `shift_all` for the list.")
    assert asked.requested("def shift_all(xs): return xs", ok) == "shift_all"
    asked.read_task("Write a function called shift_all that shifts the list.")
    assert asked.requested("def shift_all(xs): return xs", ok) == "shift_all"
    # a tool's own name asks for a call, not a definition
    asked.read_task("Use `scale_amount` to double 7.", tool_names=["scale_amount"])
    assert asked.requested("def scale_amount(x): return 2 * x", ok) is None


DEFINITION = "<execute>\ndef count_distinct(s):\n    return len(set(s.lower()))\n</execute>"
TASK = "Write def count_distinct(s: str) -> int: the number of distinct letters, any case."


def test_agent_names_the_call_that_submits_the_requested_function(session):
    replies = iter([DEFINITION, "<execute>final_answer(count_distinct)</execute>"])
    llm = ScriptedLLM(lambda messages: next(replies))
    traj = Agent(llm, session=session, max_turns=5).run(TASK)
    assert "submit it with final_answer(count_distinct)" in traj.turns[0].observation
    assert traj.stop_reason == "solution" and "len(set(s.lower()))" in traj.answer


def test_a_run_stuck_on_the_requested_function_submits_it(session):
    llm = ScriptedLLM(lambda messages: DEFINITION)  # the same definition every turn
    traj = Agent(llm, session=session, max_turns=8).run(TASK)
    assert len(traj.turns) == 4  # stopped at the 4th repeat, as a stuck run does
    assert traj.stop_reason == "solution"
    assert traj.answer.startswith("def count_distinct(s):")
    assert traj.turns[-1].action == "code+auto_final_answer"
    assert "was submitted as the answer" in traj.turns[-1].observation
    # the 2nd repeat's note names the exact call
    assert "final_answer(count_distinct)" in traj.turns[1].observation


def test_a_run_at_the_turn_limit_submits_the_requested_function(session):
    # seen on HumanEval/72: every example checked, all right, never submitted
    checks = iter(["<execute>print(count_distinct('aab'))</execute>",
                   "<execute>print(count_distinct('AbBa'))</execute>"])
    replies = iter([DEFINITION, *checks])
    llm = ScriptedLLM(lambda messages: next(replies))
    traj = Agent(llm, session=session, max_turns=3).run(TASK)
    assert traj.stop_reason == "solution"
    assert traj.answer.startswith("def count_distinct(s):")
    assert traj.metadata["fallback_answer"] == {"turn": 3, "stop": "max_turns"}
    # no function defined by a cell that worked: no answer, as before
    broken = iter(["<execute>def count_distinct(s):\n    return len(set(s)) +</execute>"] * 3)
    llm = ScriptedLLM(lambda messages: next(broken))
    traj = Agent(llm, session=session, max_turns=2).run(TASK)
    assert traj.stop_reason == "max_turns" and traj.answer is None


def test_submit_at_limit_only_after_a_definition_and_not_in_chat():
    from codeact.agent.hints.base import RunStart, Step, Verdict

    hint = RequestedFunction()
    hint.reset(RunStart(TASK))
    assert hint.submit_at_limit() is None
    hint.after_action(Step(1, "def count_distinct(s):\n    return 0", "", True,
                           Observation()), Verdict())
    assert hint.submit_at_limit() == "final_answer(count_distinct)"
    hint.reset(RunStart(TASK))
    assert hint.submit_at_limit() is None  # a new run forgets it
    hint.reset(RunStart(TASK, chat=True))
    hint.after_action(Step(1, "def count_distinct(s):\n    return 0", "", True,
                           Observation()), Verdict())
    assert hint.submit_at_limit() is None


def test_a_stuck_run_without_a_requested_function_still_stops_as_stuck(session):
    llm = ScriptedLLM(lambda messages: DEFINITION)
    traj = Agent(llm, session=session, max_turns=8).run("Count distinct letters in 'abc'.")
    assert traj.stop_reason == "stuck" and traj.answer is None


def test_a_value_where_the_defined_function_is_asked_for_is_refused():
    """Seen on HumanEval/4: the function written, then `final_answer(1.0)`, its example's
    result."""
    from codeact.agent.hints.base import FirmNote, RunStart, Step, Verdict

    hint = RequestedFunction()
    hint.reset(RunStart(TASK))
    assert hint.checks_answer("1.0") is None  # nothing defined yet: not judged
    hint.after_action(Step(1, "def count_distinct(s):\n    return len(set(s))", "", True,
                           Observation()), Verdict())
    note = hint.checks_answer("3")
    assert isinstance(note, FirmNote) and "final_answer(count_distinct)" in note
    assert hint.checks_answer("def count_distinct(s):\n    return len(set(s))") is None
    hint.reset(RunStart("Write `count_distinct` and print count_distinct('aab')."))
    hint.after_action(Step(1, "def count_distinct(s):\n    return len(set(s))", "", True,
                           Observation()), Verdict())
    note = hint.checks_answer("2")  # no signature in the task: asked once, not firmly
    assert note is not None and not isinstance(note, FirmNote)
    hint.reset(RunStart(TASK, chat=True))
    hint.after_action(Step(1, "def count_distinct(s):\n    return len(set(s))", "", True,
                           Observation()), Verdict())
    assert hint.checks_answer("I wrote count_distinct; it gives 3 for 'abc'.") is None


def test_in_the_loop_a_value_is_refused_and_the_function_submitted(session):
    replies = iter([DEFINITION, "<execute>print(count_distinct('aAb'))</execute>",
                    "<execute>final_answer(2)</execute>",
                    "<execute>final_answer(count_distinct)</execute>"])
    traj = Agent(ScriptedLLM(lambda m: next(replies)), session=session).run(TASK)
    assert "asks for the function `count_distinct` itself" in traj.turns[2].observation
    assert traj.answer.startswith("def count_distinct(s):")


def test_a_repeat_is_not_told_to_submit_when_a_hint_found_the_function_wrong():
    from codeact.agent.hints.base import RunStart, Step, Verdict

    hint = RequestedFunction()
    hint.reset(RunStart(task=TASK))
    code = DEFINITION.removeprefix("<execute>\n").removesuffix("\n</execute>")
    step = Step(1, code, "", True, Observation())
    first = hint.after_action(step, Verdict())
    assert first is not None and "final_answer(count_distinct)" in (first.note or "")
    again = hint.after_action(step, Verdict(repeat=True))
    assert again is not None and "submit it with final_answer" in (again.note or "")
    wrong = hint.after_action(step, Verdict(repeat=True, problem=True))  # e.g. an example
    assert wrong is None or wrong.note is None
