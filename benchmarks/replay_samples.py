"""Run collection samples again exactly as `codeact collect` ran them: the same generated
task, sample seed, temperature, turn and token limits, with the code on PYTHONPATH. A
sampled run is reproducible on one machine, so a hint can be checked on the very sample
where a fault was seen (before: the collection's own run; after: this one).

    PYTHONPATH=src python benchmarks/replay_samples.py --seed 2 --n 300 --max-turns 6 \\
        -o results/replay.jsonl 'math/combinatorics/s2-8@0' 'frames/merge/s2-2@0'
"""

from __future__ import annotations

import argparse

from codeact.bench.runner import RunConfig, run_suite
from codeact.data.sources import SourceSpec, with_samples
from codeact.llm.factory import make_llm


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("names", nargs="+", help="runs as results files name them: TASK@SAMPLE")
    ap.add_argument("--source", default="coding,files,math,tools,frames,apis")
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--n", type=int, required=True, help="the collection's --n")
    ap.add_argument("--samples", type=int, default=2)
    ap.add_argument("--difficulty", default="1,2,3")
    ap.add_argument("--temperature", type=float, default=0.3)
    ap.add_argument("--max-turns", type=int, default=10)
    ap.add_argument("--max-new-tokens", type=int, default=1024)
    ap.add_argument("--resample", type=int, default=2)
    ap.add_argument("--model", default="qwen2.5-coder-1.5b")
    ap.add_argument("-o", "--output", required=True)
    args = ap.parse_args()
    spec = SourceSpec(sources=args.source.split(","), n=args.n, seed=args.seed, split="train",
                      difficulty=[int(d) for d in args.difficulty.split(",")])
    tasks = {t.name: t for t in with_samples(spec.base_tasks(), args.samples)}
    missing = [name for name in args.names if name not in tasks]
    if missing:
        raise SystemExit(f"not in that collection: {', '.join(missing)}")
    cfg = RunConfig(formats=["code"], max_turns=args.max_turns, sandbox="bwrap",
                    exec_timeout=30.0, task_timeout=1800, max_new_tokens=args.max_new_tokens,
                    temperature=args.temperature, resample=args.resample, suite="collect")
    run_suite([tasks[name] for name in args.names], make_llm(args.model), cfg, args.output,
              resume=True)


if __name__ == "__main__":
    main()
