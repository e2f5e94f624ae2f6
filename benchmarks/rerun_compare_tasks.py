"""Run the first tasks of a `codeact train compare` side again with the agent on
PYTHONPATH, and print before/after per task: the stored side was made by one agent
commit (its settings file names the code digest), so this measures what later agent
changes do on the very tasks, model and settings of that side. Greedy runs are
reproducible on one machine.

    PYTHONPATH=src python benchmarks/rerun_compare_tasks.py runs/q05-compare/base \\
        runs/q05-base/model.gguf --first 29 -o results/rerun-base.jsonl

``--task NAME`` (repeatable) reruns the named tasks instead of the first ones: the
tasks where a change is meant to act.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from codeact.bench.results import load_results
from codeact.bench.runner import RunConfig, run_suite
from codeact.llm.factory import make_llm
from codeact.train.compare import CompareConfig, load_tasks


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("side", help="a compare side without suffix: OUT/base or OUT/tuned")
    ap.add_argument("model", help="the model that side ran (a .gguf path or a name)")
    which = ap.add_mutually_exclusive_group(required=True)
    which.add_argument("--first", type=int, help="how many of its tasks")
    which.add_argument("--task", action="append", help="a task by name (repeatable)")
    ap.add_argument("--suite", action="append", default=None,
                    help="the compare's --suite options (default: builtin-quick)")
    ap.add_argument("-o", "--output", required=True)
    args = ap.parse_args()
    lines = rerun(Path(args.side), make_llm(args.model), args.first or args.task,
                  tuple(args.suite or ("builtin-quick",)), Path(args.output))
    print("\n".join(lines))


def rerun(side: Path, llm: Any, first: int | list[str], suites: tuple[str, ...],
          output: Path, progress: bool = True) -> list[str]:
    """Run ``side``'s first stored tasks (or the ones named in ``first``) with ``llm``
    into ``output`` (resumed); a line per task, before and after, and a summary line."""
    settings = json.loads(side.with_suffix(".settings.json").read_text(encoding="utf-8"))
    cfg = CompareConfig(out=side.parent, suites=suites, max_turns=settings["max_turns"],
                        max_new_tokens=settings["max_new_tokens"],
                        exec_timeout=settings["exec_timeout"], sandbox=settings["sandbox"])
    before = {r["task"]: r for r in load_results(side.with_suffix(".tasks.jsonl"))}
    tasks = [t for t in load_tasks(cfg) if t.name in before]
    if isinstance(first, int):
        tasks = tasks[:first]
    else:
        unknown = sorted(set(first) - {t.name for t in tasks})
        if unknown:
            raise SystemExit(f"not tasks of {side}: {', '.join(unknown)}")
        tasks = [t for t in tasks if t.name in first]
    run_cfg = RunConfig(formats=["code"], max_turns=cfg.max_turns, sandbox=cfg.sandbox,
                        exec_timeout=cfg.exec_timeout, max_new_tokens=cfg.max_new_tokens,
                        suite="rerun-compare")
    run_suite(tasks, llm, run_cfg, output, resume=True, progress=progress)
    after = {r["task"]: r for r in load_results(output)}
    lines = []
    won = lost = 0
    for task in tasks:
        b, a = before[task.name], after.get(task.name, {})
        won += bool(a.get("success")) and not b.get("success")
        lost += bool(b.get("success")) and not a.get("success")
        lines.append(f"{task.name:40} before {_outcome(b):28} after {_outcome(a)}")
    solved_before = sum(bool(before[t.name].get("success")) for t in tasks)
    solved_after = sum(bool(after.get(t.name, {}).get("success")) for t in tasks)
    lines.append(f"{len(tasks)} tasks: {solved_before} solved before "
                 f"({settings.get('agent_code')}), {solved_after} after; {won} won, "
                 f"{lost} lost")
    return lines


def _outcome(record: dict[str, Any]) -> str:
    if not record:
        return "not run"
    mark = "right" if record.get("success") else "wrong"
    return f"{mark} {record.get('stop_reason')} {record.get('turns')}t"


if __name__ == "__main__":
    main()
