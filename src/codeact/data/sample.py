"""A small sample of a dataset for the repository (``examples/``), with its own card.

``codeact data sample SRC... -o examples/trajectories --n 50`` picks ``n`` kept
trajectories from one or more collections (their ``data.jsonl``, pooled; each
collection's settings and filter report come along from ``collection.json`` and
``filter_report.json``), spread over every source and
kind in turn so each kind shows up, the ones that fix a failed cell first within a kind
(self-debugging is what the recipe selects for), the rest in an order fixed by
``--seed``. It writes ``data.jsonl`` (the CodeActInstruct schema, records unchanged) and
``README.md`` (the dataset card of the sample, saying what it was drawn from), so a user
sees what the pipeline makes without running it.
"""

from __future__ import annotations

import json
import random
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from codeact.data import card, export, stats
from codeact.data.build import read_manifest
from codeact.data.tokens import approx_counter, counter_for

DATA = "data.jsonl"


def pick(records: Sequence[dict[str, Any]], n: int, seed: int = 0) -> list[dict[str, Any]]:
    """``n`` records, kinds in turn (round robin over ``family/kind`` in sorted order);
    within a kind, trajectories with a fixed error first, each group shuffled by ``seed``."""
    if n < 1:
        raise ValueError("the sample needs n >= 1")
    rng = random.Random(seed)
    by_kind: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for rec in records:
        meta = rec.get("metadata") or {}
        by_kind[f"{meta.get('family') or '?'}/{meta.get('kind') or '?'}"].append(rec)
    queues = []
    for kind in sorted(by_kind):
        fixed = [r for r in by_kind[kind] if (r.get("metadata") or {}).get("recovered")]
        other = [r for r in by_kind[kind] if not (r.get("metadata") or {}).get("recovered")]
        rng.shuffle(fixed)
        rng.shuffle(other)
        queues.append(fixed + other)
    out: list[dict[str, Any]] = []
    while len(out) < n and any(queues):
        for q in queues:
            if q and len(out) < n:
                out.append(q.pop(0))
    return out


def _read_source(src: str | Path) -> tuple[Path, list[dict[str, Any]]]:
    src = Path(src)
    data = src / DATA if src.is_dir() else src
    if not data.is_file():
        raise FileNotFoundError(f"no {DATA} at {src}: run `codeact collect` (or `codeact "
                                "data export`) first")
    records = export.read_jsonl(data)
    if not records:
        raise ValueError(f"{data} holds no trajectory")
    return data, records


def _collection(data: Path) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """A data file's collection: its directory's name, settings and filter report."""
    report_path = data.parent / "filter_report.json"
    report = json.loads(report_path.read_text(encoding="utf-8")) if report_path.exists() \
        else {}
    return data.parent.name, read_manifest(data.parent), report


def write_sample(src: str | Path | Sequence[str | Path], out_dir: str | Path, n: int = 50,
                 *, seed: int = 0, title: str = "codeact trajectories (sample)"
                 ) -> dict[str, Any]:
    """Pick ``n`` trajectories of the collections or datasets at ``src`` (directories
    with ``data.jsonl``, or the files; one or several, pooled) and write them with a card
    into ``out_dir``."""
    sources = [src] if isinstance(src, str | Path) else list(src)
    if not sources:
        raise ValueError("the sample needs at least one source")
    read = [_read_source(one) for one in sources]
    records = [rec for _, recs in read for rec in recs]
    chosen = pick(records, n, seed)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    export.write_jsonl(chosen, out / DATA)
    collections = [_collection(data) for data, _ in read]
    types = {str((r.get("metadata") or {}).get("source")):
             str((r.get("metadata") or {}).get("source_type") or "") for r in chosen}
    prompts = card.prompts_in(chosen)
    teachers = {str(m["teacher"]) for _, m, _ in collections if m.get("teacher")}
    counter = counter_for(teachers.pop()) if len(teachers) == 1 else approx_counter(
        "several teachers" if teachers else "no teacher recorded")
    st = stats.compute(chosen, counter.count, counter.name)
    where = ", ".join(str(data) for data, _ in read)
    text = card.render(st, run={"source_types": types}, filters=None, prompts=prompts,
                       files={"jsonl": DATA}, title=title, sample_of=(len(records), where),
                       collections=collections)
    (out / "README.md").write_text(text, encoding="utf-8")
    return {"records": len(chosen), "from": len(records), "kinds": len(st.by_kind),
            "recovered": st.recovered, "path": str(out / DATA)}
