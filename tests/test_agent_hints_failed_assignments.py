"""The failed-assignment hint, on its own and in the agent loop with a real kernel."""


from codeact.agent import Agent
from codeact.agent.hints.failed_assignments import FailedAssignments, assigned_names
from codeact.llm.scripted import ScriptedLLM
from codeact.runtime.observation import ExecutionError, Observation


def _failed(name: str, message: str) -> Observation:
    return Observation(error=ExecutionError(name, message, ""))


def test_assigned_names_are_module_level_bindings_only():
    code = ("import numpy as np\nfrom os import path\nx, y = 1, 2\nfor i in range(3):\n"
            "    total = i\ndef f(a):\n    inner = a\n    return inner\nclass C: pass\n"
            "with open('f') as fh: pass\n")
    assert assigned_names(code) == {"np", "path", "x", "y", "i", "total", "f", "C", "fh"}
    assert assigned_names("this is not python(") == set()


def test_hint_only_for_a_name_a_failed_cell_assigns():
    cells = FailedAssignments()
    assert cells.observe("copies = lookup('x')", _failed("KeyError", "'x'")) is None
    note = cells.observe("final_answer(copies)",
                         _failed("NameError", "name 'copies' is not defined"))
    assert note and "`copies` is not defined because the earlier cell" in note
    # an unrelated undefined name gets nothing
    assert cells.observe("print(other)", _failed("NameError",
                                                 "name 'other' is not defined")) is None
    # once a cell assigns it successfully, the name is no longer suspect
    cells.observe("copies = 3", Observation(result="3"))
    assert cells.observe("del copies\ncopies",
                         _failed("NameError", "name 'copies' is not defined")) is None


def test_a_restart_forgets_failed_cells():
    cells = FailedAssignments()
    cells.observe("a = f()", _failed("ValueError", "bad"))
    restarted = _failed("NameError", "name 'a' is not defined")
    restarted.restarted = True
    assert cells.observe("a", restarted) is None


def test_agent_explains_the_name_a_failed_cell_never_set(session):
    replies = iter(["<execute>total = {'a': 1}['b']</execute>",
                    "<execute>final_answer(total)</execute>",
                    "<solution>0</solution>"])
    llm = ScriptedLLM(lambda messages: next(replies))
    traj = Agent(llm, session=session, max_turns=5).run("sum")
    assert "KeyError" in traj.turns[0].observation
    assert "`total` is not defined because the earlier cell" in traj.turns[1].observation
