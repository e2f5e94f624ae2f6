"""The Ray backend: same results file and resume as the local one."""

import pytest

from codeact.bench.oracle import OracleFactory
from codeact.bench.results import load_results
from codeact.bench.runner import RunConfig, run_suite
from codeact.bench.suites import load_suite


def test_ray_backend_local_instance(tmp_path):
    ray = pytest.importorskip("ray")
    tasks = load_suite("builtin-quick")[:4]
    out = tmp_path / "r.jsonl"
    cfg = RunConfig(formats=["json", "text"], workers=2, suite="builtin-quick")
    try:
        recs = run_suite(tasks[:2], None, cfg, out, progress=False, backend="ray",
                         llm_factory=OracleFactory("builtin-quick"))
        assert len(recs) == 4 and all(r["success"] for r in recs)
        # resume: only the new tasks run
        recs = run_suite(tasks, None, cfg, out, progress=False, backend="ray",
                         llm_factory=OracleFactory("builtin-quick"))
        assert {r["task"] for r in recs} == {t.name for t in tasks[2:]}
        assert len(load_results(out)) == 8
    finally:
        ray.shutdown()


def test_ray_needs_a_factory(tmp_path):
    with pytest.raises(ValueError, match="llm_factory"):
        run_suite(load_suite("builtin-quick")[:1], None, RunConfig(formats=["json"]),
                  tmp_path / "r.jsonl", progress=False, backend="ray")
