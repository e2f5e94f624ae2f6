"""The idle-cells hint: a cell that only prints typed text is told it computed nothing."""

from codeact.agent import Agent
from codeact.agent.hints.base import RunStart, Step, Verdict
from codeact.agent.hints.idle_cells import IdleCells, computes_nothing
from codeact.llm.scripted import ScriptedLLM

TASK = "Which town pages mention a lighthouse?"


def test_computes_nothing_knows_typed_text_from_work():
    assert computes_nothing('print("This is the first step.")')
    assert computes_nothing("'a note'\npass\nprint('x', 1)")
    assert not computes_nothing("print(len('abc'))")
    assert not computes_nothing("x = 'text'\nprint(x)")
    assert not computes_nothing("print('a', file=log)")
    assert not computes_nothing("final_answer('Gullsby')")
    assert not computes_nothing("")
    assert not computes_nothing("print(")


def test_the_note_repeats_the_task_and_holds_back_an_answer():
    hint = IdleCells()
    hint.reset(RunStart(TASK))
    assert hint.after_action(Step(2, 'print("Step one.")', "Step one.", True),
                             Verdict()) is None  # one may be a heading
    advice = hint.after_action(Step(3, 'print("This is the second step.")', "This is the "
                                    "second step.", True), Verdict())
    assert advice is not None and advice.problem and TASK in (advice.note or "")
    assert hint.after_action(Step(4, "print(fetch('wiki/towns'))", "...", True),
                             Verdict()) is None
    for run in ({"code_format": False}, {"chat": True}):
        hint.reset(RunStart(TASK, **run))
        for turn in (1, 2):
            assert hint.after_action(Step(turn, 'print("x")', "x", True), Verdict()) is None
    hint.reset(RunStart("Print 'Hello, World!' and nothing else."))
    for turn in (1, 2):
        assert hint.after_action(Step(turn, "print('Hello, World!')", "Hello, World!\n",
                                      True), Verdict()) is None


def test_in_the_loop(session):
    replies = iter(['<execute>print("This is the first step.")</execute>',
                    '<execute>print("This is the second step.")</execute>',
                    "<execute>print(sorted(['Saltmere', 'Gullsby']))</execute>",
                    "<execute>final_answer(['Gullsby', 'Saltmere'])</execute>"])
    traj = Agent(ScriptedLLM(lambda m: next(replies)), session=session).run(TASK)
    assert "computed nothing" not in traj.turns[0].observation
    assert "computed nothing" in traj.turns[1].observation
    assert "computed nothing" not in traj.turns[2].observation
    assert traj.answer == "['Gullsby', 'Saltmere']"
