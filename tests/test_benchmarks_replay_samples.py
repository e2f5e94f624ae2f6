"""benchmarks/replay_samples.py: a collection's runs named as results files name them."""

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "replay_samples.py"


def test_a_run_the_collection_never_had_is_named_before_any_model_loads(tmp_path):
    out = subprocess.run([sys.executable, str(SCRIPT), "--seed", "2", "--n", "4",
                          "--model", "no-such-model", "-o", str(tmp_path / "r.jsonl"),
                          "math/combinatorics/s9-9@0", "nope@1"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode != 0
    assert "not in that collection: math/combinatorics/s9-9@0, nope@1" in out.stderr
    assert not (tmp_path / "r.jsonl").exists()
