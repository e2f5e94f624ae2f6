"""The hint registry: order, switching hints off by name, one class + one line adds one."""

import pytest

from codeact.agent import Agent
from codeact.agent import hints as hint_registry
from codeact.agent.hints import (
    Advice,
    Hint,
    HintError,
    RunStart,
    Step,
    Verdict,
    default_hint_names,
    hint_names,
    make_hints,
)
from codeact.llm.scripted import ScriptedLLM

REPEATED = "<execute>print(6 * 7)</execute>"


def test_registered_hints_run_in_order_and_unknown_names_fail():
    assert hint_names() == ["failed_assignments", "name_as_text", "tool_reminder", "small_steps",
                            "silent_print", "caught_errors", "idle_cells", "images_only",
                            "counts", "example_copy", "observation_copy", "task_examples",
                            "type_mismatch", "repeats", "requested_function", "answer_check",
                            "uncomputed_answer", "assumed_values", "unused_tools",
                            "unseen_answer", "self_check"]
    assert default_hint_names() == hint_names()[:-1]  # self_check only when asked for
    assert [h.name for h in make_hints()] == default_hint_names()
    assert [h.name for h in make_hints(["requested_function", "repeats"])] == \
        ["repeats", "requested_function"]  # registration order, not the order asked
    assert make_hints([]) == []
    with pytest.raises(HintError, match="unknown hint nope; known hints: failed_assign"):
        make_hints(["nope"])


def test_with_the_repeat_hint_off_a_repeating_run_is_never_stuck(session):
    on = Agent(ScriptedLLM(lambda m: REPEATED), session=session, max_turns=6).run("x")
    assert on.stop_reason == "stuck" and len(on.turns) == 4
    hints = [n for n in hint_names() if n != "repeats"]
    off = Agent(ScriptedLLM(lambda m: REPEATED), session=session, max_turns=6,
                hints=hints).run("x")
    assert off.stop_reason == "max_turns" and len(off.turns) == 6
    assert not any("same output" in (t.observation or "") for t in off.turns)


def test_a_new_hint_is_one_class_and_one_register_line(session, monkeypatch):
    monkeypatch.setattr(hint_registry, "HINTS", dict(hint_registry.HINTS))

    class ShoutOnErrors(Hint):
        name = "shout"

        def reset(self, run: RunStart) -> None:
            self.task = run.task

        def after_action(self, step: Step, so_far: Verdict) -> Advice | None:
            return None if step.ok else Advice(note=f"Note: turn {step.turn} of "
                                                    f"{self.task!r} failed.")

    hint_registry.register(ShoutOnErrors)
    replies = iter(["<execute>1 / 0</execute>", "<solution>none</solution>"])
    traj = Agent(ScriptedLLM(lambda m: next(replies)), session=session).run("divide")
    assert traj.turns[0].observation.splitlines()[-1] == "Note: turn 1 of 'divide' failed."
    assert "ZeroDivisionError" in traj.turns[0].observation


def test_each_hint_refuses_once_and_an_answer_sent_again_stands(session, monkeypatch):
    """Seen: `final_answer(0)` refused for not calling the tools, then `final_answer(1)`,
    a number no output had shown, kept because the run's one refusal was spent."""
    monkeypatch.setattr(hint_registry, "HINTS", dict(hint_registry.HINTS))

    def refusing(hint_name: str) -> type[Hint]:
        class Refuses(Hint):
            name = hint_name

            def checks_answer(self, answer: str, step: Step | None = None) -> str | None:
                return f"{hint_name} refuses {answer}."

        return Refuses

    for name in ("first_check", "second_check"):
        hint_registry.register(refusing(name))
    both = ["first_check", "second_check"]
    replies = iter(["<solution>1</solution>", "<solution>2</solution>",
                    "<solution>3</solution>"])
    traj = Agent(ScriptedLLM(lambda m: next(replies)), session=session, hints=both).run("n?")
    assert [t.observation for t in traj.turns[:2]] == [
        "[codeact notes, not output of your code]\nfirst_check refuses 1.",
        "[codeact notes, not output of your code]\nsecond_check refuses 2."]
    assert traj.answer == "3"  # each check has had its say
    replies = iter(["<solution>1</solution>", "<solution> 1.0 </solution>"])
    traj = Agent(ScriptedLLM(lambda m: next(replies)), session=session, hints=both).run("n?")
    assert traj.answer == "1.0" and len(traj.turns) == 2  # the model insists: it stands


def test_a_cell_whose_answer_was_refused_once_is_run_when_sent_again(session, monkeypatch):
    """The refusal says "if you are sure, submit the same answer again": the resend is not
    resampled as a repeat. Seen: `final_answer(11)`, right, refused for not calling the
    tools, then resampled away on every resend until the run stopped stuck."""
    monkeypatch.setattr(hint_registry, "HINTS", dict(hint_registry.HINTS))

    class RefusesOnce(Hint):
        name = "refuses_once"

        def checks_answer(self, answer: str, step: Step | None = None) -> str | None:
            return "Sure? If so, submit the same answer again."

    hint_registry.register(RefusesOnce)
    hints = ["repeats", "refuses_once"]
    cell = "<execute>final_answer(11)</execute>"
    replies = iter([cell, cell, "<execute>final_answer(12)</execute>"])
    traj = Agent(ScriptedLLM(lambda m: next(replies)), session=session, hints=hints).run("n?")
    assert traj.answer == "11" and len(traj.turns) == 2
    assert not any(t.resampled for t in traj.turns)
    # a firm refusal still resamples the resend: it would only be refused again
    replies = iter(["<execute>final_answer(None)</execute>",
                    "<execute>final_answer(None)</execute>", "<execute>final_answer(12)</execute>"])
    traj = Agent(ScriptedLLM(lambda m: next(replies)), session=session,
                 hints=["repeats", "answer_check"]).run("n?")
    assert traj.answer == "12" and traj.turns[1].resampled


def test_an_answer_on_the_last_turn_is_never_refused(session):
    """A refusal there would end the run with no answer: no turn is left to act on it.
    Seen: the README task at temperature 0.7 ended at the turn limit that way."""
    replies = iter(["<execute>1 / 0</execute>", "<execute>final_answer(0)</execute>"])
    traj = Agent(ScriptedLLM(lambda m: next(replies)), session=session, max_turns=2).run("n?")
    assert traj.stop_reason == "solution" and traj.answer == "0"
    replies = iter(["<execute>1 / 0</execute>", "<execute>final_answer(0)</execute>",
                    "<execute>print(7)</execute>", "<execute>final_answer(7)</execute>"])
    traj = Agent(ScriptedLLM(lambda m: next(replies)), session=session, max_turns=4).run("n?")
    assert "no code computed the answer '0'" in traj.turns[1].observation
    assert traj.answer == "7"


def test_a_refused_answer_sent_again_is_not_told_to_answer_now(session):
    """Seen: `final_answer(None)` refused, sent again, and the repeat note said "If your
    work already answers the task, give the answer now"."""
    replies = iter(["<execute>x = None\nprint(x)</execute>",
                    "<execute>final_answer(x)</execute>", "<execute>final_answer(x)</execute>",
                    "<execute>final_answer(7)</execute>"])
    traj = Agent(ScriptedLLM(lambda m: next(replies)), session=session, resample=0).run("n?")
    again = traj.turns[2].observation
    assert "Your answer is None" in again and "second time" in again
    assert "give the answer now" not in again and "does not answer the task yet" in again
