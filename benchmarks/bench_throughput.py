"""Tasks per minute of the benchmark harness with 1 and 2 (or more) workers.

    python benchmarks/bench_throughput.py --model qwen2.5-coder-1.5b \
        --suite builtin-quick --format json --limit 6 --workers 1,2

Each worker count runs the same tasks into a fresh results file; the figure is finished
runs per minute of wall-clock time (model loading excluded). ``--model bench:oracle``
measures the harness alone.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="qwen2.5-coder-1.5b")
    ap.add_argument("--suite", default="builtin-quick")
    ap.add_argument("--format", default="json")
    ap.add_argument("--filter", default=None)
    ap.add_argument("--limit", type=int, default=6)
    ap.add_argument("--workers", default="1,2")
    ap.add_argument("--max-turns", type=int, default=10)
    ap.add_argument("--sandbox", default="bwrap")
    args = ap.parse_args()

    from codeact.bench.runner import RunConfig, run_suite
    from codeact.bench.suites import load_suite, select

    tasks = select(load_suite(args.suite), filter=args.filter, limit=args.limit)
    if args.model.startswith("bench:oracle"):
        from codeact.bench.oracle import OracleLLM

        llm = OracleLLM(tasks)
    else:
        from codeact.llm.factory import make_llm

        llm = make_llm(args.model)
    formats = args.format.split(",")
    print(f"{len(tasks)} tasks x {formats} with {args.model}")
    for workers in (int(w) for w in args.workers.split(",")):
        cfg = RunConfig(formats=formats, workers=workers, max_turns=args.max_turns,
                        sandbox=args.sandbox, suite=args.suite)
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.monotonic()
            recs = run_suite(tasks, llm, cfg, Path(tmp) / "r.jsonl", progress=False)
            elapsed = time.monotonic() - t0
        ok = sum(r["success"] for r in recs)
        print(f"workers={workers}: {len(recs)} runs in {elapsed:.1f}s = "
              f"{60 * len(recs) / elapsed:.2f} tasks/min (success {ok}/{len(recs)})")


if __name__ == "__main__":
    main()
