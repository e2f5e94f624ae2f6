"""Trajectories serialise to one JSON line and load back unchanged."""

import json

from codeact.trajectory import Trajectory, TurnRecord


def make() -> Trajectory:
    traj = Trajectory(task="add 1 and 2", model="scripted", action_format="code")
    traj.messages = [{"role": "user", "content": "add 1 and 2\nwith a\nnewline"}]
    traj.turns = [
        TurnRecord(turn=1, completion="<execute>1+2", action="code", code="1+2",
                   observation="Out: 3", exec_ok=True, prompt_tokens=50,
                   completion_tokens=5, llm_seconds=0.1, exec_seconds=0.01),
        TurnRecord(turn=2, completion="<solution>3", action="solution", prompt_tokens=60,
                   completion_tokens=3),
    ]
    traj.stop_reason, traj.answer, traj.wall_seconds = "solution", "3", 0.5
    return traj


def test_round_trip_is_one_line():
    traj = make()
    line = traj.to_json()
    assert "\n" not in line
    assert json.loads(line)["total_tokens"] == 118
    back = Trajectory.from_json(line)
    assert back == traj
    assert back.solved and back.total_tokens == 118


def test_unknown_fields_are_kept_not_fatal():
    data = json.loads(make().to_json())
    data["future_field"] = 1
    back = Trajectory.from_dict(data)
    assert back.metadata["unknown_fields"] == {"future_field": 1}


def test_not_solved_without_answer():
    traj = Trajectory(task="x", stop_reason="max_turns")
    assert not traj.solved and traj.total_tokens == 0
