"""Raw collection records → a dataset directory: filter, export, card, reports.

Writes into ``out_dir``: ``data.jsonl`` (and ``hf/``, ``data.parquet`` when asked),
``README.md`` (the card), ``filter_report.json`` and ``decontamination.json``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codeact.bench.results import load_results
from codeact.data import card, export, filters, stats
from codeact.data.tokens import counter_for

MANIFEST = "collection.json"
RAW = "raw.jsonl"


@dataclass
class BuildResult:
    records: list[dict[str, Any]]
    report: filters.FilterReport
    stats: stats.Stats
    files: dict[str, str]


def read_manifest(directory: str | Path) -> dict[str, Any]:
    p = Path(directory) / MANIFEST
    if not p.exists():
        return {}
    try:
        return json.loads(p.read_text(encoding="utf-8"))
    except json.JSONDecodeError:
        return {}


def build(raw: str | Path, out_dir: str | Path, cfg: filters.FilterConfig, *,
          formats: Sequence[str] = ("jsonl",), tokenizer: str | None = None,
          run: dict[str, Any] | None = None, index: Any = None) -> BuildResult:
    """Filter the raw records of ``raw`` and write the dataset into ``out_dir``.
    ``run``: the collection manifest (defaults to the one next to ``raw``)."""
    raw = Path(raw)
    if not raw.exists():
        raise FileNotFoundError(f"no such file: {raw}")
    run = run if run is not None else read_manifest(raw.parent)
    records = load_results(raw)
    kept, report = filters.apply(records, cfg, index=index)
    published = [export.to_published(it, run) for it in kept]
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files = export.write(published, out, formats)
    counter = counter_for(tokenizer or run.get("teacher"))
    st = stats.compute(published, counter.count, counter.name)
    prompts = card.prompts_in(published)
    (out / "filter_report.json").write_text(json.dumps(report.to_dict(), indent=1),
                                            encoding="utf-8")
    if run and out.resolve() != raw.parent.resolve():  # the export keeps its settings
        (out / MANIFEST).write_text(json.dumps(run, indent=1), encoding="utf-8")
    dec = dict(run.get("decontamination") or {})
    (out / "decontamination.json").write_text(json.dumps({
        "before_collection": dec, "at_export": report.decontamination}, indent=1),
        encoding="utf-8")
    (out / "README.md").write_text(card.render(
        st, run=run, report=report.to_dict(), filters=cfg.to_dict(), prompts=prompts,
        files=files), encoding="utf-8")
    return BuildResult(published, report, st, files)
