"""Run (task, format) pairs as Ray tasks: a local Ray instance or a cluster address.

Each Ray task reloads the suite by its spec, or by a picklable ``task_loader`` for tasks
that come from no suite (generated training tasks); tasks hold closures and host-side
tool state, so they are looked up by name rather than shipped. Each builds the model with
the picklable ``llm_factory``, cached per worker process. At most ``cfg.workers`` run
at once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from codeact.bench.run_one import RunConfig, run_task
from codeact.bench.task import Task

if TYPE_CHECKING:
    from ray import ObjectRef

_SUITES: dict[str, dict[str, Task]] = {}
_LLMS: dict[str, Any] = {}


def _factory_key(factory: Callable[[], Any]) -> str:
    """A key that is the same for equal factories across deserialisations."""
    try:
        import hashlib

        from ray import cloudpickle

        # ray.cloudpickle re-exports dumps by a star import its stubs do not declare
        dumps = cloudpickle.dumps  # pyright: ignore[reportPrivateImportUsage]
        return hashlib.sha256(dumps(factory)).hexdigest()
    except Exception:
        return repr(factory)


def _remote_run(suite: str | Callable[[], Any], task_name: str, fmt: str,
                llm_factory: Callable[[], Any], cfg: RunConfig) -> dict[str, Any]:
    """``suite``: a suite spec, or a picklable callable returning the tasks."""
    from codeact.bench.suites import load_suite

    suite_key = suite if isinstance(suite, str) else _factory_key(suite)
    if suite_key not in _SUITES:
        tasks = load_suite(suite) if isinstance(suite, str) else suite()
        _SUITES[suite_key] = {t.name: t for t in tasks}
    llm_key = _factory_key(llm_factory)
    llm = _LLMS.get(llm_key)
    if llm is None:
        llm = _LLMS[llm_key] = llm_factory()
    return run_task(_SUITES[suite_key][task_name], fmt, llm, cfg)


RAY_START_ATTEMPTS = 3


def _init_ray(ray: Any, kwargs: dict[str, Any]) -> None:
    """Start (or join) Ray, retrying a local start: Ray gives its raylet a fixed 30 s to
    register, which a busy 2-core machine can miss ("The current node timed out during
    startup"); a second try on a warmed-up machine succeeds."""
    for attempt in range(1, RAY_START_ATTEMPTS + 1):
        try:
            ray.init(**kwargs)
            return
        except Exception as exc:
            if "address" in kwargs or attempt == RAY_START_ATTEMPTS or \
                    "timed out during startup" not in str(exc):
                raise
            ray.shutdown()


def run_ray(todo: list[tuple[Task, str]], llm_factory: Callable[[], Any], cfg: RunConfig,
            emit: Callable[[dict[str, Any]], None], *, address: str | None = None,
            should_stop: Callable[[], bool] | None = None,
            task_loader: Callable[[], Any] | None = None) -> None:
    try:
        import ray
    except ImportError:
        raise ImportError("the ray backend needs ray: pip install 'codeact[ray]'") from None
    if not ray.is_initialized():
        kwargs: dict[str, Any] = {"ignore_reinit_error": True, "log_to_driver": False}
        if address:
            kwargs["address"] = address
        else:
            kwargs["include_dashboard"] = False
        _init_ray(ray, kwargs)
    remote = ray.remote(num_cpus=1, max_retries=0)(_remote_run)
    factory_ref = ray.put(llm_factory)
    # a suite spec, or the task loader as an object ref (ray resolves it in the worker)
    suite_ref: str | ObjectRef[str | Callable[[], Any]] = (
        cfg.suite if task_loader is None else ray.put(task_loader))
    items = iter(todo)
    pending: dict[Any, tuple[Task, str]] = {}
    while True:
        while len(pending) < cfg.workers and not (should_stop is not None and should_stop()):
            nxt = next(items, None)
            if nxt is None:
                break
            task, fmt = nxt
            ref = remote.remote(suite_ref, task.name, fmt, factory_ref, cfg)
            pending[ref] = nxt
        if not pending:
            break
        ready, _ = ray.wait(list(pending), num_returns=1)
        for ref in ready:
            task, fmt = pending.pop(ref)
            try:
                emit(ray.get(ref))
            except Exception as exc:  # the worker died: record a crash, rerun on resume
                emit({"suite": cfg.suite, "task": task.name, "domain": task.domain,
                      "format": fmt, "status": "crashed", "success": False, "score": 0.0,
                      "turns": 0, "total_tokens": 0, "wall_seconds": 0.0,
                      "stop_reason": "crashed", "error": f"{type(exc).__name__}: {exc}",
                      "trajectory": None})
