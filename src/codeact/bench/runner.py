"""Run a suite: every (task, format) pair through the Agent, results to JSONL.

One run is :func:`codeact.bench.run_one.run_task`; this module schedules many.
Local backend: a bounded thread pool shares one LLM. An in-process model (llama.cpp,
transformers) is wrapped in a lock so generations never overlap (workers then overlap
generation with code execution and grading instead of oversubscribing the CPU); HTTP
backends are called concurrently. Ray backend: each (task, format) is a Ray task that
reloads the suite by its spec and builds its own LLM from a picklable factory; at most
``workers`` are in flight. Both write the same results file and resume the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any

from codeact.bench.results import ResultsWriter, finished_keys
from codeact.bench.run_one import RunConfig, prompt_fields, run_task
from codeact.bench.task import Task
from codeact.llm.base import LLM
from codeact.llm.serialized import serialize
from codeact.progress import CountBar

__all__ = ["plan", "run_suite", "share"]


def plan(tasks: Sequence[Task], formats: Sequence[str],
         skip: Collection[tuple[str, str]] = frozenset()) -> list[tuple[Task, str]]:
    """(task, format) pairs to run, task-major so formats compare early, minus ``skip``."""
    return [(t, f) for t in tasks for f in formats if (t.name, f) not in skip]


def share(llm: LLM, workers: int) -> LLM:
    """The LLM to hand to ``workers`` threads: locked if it is an in-process model."""
    return serialize(llm) if workers > 1 else llm


class _Progress:
    """The bench's bar, with the running success rate (or nothing when disabled)."""

    def __init__(self, total: int, skipped: int, enabled: bool) -> None:
        self.done = 0
        self.ok = 0
        self.total = total
        note = f" (skipping {skipped} finished)" if skipped else ""
        self._bar = CountBar(f"bench{note}", total, enabled=enabled)

    def update(self, record: dict[str, Any]) -> None:
        self.done += 1
        self.ok += bool(record.get("success"))
        self._bar.advance(f"success {self.ok}/{self.done} ({100 * self.ok / self.done:.0f}%)")

    def close(self) -> None:
        self._bar.close()


def run_suite(
    tasks: Sequence[Task],
    llm: LLM | None,
    cfg: RunConfig,
    output: str | Path,
    *,
    resume: bool = True,
    progress: bool = True,
    backend: str = "local",
    ray_address: str | None = None,
    llm_factory: Callable[[], LLM] | None = None,
    on_result: Callable[[dict[str, Any]], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    task_loader: Callable[[], Sequence[Task]] | None = None,
) -> list[dict[str, Any]]:
    """Run ``tasks`` in every format of ``cfg``; append one line per finished run to
    ``output``; return the new records. With ``resume`` finished runs are skipped.

    ``should_stop()`` is asked before each new run starts (a time budget): once it says
    True no new run starts and the runs in flight finish. ``task_loader`` (picklable,
    for the Ray backend) rebuilds the tasks in a worker when they do not come from a
    suite spec (generated tasks); by default workers load ``cfg.suite``."""
    model = getattr(llm, "name", None) if llm is not None else None
    code_sha = prompt_fields(cfg, "code")["prompt_sha"]
    skip = finished_keys(output, model=model, prompt_sha=code_sha,
                         ablate=cfg.variant()) if resume else set()
    todo = plan(tasks, cfg.formats, skip)
    n_skipped = len(tasks) * len(cfg.formats) - len(todo)
    records: list[dict[str, Any]] = []
    bar = _Progress(len(todo), n_skipped, progress)

    def emit(record: dict[str, Any]) -> None:
        writer.write(record)
        records.append(record)
        bar.update(record)
        if on_result is not None:
            on_result(record)

    with ResultsWriter(output) as writer:
        try:
            if not todo:
                return records
            if backend == "ray":
                if llm_factory is None:
                    raise ValueError("the ray backend needs llm_factory (a picklable callable)")
                from codeact.bench.ray_backend import run_ray

                run_ray(todo, llm_factory, cfg, emit, address=ray_address,
                        should_stop=should_stop, task_loader=task_loader)
            elif backend == "local":
                if llm is None:
                    if llm_factory is None:
                        raise ValueError("give an llm or an llm_factory")
                    llm = llm_factory()
                _run_local(todo, share(llm, cfg.workers), cfg, emit, should_stop)
            else:
                raise ValueError(f"unknown backend {backend!r}; choose local or ray")
        finally:
            bar.close()
    return records


def _run_local(todo: list[tuple[Task, str]], llm: LLM, cfg: RunConfig,
               emit: Callable[[dict[str, Any]], None],
               should_stop: Callable[[], bool] | None = None) -> None:
    def stopping() -> bool:
        return should_stop is not None and should_stop()

    if cfg.workers == 1:
        for task, fmt in todo:
            if stopping():
                return
            emit(run_task(task, fmt, llm, cfg))
        return
    pending: set[Future[dict[str, Any]]] = set()
    items = iter(todo)
    with ThreadPoolExecutor(max_workers=cfg.workers, thread_name_prefix="bench") as pool:
        try:
            while True:
                while len(pending) < cfg.workers and not stopping():
                    nxt = next(items, None)
                    if nxt is None:
                        break
                    pending.add(pool.submit(run_task, nxt[0], nxt[1], llm, cfg))
                if not pending:
                    break
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for fut in done:
                    emit(fut.result())
        except BaseException:
            for fut in pending:
                fut.cancel()
            raise
