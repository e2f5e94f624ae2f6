"""Ablations at a fraction of the cost: rerun only the tasks where the mechanism acted.

At temperature 0 a run is a function of what the model sees. A task on which a mechanism
never acted in the full agent's run (no repeat was resampled, no exchange collapsed, no
cell failed so no kernel note could be added, no answer was checked and refused) shows the
model the same context with the mechanism switched off, so its ablated run is the full
run again. This script names the tasks where the mechanism acted (or could have: the test
errs on the side of rerunning), as a `--filter` regex for `codeact bench`, and afterwards
merges the ablated reruns with the full run's other tasks into the ablated figure.

    python benchmarks/ablation_subset.py filter results/tp.jsonl resample
    codeact bench --suite thirdparty --resample 0 --filter "$(python benchmarks/...)" \\
        -o results/tp-no-resample.jsonl
    python benchmarks/ablation_subset.py merge results/tp.jsonl results/tp-no-resample.jsonl \\
        resample

The same holds for a mechanism added after the full run that acts only in a condition
the run shows (``runaway``: code cut off by the length limit): rerun where the condition
occurred, at the commit that adds it, and merge; the figure printed is then "with" it.

`--controls N` adds N tasks where the mechanism did not act to the filter: `merge` checks
that their ablated runs match the full ones (same success, same answer, same turns), the
assumption everything else rests on. `notes_heading` changes every observation, so it acts
everywhere and needs the whole suite.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable
from typing import Any

from codeact.agent.history import collapse_repeats
from codeact.bench.report import wilson_interval
from codeact.bench.results import load_results

Record = dict[str, Any]


def _turns(rec: Record) -> list[dict[str, Any]]:
    return list((rec.get("trajectory") or {}).get("turns") or [])


def _resampled(rec: Record) -> bool:
    return bool(rec.get("resampled_turns")) or any(t.get("resampled") for t in _turns(rec))


def _collapsed(rec: Record) -> bool:
    """Whether the view of any turn differed from the conversation by a collapse."""
    messages = list((rec.get("trajectory") or {}).get("messages") or [])
    for i, m in enumerate(messages):
        if m.get("role") == "assistant" and collapse_repeats(messages[:i]) != messages[:i]:
            return True
    return False


def _failed_cell(rec: Record) -> bool:
    """A kernel note is only ever added to a failed cell's error."""
    return any(t.get("exec_ok") is False for t in _turns(rec))


def _answer_checked_away(rec: Record) -> bool:
    """An answer was sent before the last turn: only a refusal lets the run go on."""
    turns = _turns(rec)
    return any(t.get("action") == "answer_refused" or "final_answer(" in str(t.get("code"))
               for t in turns[:-1])


def _cut_off_code(rec: Record) -> bool:
    """Code was cut off by the length limit (and not run) in some turn."""
    return any("cut off by the length limit" in str(t.get("observation")) for t in _turns(rec))


ACTED: dict[str, Callable[[Record], bool]] = {
    "resample": _resampled,
    "collapse": _collapsed,
    "did_you_mean": _failed_cell,
    "answer_check": _answer_checked_away,
    "notes_heading": lambda rec: True,
    "runaway": _cut_off_code,
}
ADDED = {"runaway"}  # mechanisms the full run lacked: the reruns add them


def acted_on(records: list[Record], mechanism: str) -> list[str]:
    """Names of the tasks where ``mechanism`` acted in these (full-agent) runs."""
    test = ACTED[mechanism]
    return [r["task"] for r in records if test(r)]


def task_filter(names: list[str]) -> str:
    """A `--filter` regex that matches exactly these task names."""
    return "^(" + "|".join(re.escape(n) for n in names) + ")$"


def merge(full: list[Record], ablated: list[Record], acted: set[str]
          ) -> tuple[list[Record], list[tuple[str, bool]]]:
    """The ablated suite: reruns where the mechanism acted, the full run elsewhere; and
    for control tasks (rerun though it did not act), whether the rerun matched."""
    reruns = {r["task"]: r for r in ablated}
    merged, controls = [], []
    for rec in full:
        name = rec["task"]
        if name in acted:
            if name not in reruns:
                raise SystemExit(f"{name}: the mechanism acted here but it was not rerun")
            merged.append(reruns[name])
            continue
        merged.append(rec)
        if name in reruns:
            again = reruns[name]
            same = (bool(again.get("success")) == bool(rec.get("success"))
                    and again.get("answer") == rec.get("answer")
                    and again.get("turns") == rec.get("turns"))
            controls.append((name, same))
    return merged, controls


def _rate(records: list[Record]) -> str:
    solved = sum(bool(r.get("success")) for r in records)
    low, high = wilson_interval(solved, len(records))
    return f"{solved}/{len(records)} = {100 * solved / len(records):.1f}% " \
           f"(95% CI {100 * low:.0f}-{100 * high:.0f})"


def _shape(records: list[Record]) -> str:
    """How the runs ended: stuck, at the turn limit, mean turns."""
    stuck = sum(r.get("stop_reason") == "stuck" for r in records)
    limit = sum(r.get("stop_reason") == "max_turns" for r in records)
    turns = sum(int(r.get("turns") or 0) for r in records) / max(1, len(records))
    return f"stuck {stuck}, at turn limit {limit}, mean turns {turns:.2f}"


def _only_code(records: list[Record]) -> list[Record]:
    return [r for r in records if r.get("format", "code") == "code"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    f = sub.add_parser("filter", help="the --filter regex of the tasks to rerun")
    f.add_argument("full")
    f.add_argument("mechanism", choices=sorted(ACTED))
    f.add_argument("--controls", type=int, default=0,
                   help="also rerun this many tasks where it did not act")
    m = sub.add_parser("merge", help="the ablated figure from the full run and the reruns")
    m.add_argument("full")
    m.add_argument("ablated")
    m.add_argument("mechanism", choices=sorted(ACTED))
    m.add_argument("--output", "-o", help="write the merged (ablated) suite's records here, "
                   "for `codeact bench report`")
    args = parser.parse_args(argv)

    full = _only_code(load_results(args.full))
    acted = acted_on(full, args.mechanism)
    if args.command == "filter":
        calm = [r["task"] for r in full if r["task"] not in set(acted)]
        names = acted + calm[:args.controls]
        print(f"{args.mechanism} acted on {len(acted)} of {len(full)} tasks",
              file=sys.stderr)
        print(task_filter(names))
        return 0
    merged, controls = merge(full, _only_code(load_results(args.ablated)), set(acted))
    changed = [(a["task"], bool(a.get("success"))) for a, b in zip(merged, full, strict=True)
               if bool(a.get("success")) != bool(b.get("success"))]
    added = args.mechanism in ADDED
    print(f"{'base run' if added else 'full agent'}:          {_rate(full)}; {_shape(full)}")
    print(f"{'with' if added else 'without'} {args.mechanism}: {_rate(merged)}; "
          f"{_shape(merged)}  (rerun: {len(acted)} tasks)")
    if args.output:
        with open(args.output, "w", encoding="utf-8") as out:
            out.writelines(json.dumps(r) + "\n" for r in merged)
    for name, solved in changed:
        with_it = "with" if added else "without"
        print(f"  {name}: {'solved only' if solved else 'lost'} {with_it} it")
    if controls:
        same = sum(ok for _, ok in controls)
        print(f"controls (not acted, rerun): {same}/{len(controls)} identical")
        for name, ok in controls:
            if not ok:
                print(f"  {name}: differs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
