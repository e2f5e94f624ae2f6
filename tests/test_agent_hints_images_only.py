"""The images-only hint: a cell whose output is only images, in chat and in tasks."""

from codeact.agent import Agent
from codeact.agent.hints import default_hint_names
from codeact.agent.hints.base import RunStart, Step, Verdict
from codeact.agent.hints.images_only import CHAT_NOTE, TASK_NOTE, ImagesOnly
from codeact.llm.scripted import ScriptedLLM
from codeact.runtime.observation import Observation


def _hint(chat: bool) -> ImagesOnly:
    hint = ImagesOnly()
    hint.reset(RunStart("t", chat=chat))
    return hint


def _advise(hint: ImagesOnly, obs: Observation):
    return hint.after_action(Step(1, "plt.show()", "", obs.ok, obs), Verdict())


def test_images_alone_get_the_note_once_per_run():
    hint = _hint(chat=True)
    advice = _advise(hint, Observation(images=[b"png"]))
    assert advice is not None and advice.note == CHAT_NOTE
    assert _advise(hint, Observation(images=[b"png"])) is None
    hint.reset(RunStart("t"))
    advice = _advise(hint, Observation(images=[b"png"]))
    assert advice is not None and advice.note == TASK_NOTE
    assert "images_only" in default_hint_names()


def test_images_with_values_errors_or_an_answer_get_nothing():
    hint = _hint(chat=True)
    assert _advise(hint, Observation(images=[b"png"], stdout="1 4 9\n")) is None
    assert _advise(hint, Observation(images=[b"png"], result="<Axes>")) is None
    assert _advise(hint, Observation(images=[b"png"], final_answer="done")) is None
    assert _advise(hint, Observation(stdout="x\n")) is None
    assert _advise(hint, Observation()) is None
    assert ImagesOnly().after_action(Step(1, '["t", {}]', "", True), Verdict()) is None


def test_in_the_loop(session):
    plot = "import matplotlib.pyplot as plt\nplt.plot([1, 3, 2])\nplt.show()"
    replies = iter([f"<execute>{plot}</execute>", "<execute>final_answer('a line')</execute>"])
    traj = Agent(ScriptedLLM(lambda m: next(replies)), session=session).run("plot a line")
    assert "the image marker is not a value" in traj.turns[0].observation
