"""chat-20: the rules on hand-made trajectories, and a scripted chat through the runner."""

from codeact.bench.chat import grade, load
from codeact.bench.run_one import RunConfig, run_task
from codeact.llm.scripted import ScriptedLLM
from codeact.trajectory import ExecOutput, Trajectory, TurnRecord


def _traj(answer: str, cells: list[str] = (), images: int = 0) -> Trajectory:
    turns = [TurnRecord(turn=i + 1, completion="", action="code", code=c,
                        output=ExecOutput(images=["x"] * (images if i == 0 else 0)))
             for i, c in enumerate(cells)]
    return Trajectory(task="t", answer=answer, stop_reason="solution", turns=turns)


def test_twenty_requests_each_with_something_to_check():
    tasks = load()
    assert len(tasks) == 20 and len({t.name for t in tasks}) == 20
    for t in tasks:
        meta = t.metadata
        assert meta["chat"] and (meta["values"] or meta["image"] or meta["ordered"]), t.name
    assert sum(bool(t.metadata["follow_ups"]) for t in tasks) == 2
    assert sum(t.files is not None for t in tasks) == 3


def test_the_rules():
    meta = {"values": ["1628.89"], "image": False}
    assert grade([_traj("It grows to 1,628.89 after ten years.")], meta) == \
        (True, "all rules pass")
    assert grade([_traj("1628.89")], meta) == (False, "failed: reply")
    assert grade([_traj("It grows to about 1629.")], meta) == (False, "failed: values")
    assert grade([_traj("The average is 1628.8912.")], meta)[0]  # rounds to the value
    assert not grade([_traj("It is 11628.89 in all.")], meta)[0]
    plot = {"values": [], "image": True}
    assert grade([_traj("Here is the bar chart above.", ["plot()"], images=1)], plot)[0]
    assert grade([_traj("Here is the bar chart above.", ["plot()"])], plot) == \
        (False, "failed: image")
    twice = [_traj("I printed it for you.", ["print(1)", "print(1)"])]
    assert grade(twice, {"values": []}) == (False, "failed: no repeats")
    ordered = {"ordered": ["apple", "banana", "fig", "pear"]}
    assert grade([_traj("Sorted: apple, banana, fig, pear.")], ordered)[0]
    assert not grade([_traj("Sorted: banana, apple, fig, pear.")], ordered)[0]


def test_a_follow_up_runs_in_the_same_conversation_and_is_graded():
    task = next(t for t in load() if t.name == "chat/follow-up-sum")
    llm = ScriptedLLM(["<execute>x = sum(range(1, 101))\nprint(x)</execute>",
                       "I set x to 5050, the sum of 1 to 100.",
                       "<execute>print(x / 4)</execute>",
                       "Divided by 4, x is 1262.5."])
    rec = run_task(task, "code", llm, RunConfig(max_turns=4))
    assert rec["success"], rec["check_detail"]
    assert rec["trajectory"]["metadata"]["conversation"][0]["answer"].startswith("I set x")
