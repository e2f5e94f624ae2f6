"""The uncomputed-answer check: a literal answer after every cell failed is a guess and
is refused each time (up to the loop's limit); computed answers are left alone."""

from codeact.agent import Agent
from codeact.agent.hints.base import FirmNote, GuessNote, RunStart, Step, Verdict
from codeact.agent.hints.uncomputed_answer import UncomputedAnswer, literal_answer_only
from codeact.agent.loop import MAX_FIRM_REFUSALS
from codeact.llm.scripted import ScriptedLLM
from codeact.runtime.observation import Observation
from codeact.tools import tool


@tool
def rating(hotel: str) -> float:
    """The guest rating of a hotel."""
    return {"Aurora": 4.6, "Bellevue": 4.1}[hotel]


TASK = "How many of the hotels Aurora and Bellevue have a rating of 4.5 or higher?"


def _hint(**run) -> UncomputedAnswer:
    hint = UncomputedAnswer()
    hint.reset(RunStart(TASK, tools=[rating], **run))
    return hint


def _ran(hint: UncomputedAnswer, code: str, ok: bool, stdout: str = "") -> None:
    hint.after_action(Step(1, code, "", ok, Observation(stdout=stdout)), Verdict())


def _answer(hint: UncomputedAnswer, value: str, code: str | None = None, ok: bool = True):
    code = code if code is not None else f"final_answer({value})"
    return hint.checks_answer(value, Step(2, code, "", ok, Observation()))


def test_literal_answer_only_tells_a_submission_from_a_computation():
    assert literal_answer_only("final_answer(0)")
    assert literal_answer_only("final_answer('lentil soup')\n")
    assert literal_answer_only("final_answer(answer=[1, 2])")
    assert not literal_answer_only("final_answer(count)")
    assert not literal_answer_only("n = 2\nfinal_answer(n)")
    assert not literal_answer_only("print(0)")
    assert not literal_answer_only("final_answer(")
    assert not literal_answer_only("")


def test_a_literal_after_only_failed_cells_is_refused_firmly():
    hint = _hint()
    _ran(hint, "import pandas as pd\npd.read_csv('hotels.csv')", ok=False)
    note = _answer(hint, "0")
    assert isinstance(note, FirmNote) and "'0'" in note and "guess" in note
    assert isinstance(note, GuessNote)  # kept if the run ends without another answer
    _ran(hint, "final_answer(0)", ok=True)  # the refused submission ran: still nothing computed
    assert isinstance(_answer(hint, "0"), FirmNote)
    assert isinstance(hint.checks_answer("0", None), FirmNote)  # an answer as text


def test_computed_answers_and_answers_before_any_cell_are_left_alone():
    assert _answer(_hint(), "4") is None  # knowledge: nothing ran
    hint = _hint()
    _ran(hint, "rating('Nowhere')", ok=False)
    assert _answer(hint, "1", "print(1)\nfinal_answer(sum(rating(h) >= 4.5 for h in "
                   "['Aurora', 'Bellevue']))") is None  # this cell computed it
    _ran(hint, "n = sum(rating(h) >= 4.5 for h in ['Aurora', 'Bellevue'])\nprint(n)", ok=True)
    assert _answer(hint, "1") is None  # a cell succeeded since
    hint = _hint()
    _ran(hint, "print('count: 1')\nrating('Nowhere')", ok=False, stdout="count: 1\n")
    assert _answer(hint, "1") is None  # printed before the error
    for run in ({"chat": True}, {"code_format": False}):
        hint = _hint(**run)
        _ran(hint, "rating('Nowhere')", ok=False)
        assert _answer(hint, "0") is None


def test_in_the_loop(session):
    replies = iter(["<execute>import pandas as pd\npd.read_csv('hotels.csv')</execute>",
                    "<execute>final_answer(0)</execute>",
                    "<execute>final_answer(2)</execute>",
                    "<execute>n = sum(rating(h) >= 4.5 for h in ['Aurora', 'Bellevue'])\n"
                    "print(n)</execute>",
                    "<execute>final_answer(n)</execute>"])
    traj = Agent(ScriptedLLM(lambda m: next(replies)), session=session,
                 tools=[rating]).run(TASK)
    assert "no code computed the answer '0'" in traj.turns[1].observation
    assert "no code computed the answer '2'" in traj.turns[2].observation  # firm: again
    assert traj.answer == "1" and len(traj.turns) == 5
    assert MAX_FIRM_REFUSALS >= 2


def test_a_refused_guess_is_kept_when_the_run_ends_without_another_answer(session):
    from codeact.events import FinalAnswerEvent

    failing = "<execute>import pandas as pd\npd.read_csv('hotels.csv')</execute>"
    replies = iter([failing, "<execute>final_answer(1)</execute>",
                    failing.replace("hotels", "h"), failing.replace("hotels", "x")])
    agent = Agent(ScriptedLLM(lambda m: next(replies)), session=session, tools=[rating],
                  max_turns=4)
    events = list(agent.stream(TASK))
    traj = events[-1].trajectory
    assert "no code computed the answer '1'" in traj.turns[1].observation
    assert traj.answer == "1" and traj.stop_reason == "solution" and len(traj.turns) == 4
    assert traj.metadata["fallback_answer"] == {"turn": 2, "stop": "max_turns"}
    answers = [e for e in events if isinstance(e, FinalAnswerEvent)]
    assert len(answers) == 1 and answers[0].fallback and answers[0].turn == 2
