"""HumanEval ceiling: the model asked once for the function, no agent loop.

The agent loop should keep what the model can do; this measures what it can do. Each
problem's prompt goes to the model once (greedy), the reply's code is graded by the same
grader as `codeact bench --suite humaneval` (the problem's tests, in a fresh sandboxed
session), and pass@1 is printed with a 95% Wilson interval.

    python benchmarks/humaneval_ceiling.py                      # humaneval-40, default model
    python benchmarks/humaneval_ceiling.py --all -m smollm2-135m -o ceiling.jsonl

Results are appended to ``--output`` (one line per problem) and resumed from it.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from rich.progress import Progress

from codeact.bench.humaneval import grading_program, load_problems, run_in_sandbox, subset_ids
from codeact.bench.report import wilson_interval
from codeact.llm.factory import make_llm

SYSTEM = "You are an expert Python programmer."
USER = ("Complete the following Python function. Reply with the complete function "
        "definition, with any imports it needs, in one ```python code block.\n\n"
        "```python\n{prompt}```")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-m", "--model", default="qwen2.5-coder-1.5b")
    ap.add_argument("--all", action="store_true", help="all 164 problems (default: 40)")
    ap.add_argument("-o", "--output", default="results/humaneval-ceiling.jsonl")
    ap.add_argument("--max-new-tokens", type=int, default=768)
    args = ap.parse_args()

    problems = load_problems()
    ids = list(problems) if args.all else subset_ids()
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    done = {}
    if out.exists():
        for line in out.read_text().splitlines():
            rec = json.loads(line)
            if rec.get("model") == args.model:
                done[rec["task"]] = rec
    llm = make_llm(args.model)
    with Progress() as bar, out.open("a") as fh:
        job = bar.add_task("humaneval ceiling", total=len(ids), completed=len(
            [i for i in ids if i in done]))
        for task_id in ids:
            if task_id in done:
                continue
            problem = problems[task_id]
            t0 = time.monotonic()
            reply = llm.complete([{"role": "system", "content": SYSTEM},
                                  {"role": "user", "content": USER.format(
                                      prompt=problem["prompt"])}],
                                 max_tokens=args.max_new_tokens, temperature=0.0)
            ok, detail = run_in_sandbox(grading_program(problem, reply.text), "bwrap", 30.0)
            rec = {"task": task_id, "model": args.model, "success": ok, "detail": detail,
                   "seconds": round(time.monotonic() - t0, 2), "reply": reply.text}
            fh.write(json.dumps(rec) + "\n")
            fh.flush()
            done[task_id] = rec
            bar.advance(job)
    solved = sum(bool(done[i]["success"]) for i in ids)
    lo, hi = wilson_interval(solved, len(ids))
    print(f"{args.model}: pass@1 {solved}/{len(ids)} = {100 * solved / len(ids):.1f}% "
          f"(95% CI {100 * lo:.0f}-{100 * hi:.0f}%), no agent loop")


if __name__ == "__main__":
    main()
