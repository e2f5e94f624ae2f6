"""Self-consistency curve: success at K = 1, 3, 5 ... from one `--samples K` results file.

A `codeact bench --samples 5` run keeps every sample's answer (`sample_answers`, in run
order). Voting over the first k of them is exactly what `--samples k` would have chosen
with the same seeds (each sample's seed depends only on its index), so one K = 5 run gives
the figures for K = 1, 3 and 5 at a fifth of the cost of three runs. A run that stopped
once its vote was decided (the default; `--sample-all` makes all K) holds fewer answers;
the vote over its first k is still what `--samples k` chooses: the runs it did not make
could not have changed the leader. Mean agreement then counts the runs made. Each voted answer is
graded by the suite's own checker; the table prints success with a 95% Wilson interval and
the mean agreement.

    python benchmarks/samples_curve.py results/b24-code-k5.jsonl
    python benchmarks/samples_curve.py results/tp-k5.jsonl --k 1 2 3 4 5 --suite thirdparty

Suites whose checker needs the trajectory (chat-20) cannot be re-graded this way.
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from typing import Any

from codeact.agent.consistency import choose
from codeact.bench.report import wilson_interval
from codeact.bench.results import load_results
from codeact.bench.suites import load_suite
from codeact.bench.task import CheckContext, Task


def curve(records: list[dict[str, Any]], tasks: dict[str, Task],
          ks: list[int]) -> dict[int, tuple[int, int, float]]:
    """For each k: (solved, tasks graded, mean agreement) voting over the first k answers."""
    out: dict[int, tuple[int, int, float]] = {}
    for k in ks:
        solved = graded = 0
        agreement = 0
        for rec in records:
            answers = rec["sample_answers"][:k]
            task = tasks[rec["task"]]
            index, agree = choose(answers)
            answer = answers[index] if answers else None
            ok = answer is not None and task.check(
                answer, CheckContext(task=task, expected=task.expected)).success
            solved += ok
            graded += 1
            agreement += agree
        out[k] = (solved, graded, agreement / graded if graded else 0.0)
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("results", help="a bench results file written with --samples K")
    ap.add_argument("--k", type=int, nargs="+", default=[1, 3, 5],
                    help="sample counts to report (each at most the run's K)")
    ap.add_argument("--suite", help="suite to grade with (default: the records' suite)")
    args = ap.parse_args(argv)

    records = [r for r in load_results(args.results) if r.get("sample_answers")]
    if not records:
        raise SystemExit(f"{args.results}: no records with sample_answers "
                         "(run codeact bench with --samples K, K >= 2)")
    # the K each run was made with (a run that stopped once its vote was decided holds
    # fewer answers, and its vote over them is the vote over K)
    run_k = min(int(r.get("samples") or len(r["sample_answers"])) for r in records)
    if max(args.k) > run_k:
        raise SystemExit(f"--k {max(args.k)} is more than the {run_k} samples recorded")
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for rec in records:
        groups[(args.suite or rec["suite"], rec["format"])].append(rec)
    print("| suite | format | K | solved | rate (95% CI) | mean agreement |")
    print("|---|---|---:|---:|---|---:|")
    for (suite, fmt), recs in sorted(groups.items()):
        tasks = {t.name: t for t in load_suite(suite)}
        for k, (solved, n, agree) in curve(recs, tasks, args.k).items():
            lo, hi = wilson_interval(solved, n)
            print(f"| {suite} | {fmt} | {k} | {solved}/{n} | {solved / n:.1%} "
                  f"({lo:.0%}-{hi:.0%}) | {agree:.2f} of {k} |")


if __name__ == "__main__":
    main()
