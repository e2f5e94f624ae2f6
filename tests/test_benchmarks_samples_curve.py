"""benchmarks/samples_curve.py: success at K = 1, 3, 5 from one `--samples 5` results file."""

import importlib.util
import json
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "samples_curve.py"
spec = importlib.util.spec_from_file_location("samples_curve", SCRIPT)
assert spec is not None and spec.loader is not None
samples_curve = importlib.util.module_from_spec(spec)
spec.loader.exec_module(samples_curve)


def record(task: str, answers: list[str], k: int = 5) -> dict:
    return {"suite": "builtin-24", "task": task, "format": "code", "samples": k,
            "sample_runs": len(answers), "sample_answers": answers}


def test_votes_over_the_first_k_answers_and_takes_runs_stopped_once_decided(tmp_path,
                                                                            capsys):
    results = tmp_path / "k5.jsonl"
    records = [
        # stopped after three runs: the vote was decided, and it is the vote at K = 5
        record("units/miles-to-km", ["42.16", "42.16", "42.16"]),
        # wrong first, right by majority from K = 3 on (seen in a real K = 5 run)
        record("units/sum-lengths", ["161.44", "192.24", "192.24", "no idea", "106.0"]),
    ]
    results.write_text("".join(json.dumps(r) + "\n" for r in records))
    samples_curve.main([str(results)])
    rows = [line for line in capsys.readouterr().out.splitlines() if "builtin-24" in line]
    assert [row.split(" | ")[2:4] for row in rows] == [["1", "1/2"], ["3", "2/2"],
                                                       ["5", "2/2"]]


def test_asks_for_no_more_samples_than_the_runs_were_made_with(tmp_path):
    results = tmp_path / "k3.jsonl"
    results.write_text(json.dumps(record("units/miles-to-km", ["42.16"] * 2, k=3)) + "\n")
    with pytest.raises(SystemExit, match="more than the 3 samples"):
        samples_curve.main([str(results), "--k", "1", "5"])
