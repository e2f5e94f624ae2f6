"""Collection: run a teacher model through the real agent loop on generated tasks.

Tasks come from :class:`~codeact.data.sources.SourceSpec` (generator families and extra
sources), are decontaminated against every registered evaluation suite *before* any
model time is spent, and are repeated ``samples`` times. The runs go through the bench
runner (:func:`codeact.bench.runner.run_suite`): the same Agent loop, workers, Ray
backend, grading and resume, writing one raw JSON line per (task, sample) to
``OUT/raw.jsonl``. Each run keeps the agent's quality loop: a reply that repeats an action
that already ran is resampled up to ``resample`` times (``--resample``, default 2), so with
``--samples K --temperature T`` one task yields K different runs, some through errors and
fixes; the progress bar, the manifest and the card count the kept runs "with a fix" (a
failed cell followed by one that ran cleanly). Rerunning the same command resumes.
Afterwards the raw file is filtered and exported (:mod:`codeact.data.build`).
"""

from __future__ import annotations

import contextlib
import json
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from codeact.bench.runner import RunConfig, run_suite
from codeact.data import build as build_mod
from codeact.data import decontam, filters
from codeact.data.export import teacher_tokens
from codeact.data.sources import SourceSpec, with_samples
from codeact.llm.base import LLM
from codeact.progress import CountBar


@dataclass
class CollectConfig:
    sources: list[str] = field(default_factory=lambda: ["all"])
    n: int = 100
    seed: int = 1
    split: str = "train"
    difficulty: int | list[int] | None = None  # a level, levels to draw from, None: all
    samples: int = 1
    temperature: float = 0.0
    resample: int = 2  # the agent's retries of a reply that repeats an action (0: off)
    max_turns: int = 10
    workers: int = 1
    backend: str = "local"
    ray_address: str | None = None
    max_hours: float | None = None
    sandbox: Any = "bwrap"
    exec_timeout: float = 30.0
    task_timeout: float | None = 600.0
    max_new_tokens: int = 1024
    teacher: str = ""

    def __post_init__(self) -> None:
        from codeact.data.generators import parse_sources
        from codeact.data.sources import check_source

        self.sources = parse_sources(self.sources)
        for name in self.sources:
            check_source(name)
        if self.n < 1:
            raise ValueError("--n must be at least 1")
        if self.samples < 1:
            raise ValueError("--samples must be at least 1")
        if self.samples > 1 and self.temperature <= 0:
            raise ValueError("--samples > 1 needs --temperature > 0 (greedy decoding "
                             "would repeat the same trajectory)")
        if self.resample < 0:
            raise ValueError("--resample must be at least 0")
        if self.backend not in ("local", "ray"):
            raise ValueError("--backend must be local or ray")
        if self.max_hours is not None and self.max_hours <= 0:
            raise ValueError("--max-hours must be positive")


@dataclass
class CollectResult:
    out_dir: Path
    planned: int
    ran: int
    wall_seconds: float
    stopped_by_budget: bool
    build: build_mod.BuildResult | None = None


class _Bar:
    """Progress with kept/total and kept tokens (kept: the per-record filters)."""

    def __init__(self, total: int, skipped: int, fcfg: filters.FilterConfig,
                 enabled: bool) -> None:
        self.fcfg = fcfg
        self.done = self.kept = self.tokens = self.fixed = 0
        note = f" (skipping {skipped} finished)" if skipped else ""
        self._bar = CountBar(f"collect{note}", total, enabled=enabled)

    def update(self, record: dict[str, Any]) -> None:
        self.done += 1
        if filters.verdict(record, self.fcfg):
            self.kept += 1
            self.tokens += teacher_tokens(record)
            item = filters.Item.from_record(record)
            self.fixed += bool(item is not None and filters.has_recovery(item))
        self._bar.advance(f"kept {self.kept}/{self.done} · {self.fixed} with a fix "
                          f"· {self.tokens} tokens")

    def close(self) -> None:
        self._bar.close()


@contextlib.contextmanager
def _terminate_as_exit() -> Iterator[None]:
    """SIGTERM (a scheduler, ``timeout``, ``kill``) raises SystemExit while the teacher
    runs, so the manifest still records the run's wall time and counts; by default the
    process would die without running any ``finally``."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, frame: Any) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _write_manifest(out: Path, data: dict[str, Any]) -> None:
    tmp = out / (build_mod.MANIFEST + ".tmp")
    tmp.write_text(json.dumps(data, indent=1, default=str), encoding="utf-8")
    tmp.replace(out / build_mod.MANIFEST)


# What a run is made of: a collection resumed with another value would mix runs made two
# ways under one manifest (which keeps only the last settings). --n, --max-hours, workers,
# backend, timeouts and --samples may change (runs are keyed by task name and sample).
RUN_SETTINGS = ("sources", "seed", "split", "difficulty", "temperature", "resample",
                "max_turns", "max_new_tokens", "teacher")


def check_resume(cfg: CollectConfig, out_dir: str | Path) -> None:
    """Refuse to resume a collection in ``out_dir`` that ran with other settings: the
    runs already there were made one way, and the manifest would record only the new
    way. Raises ValueError naming each difference."""
    out = Path(out_dir)
    manifest = build_mod.read_manifest(out)
    raw = out / build_mod.RAW
    if not manifest.get("runs") or not raw.exists() or raw.stat().st_size == 0:
        return
    now = json.loads(json.dumps(asdict(cfg), default=str))
    changed = [f"{key} {manifest[key]!r} (now {now.get(key)!r})" for key in RUN_SETTINGS
               if key in manifest and key in now and now[key] != manifest[key]
               and not (key == "teacher" and not now[key])]
    if changed:
        raise ValueError(f"{out} holds runs collected with other settings: "
                         f"{', '.join(changed)}. Resuming would mix runs made two ways; "
                         "give another --output, or the same settings to resume")


def collect(cfg: CollectConfig, out_dir: str | Path, *, llm: LLM | None = None,
            llm_factory: Callable[[], LLM] | None = None,
            fcfg: filters.FilterConfig | None = None, formats: tuple[str, ...] = ("jsonl",),
            tokenizer: str | None = None, progress: bool = True, export: bool = True,
            index: decontam.EvalIndex | None = None) -> CollectResult:
    """Run the teacher on the tasks of ``cfg``; then filter and export into ``out_dir``."""
    fcfg = fcfg or filters.FilterConfig()
    if not cfg.teacher and llm is not None:
        cfg.teacher = str(getattr(llm, "name", "") or type(llm).__name__)
    out = Path(out_dir)
    check_resume(cfg, out)
    out.mkdir(parents=True, exist_ok=True)
    spec = SourceSpec(sources=list(cfg.sources), n=cfg.n, seed=cfg.seed, split=cfg.split,
                      difficulty=cfg.difficulty, samples=cfg.samples)
    base = spec.base_tasks()
    decon: dict[str, Any] = {}
    if fcfg.decontaminate:
        index = index or decontam.build_index()
        base, hits = decontam.split_clean(base, index)
        decon = {"suites": index.suites, "skipped": index.skipped,
                 "hits": [h.to_dict() for h in hits]}
    tasks = with_samples(base, cfg.samples)
    manifest = build_mod.read_manifest(out)
    source_types = {}
    for t in base:
        source_types[str(t.metadata.get("source"))] = str(t.metadata.get("source_type"))
    manifest.update({k: v for k, v in asdict(cfg).items() if k not in ("sandbox",)})
    manifest.update({"action_format": "code", "decontamination": decon,
                     "source_types": source_types, "planned": len(tasks)})
    _write_manifest(out, manifest)

    raw = out / build_mod.RAW
    rcfg = RunConfig(formats=["code"], max_turns=cfg.max_turns, workers=cfg.workers,
                     sandbox=cfg.sandbox, exec_timeout=cfg.exec_timeout,
                     task_timeout=cfg.task_timeout, max_new_tokens=cfg.max_new_tokens,
                     temperature=cfg.temperature, resample=cfg.resample, suite="collect")
    from codeact.bench.results import finished_keys

    done_before = len(finished_keys(raw) & {(t.name, "code") for t in tasks})
    bar = _Bar(len(tasks) - done_before, done_before, fcfg, progress)
    t0 = time.monotonic()
    deadline = None if cfg.max_hours is None else t0 + cfg.max_hours * 3600
    stopped = {"budget": False}

    def should_stop() -> bool:
        if deadline is not None and time.monotonic() > deadline:
            stopped["budget"] = True
            return True
        return False

    new: list[dict[str, Any]] = []
    try:
        with _terminate_as_exit():
            new = run_suite(tasks, llm, rcfg, raw, resume=True, progress=False,
                            backend=cfg.backend, ray_address=cfg.ray_address,
                            llm_factory=llm_factory, on_result=bar.update,
                            should_stop=should_stop, task_loader=spec)
    finally:
        bar.close()
        wall = time.monotonic() - t0
        runs = manifest.setdefault("runs", [])
        runs.append({"started_at": time.time() - wall, "wall_seconds": round(wall, 1),
                     "ran": bar.done, "kept": bar.kept, "kept_with_fix": bar.fixed,
                     "kept_tokens": bar.tokens,
                     "tasks_per_min": round(bar.done / wall * 60, 3) if wall > 0 else None,
                     "workers": cfg.workers, "backend": cfg.backend})
        _write_manifest(out, manifest)
    result = CollectResult(out, len(tasks), len(new), wall, stopped["budget"])
    if export:
        result.build = build_mod.build(raw, out, fcfg, formats=formats, tokenizer=tokenizer,
                                       run=manifest, index=index)
    return result
