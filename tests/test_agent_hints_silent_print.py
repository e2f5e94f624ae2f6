"""The silent-print hint: a cell that calls print and printed nothing."""

from codeact.agent import Agent
from codeact.agent.hints.base import RunStart, Step, Verdict
from codeact.agent.hints.silent_print import SilentPrint, calls_print
from codeact.llm.scripted import ScriptedLLM
from codeact.runtime.observation import Observation


def _advice(code: str, obs: Observation):
    hint = SilentPrint()
    hint.reset(RunStart("t"))
    return hint.after_action(Step(1, code, "", obs.ok, obs), Verdict())


def test_a_print_that_never_ran_is_said():
    code = "for d in ['a']:\n    if d > 'z':\n        print(d)"
    assert calls_print(code) and not calls_print("x = 1") and not calls_print("print(")
    advice = _advice(code, Observation())
    assert advice is not None and "printed nothing" in advice.note


def test_output_a_value_an_answer_or_no_print_get_nothing():
    code = "if x:\n    print(x)"
    assert _advice(code, Observation(stdout="1\n")) is None
    assert _advice(code, Observation(result="3")) is None
    assert _advice(code, Observation(images=[b"png"])) is None
    assert _advice(code, Observation(final_answer="3")) is None
    assert _advice("x = 1", Observation()) is None
    assert SilentPrint().after_action(Step(1, '["t", {}]', "", True), Verdict()) is None


def test_in_the_loop(session):
    replies = iter(["<execute>for n in range(3):\n    if n > 5:\n        print(n)</execute>",
                    "<execute>final_answer(0)</execute>"])
    traj = Agent(ScriptedLLM(lambda m: next(replies)), session=session).run("t")
    assert "calls print() but printed nothing" in traj.turns[0].observation
