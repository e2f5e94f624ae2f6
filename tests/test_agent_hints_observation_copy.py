"""The observation-copy veto: a cell that pastes back text the run showed (an error, a
note) is asked again instead of run; on its own and in the loop with a real kernel."""

from codeact.agent import Agent
from codeact.agent.hints.base import Step, Verdict
from codeact.agent.hints.observation_copy import ObservationCopy, copied_lines
from codeact.llm.scripted import ScriptedLLM

ERROR = ("Cell In[1], line 2\n      1 for trip in open_trips():\n----> 2     if trip[2] > 0:\n"
         "TypeError: '>' not supported between instances of 'str' and 'int'\n"
         "Values on the failing line: trip = ('T1', 'load_kg') (tuple of 2 str).")
PASTED = ("TypeError: '>' not supported between instances of 'str' and 'int'\n"
          "Values on the failing line: trip = ('T1', 'load_kg') (tuple of 2 str).")


def _seen(hint: ObservationCopy, output: str) -> None:
    hint.after_action(Step(1, "x", output, False), Verdict())


def test_a_pasted_error_is_vetoed_and_code_is_not():
    hint = ObservationCopy()
    hint.reset()
    assert hint.vetoes(PASTED) is None  # nothing shown yet
    _seen(hint, ERROR)
    reason = hint.vetoes(PASTED)
    assert reason and reason.startswith("it is not code: it copies text the run showed")
    # the loop's framing counts as copied too
    assert hint.vetoes("[codeact notes, not output of your code]\nNote: your last 2 cells "
                       "failed.") is not None
    # code that parses runs, even when it repeats a shown line
    assert hint.vetoes("for trip in open_trips():\n    print(trip)") is None
    # mostly new text that does not parse: the model's own (broken) code, not a copy
    broken = ("TypeError: '>' not supported between instances of 'str' and 'int'\n"
              "loads = [float(t[2]) for t in open_trips()\nprint(loads)\nx = (")
    assert copied_lines(broken, {"TypeError: '>' not supported between instances of 'str' "
                                 "and 'int'"}) == (1, 4)
    assert hint.vetoes(broken) is None
    assert hint.vetoes("%pip install foo\nValues on the failing line: trip = ('T1', "
                       "'load_kg') (tuple of 2 str).") is None  # a magic: IPython's
    hint.reset()
    assert hint.vetoes(PASTED) is None


class SamplingScript(ScriptedLLM):
    can_vary = True


def test_in_the_loop_the_pasted_error_is_resampled_unrun(session):
    llm = SamplingScript(["<execute>x = ('a', 'b')\nx[2]</execute>",
                          "<execute>IndexError: tuple index out of range</execute>",
                          "<execute>final_answer(len(x))</execute>",
                          "<execute>final_answer(len(x))</execute>"])  # checked: again
    traj = Agent(llm, session=session, max_turns=4).run("How long is the tuple?")
    assert traj.answer == "2"
    assert [t.code for t in traj.turns][:2] == ["x = ('a', 'b')\nx[2]", "final_answer(len(x))"]
    assert traj.turns[1].resampled and "IndexError" in traj.turns[1].resampled[0]
    assert "it is not code" in llm.calls[2][-1]["content"]
