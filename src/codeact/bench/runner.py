"""Run a suite: every (task, format) pair through the Agent, results to JSONL.

Local backend: a bounded thread pool shares one LLM. An in-process model (llama.cpp,
transformers) is wrapped in a lock so generations never overlap (workers then overlap
generation with code execution and grading instead of oversubscribing the CPU); HTTP
backends are called concurrently. Ray backend: each (task, format) is a Ray task that
reloads the suite by its spec and builds its own LLM from a picklable factory; at most
``workers`` are in flight. Both write the same results file and resume the same way.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from codeact.bench.results import ResultsWriter, finished_keys
from codeact.bench.task import CheckContext, Task, ToolContext, to_jsonable
from codeact.llm.base import LLM
from codeact.llm.serialized import SerializedLLM, serialize
from codeact.llm.serialized import is_in_process as is_in_process  # re-exported

FORMATS = ("code", "json", "text")
# Deprecated, unused: whether a model is in-process is its class's ``in_process``
# attribute (codeact.llm.registry); kept importable for one release.
IN_PROCESS_BACKENDS = ("LlamaCppLLM", "TransformersLLM")


@dataclass
class RunConfig:
    """Options of a benchmark run (everything but the tasks and the model)."""

    formats: list[str] = field(default_factory=lambda: ["code"])
    max_turns: int = 10
    workers: int = 1
    sandbox: Any = "bwrap"
    exec_timeout: float = 30.0
    task_timeout: float | None = 600.0  # wall-clock limit per run; None: no limit
    max_new_tokens: int = 1024
    temperature: float = 0.0
    suite: str = "builtin"
    keep_trajectory: bool = True
    prompt: str | None = None  # code-format prompt variant or file (None: default)
    context_window: int | None = None  # None: what the backend knows

    def __post_init__(self) -> None:
        bad = [f for f in self.formats if f not in FORMATS]
        if bad or not self.formats:
            raise ValueError(f"unknown action format(s) {bad}; choose from {', '.join(FORMATS)}")
        if self.workers < 1:
            raise ValueError("workers must be at least 1")


# One wrapper for everyone now lives in codeact.llm.serialized; LockedLLM stays importable
# from here for one release.
LockedLLM = SerializedLLM


def share(llm: LLM, workers: int) -> LLM:
    """The LLM to hand to ``workers`` threads: locked if it is an in-process model."""
    return serialize(llm) if workers > 1 else llm


def prompt_fields(cfg: RunConfig, action_format: str) -> dict[str, str]:
    """The prompt a run of this format uses: its variant name and hash (the results key
    includes the hash, so two prompts can share a results file)."""
    from codeact.prompts import load_prompt

    prompt = load_prompt(cfg.prompt if action_format == "code" else None, action_format)
    return {"prompt": prompt.name, "prompt_sha": prompt.sha}


def run_task(task: Task, action_format: str, llm: LLM, cfg: RunConfig) -> dict[str, Any]:
    """Run one task in one format and grade it; never raises (crashes become records)."""
    from codeact.agent import Agent

    started = time.time()
    t0 = time.monotonic()
    base = {
        "suite": cfg.suite,
        "task": task.name,
        "domain": task.domain,
        "format": action_format,
        "model": getattr(llm, "name", type(llm).__name__),
        "expected": task.expected_json(),
        **prompt_fields(cfg, action_format),
    }
    if task.metadata:
        base["task_metadata"] = to_jsonable(task.metadata)
    agent = None
    timer = None
    workspace = None
    timed_out = threading.Event()
    try:
        tools = task.make_tools(ToolContext(action_format=action_format, sandbox=cfg.sandbox))
        if task.files is not None:  # the task's files go into the workspace before the run
            workspace = tempfile.mkdtemp(prefix="codeact-task-")
            task.write_files(workspace)
        agent = Agent(llm, tools, action_format=action_format, sandbox=cfg.sandbox,
                      workspace=workspace,
                      max_turns=cfg.max_turns, time_limit=cfg.task_timeout,
                      exec_timeout=cfg.exec_timeout, max_new_tokens=cfg.max_new_tokens,
                      temperature=cfg.temperature, prompt=cfg.prompt if
                      action_format == "code" else None, context_window=cfg.context_window)
        if cfg.task_timeout:
            def on_timeout() -> None:
                timed_out.set()
                agent.interrupt()

            timer = threading.Timer(cfg.task_timeout, on_timeout)
            timer.daemon = True
            timer.start()
        traj = agent.run(task.instruction)
        if timer is not None:
            timer.cancel()
        stop = traj.stop_reason
        is_timeout = timed_out.is_set() or stop == "time_limit"
        if stop == "solution":
            check = task.check(traj.answer, CheckContext(
                task=task, expected=task.expected, sandbox=cfg.sandbox, trajectory=traj,
                exec_timeout=cfg.exec_timeout))
        else:
            from codeact.bench.task import CheckResult

            check = CheckResult(False, 0.0, "timed out" if is_timeout else f"no answer ({stop})")
        record = {
            **base,
            "status": "error" if stop == "error" else "done",
            "success": bool(check.success),
            "score": check.score,
            "answer": traj.answer,
            "check_detail": check.detail,
            "turns": len(traj.turns),
            "prompt_tokens": traj.prompt_tokens,
            "completion_tokens": traj.completion_tokens,
            "total_tokens": traj.total_tokens,
            "wall_seconds": round(time.monotonic() - t0, 3),
            "stop_reason": "timeout" if timed_out.is_set() else stop,
            "timed_out": is_timeout,
            "error": traj.error,
            "started_at": started,
            "finished_at": time.time(),
            "trajectory": traj.to_dict() if cfg.keep_trajectory else None,
        }
        if stop == "error" and traj.error:
            record["check_detail"] = traj.error
        return record
    except Exception as exc:
        return {
            **base,
            "status": "crashed",
            "success": False,
            "score": 0.0,
            "answer": None,
            "check_detail": "",
            "turns": 0,
            "prompt_tokens": 0,
            "completion_tokens": 0,
            "total_tokens": 0,
            "wall_seconds": round(time.monotonic() - t0, 3),
            "stop_reason": "crashed",
            "timed_out": False,
            "error": f"{type(exc).__name__}: {exc}",
            "traceback": traceback.format_exc(limit=8),
            "started_at": started,
            "finished_at": time.time(),
            "trajectory": None,
        }
    finally:
        if timer is not None:
            timer.cancel()
        if agent is not None:
            try:
                agent.close()
            except Exception:
                pass
        if workspace is not None:
            shutil.rmtree(workspace, ignore_errors=True)


def plan(tasks: Sequence[Task], formats: Sequence[str],
         skip: set[tuple[str, str]] = frozenset()) -> list[tuple[Task, str]]:
    """(task, format) pairs to run, task-major so formats compare early, minus ``skip``."""
    return [(t, f) for t in tasks for f in formats if (t.name, f) not in skip]


class _Progress:
    """A rich progress bar with the running success rate (or nothing when disabled)."""

    def __init__(self, total: int, skipped: int, enabled: bool) -> None:
        self.done = 0
        self.ok = 0
        self.total = total
        self._bar = None
        if enabled:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self._bar = Progress(TextColumn("[bold]{task.description}"), BarColumn(),
                                 MofNCompleteColumn(), TextColumn("{task.fields[rate]}"),
                                 TimeElapsedColumn(), TimeRemainingColumn())
            note = f" (skipping {skipped} finished)" if skipped else ""
            self._id = self._bar.add_task(f"bench{note}", total=total, rate="")
            self._bar.start()

    def update(self, record: dict[str, Any]) -> None:
        self.done += 1
        self.ok += bool(record.get("success"))
        if self._bar is not None:
            rate = f"success {self.ok}/{self.done} ({100 * self.ok / self.done:.0f}%)"
            self._bar.update(self._id, advance=1, rate=rate)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()


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
    skip = finished_keys(output, model=model, prompt_sha=code_sha) if resume else set()
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


def config_dict(cfg: RunConfig) -> dict[str, Any]:
    return asdict(cfg)
