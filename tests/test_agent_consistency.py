"""Self-consistency: normalised answers, the majority vote, and K real runs."""

import pytest

from codeact.agent import Agent
from codeact.agent.consistency import choose, decided, normalise_answer, stream_samples, vote
from codeact.events import DoneEvent
from codeact.llm.scripted import ScriptedLLM
from codeact.runtime import Session
from codeact.trajectory import Trajectory


def _run(answer: str | None, stop: str = "solution") -> Trajectory:
    return Trajectory(task="t", answer=answer, stop_reason=stop if answer else "max_turns")


def test_answers_compare_by_meaning_not_by_spelling():
    assert normalise_answer(" 42.0 ") == normalise_answer("42") == "42"
    assert normalise_answer("8,384,727") == "8384727"
    assert normalise_answer("'Paris'.") == normalise_answer("paris") == "paris"
    assert normalise_answer("0.5") == normalise_answer(".50") == "0.5"
    assert normalise_answer("[1, 2]") == "[1, 2]"


def test_the_majority_wins_ties_go_to_the_earliest_and_unanswered_runs_do_not_vote():
    runs = [_run("7"), _run(None), _run("8"), _run("8.0"), _run("7")]
    result = vote(runs)
    assert result.chosen is runs[0] and result.agreement == 2 and result.k == 5
    result = vote([_run(None), _run("9"), _run("8"), _run("8")])
    assert result.chosen.answer == "8" and result.agreement == 2
    result = vote([_run(None), _run(None)])
    assert result.chosen is not None and result.agreement == 0
    with pytest.raises(ValueError):
        vote([])


def test_choose_votes_over_recorded_answers_as_a_run_would():
    # what benchmarks/samples_curve.py re-votes from a results file's sample_answers
    assert choose(["7", None, "8", "8.0", "7"]) == (0, 2)  # a tie: the earliest
    assert choose([None, "8", "8.0", "7"]) == (1, 2)
    assert choose([None, None]) == (0, 0)
    assert choose([]) == (0, 0)


def test_k_runs_in_fresh_kernels_vote_and_all_are_kept():
    replies = iter(["<execute>x = 5\nfinal_answer(x)</execute>",
                    "<execute>print(x)</execute>", "<execute>print(6)</execute>",
                    "<solution>6</solution>", "<execute>final_answer(5)</execute>"])
    llm = ScriptedLLM(lambda m: next(replies))
    session = Session(sandbox="bwrap")
    session.start()
    try:
        agent = Agent(llm, session=session, max_turns=3, temperature=0.0, seed=3)
        events = list(stream_samples(agent, "five", 3, temperature=0.7))
    finally:
        session.close()
    done = [e for e in events if isinstance(e, DoneEvent)]
    assert len(done) == 1 and events[-1] is done[0]
    traj = done[0].trajectory
    samples = traj.metadata["samples"]
    assert traj.answer == "5" and samples["agreement"] == 2 and samples["k"] == 3
    assert samples["answers"] == ["5", "6", "5"] and samples["chosen"] == 0
    assert len(samples["others"]) == 2
    # the second run started in a fresh kernel: x from the first run was gone
    second = Trajectory.from_dict(samples["others"][0])
    assert "NameError" in second.turns[0].observation
    assert agent.temperature == 0.0 and agent.seed == 3  # restored


def test_the_vote_is_decided_when_the_runs_left_cannot_change_it():
    assert decided(["7", "7.0"], 3) and not decided(["7", "8"], 3)
    assert not decided(["7", "7"], 5) and decided(["7", "7", "7"], 5)
    assert decided(["7", "8", "7", "7"], 5) and not decided(["7", "8", "7"], 5)
    assert not decided([None, None], 3) and decided(["7", None], 2)  # nothing runs after
    assert not decided(["7", None], 3)  # one more run could tie with 7


def _sampled(k: int, all_runs: bool) -> tuple[Trajectory, int]:
    llm = ScriptedLLM(lambda m: "<execute>final_answer(7)</execute>")
    session = Session(sandbox="bwrap")
    session.start()
    try:
        agent = Agent(llm, session=session, max_turns=3)
        events = list(stream_samples(agent, "seven", k, all_runs=all_runs))
    finally:
        session.close()
    return events[-1].trajectory, len(llm.calls)


def test_runs_stop_once_the_vote_is_decided_unless_all_are_asked_for():
    traj, calls = _sampled(5, all_runs=False)
    samples = traj.metadata["samples"]
    assert (samples["k"], samples["ran"], samples["agreement"], calls) == (5, 3, 3, 3)
    assert samples["answers"] == ["7", "7", "7"] and samples["chosen"] == 0
    traj, calls = _sampled(5, all_runs=True)
    samples = traj.metadata["samples"]
    assert (samples["k"], samples["ran"], samples["agreement"], calls) == (5, 5, 5, 5)
