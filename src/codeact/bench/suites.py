"""Finding suites: built-in names, ``module:callable`` specs and entry points.

``--suite`` accepts

- ``builtin`` (the 96-task multi-tool suite), ``builtin-quick`` (two tasks per domain),
  ``builtin-24`` (four per domain: every 4th), ``builtin-mini`` (one per domain),
  ``thirdparty`` (36 tasks, 5 domains, tools written as external suites write them) and
  ``thirdparty-quick`` (two tasks per domain),
  ``humaneval`` (the 164 HumanEval problems, needs ``pip install 'codeact[humaneval]'``),
  ``humaneval-40`` (a fixed subset: every 4th problem, HumanEval/0, /4, ..., /156),
  ``chat-20`` (twenty chat requests, run in chat mode and graded by the reply's rules);
- ``my_pkg.my_suite:load`` (the current directory is importable): a callable returning
  tasks (or an iterable of tasks itself);
- ``my_pkg.my_suite``: a module with a ``load()`` function or a ``TASKS`` list;
- the name of an entry point in the ``codeact.bench_suites`` group, so an installed
  package can register ``[project.entry-points."codeact.bench_suites"] mysuite =
  "my_pkg.my_suite:load"``.

Each item may be a :class:`~codeact.bench.task.Task` or a dict with the same fields.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import re
import sys
from collections.abc import Callable, Iterable
from importlib.metadata import entry_points
from typing import Any

from codeact.bench.task import Task
from codeact.errors import CodeactError

ENTRY_POINT_GROUP = "codeact.bench_suites"


class SuiteError(CodeactError, ValueError):
    """A suite could not be found or loaded; the message says why."""


def _builtin() -> list[Task]:
    from codeact.bench import builtin

    return builtin.load()


def _builtin_quick() -> list[Task]:
    from codeact.bench import builtin

    return builtin.load_quick()


def _builtin_24() -> list[Task]:
    from codeact.bench import builtin

    return builtin.load_24()


def _builtin_mini() -> list[Task]:
    from codeact.bench import builtin

    return builtin.load_mini()


def _thirdparty() -> list[Task]:
    from codeact.bench import thirdparty

    return thirdparty.load()


def _thirdparty_quick() -> list[Task]:
    from codeact.bench import thirdparty

    return thirdparty.load_quick()


def _chat_20() -> list[Task]:
    from codeact.bench import chat

    return chat.load()


def _humaneval() -> list[Task]:
    from codeact.bench import humaneval

    return humaneval.load()


def _humaneval_40() -> list[Task]:
    from codeact.bench import humaneval

    return humaneval.load_subset()


BUILTIN_SUITES: dict[str, Callable[[], Iterable[Any]]] = {
    "builtin": _builtin,
    "builtin-quick": _builtin_quick,
    "builtin-24": _builtin_24,
    "builtin-mini": _builtin_mini,
    "thirdparty": _thirdparty,
    "thirdparty-quick": _thirdparty_quick,
    "humaneval": _humaneval,
    "humaneval-40": _humaneval_40,
    "chat-20": _chat_20,
}


def _as_task(item: Any) -> Task:
    if isinstance(item, Task):
        return item
    if isinstance(item, dict):
        try:
            return Task(**item)
        except TypeError as exc:
            raise SuiteError(f"bad task dict {item.get('name', '?')!r}: {exc}") from None
    raise SuiteError(f"a suite must yield Task objects or dicts, got {type(item).__name__}")


def _resolve(spec: str) -> Callable[[], Iterable[Any]] | Iterable[Any]:
    if spec in BUILTIN_SUITES:
        return BUILTIN_SUITES[spec]
    cwd = os.getcwd()
    if cwd not in sys.path and "" not in sys.path:
        sys.path.append(cwd)  # like `python -m`: suites in the current directory import
    if ":" not in spec and "." not in spec:
        eps = entry_points(group=ENTRY_POINT_GROUP)
        for ep in eps:
            if ep.name == spec:
                try:
                    return ep.load()
                except Exception as exc:
                    raise SuiteError(f"entry point {spec!r} failed to load: {exc}") from None
        if importlib.util.find_spec(spec) is None:
            known = sorted([*BUILTIN_SUITES, *(ep.name for ep in eps)])
            raise SuiteError(f"unknown suite {spec!r}; known: {', '.join(known)}, "
                             "or module:callable")
    module_name, _, attr = spec.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise SuiteError(f"cannot import suite module {module_name!r}: {exc}") from None
    if attr:
        obj: Any = module
        for part in attr.split("."):
            if not hasattr(obj, part):
                raise SuiteError(f"{module_name!r} has no attribute {attr!r}")
            obj = getattr(obj, part)
        return obj
    for name in ("load", "TASKS", "tasks"):
        if hasattr(module, name):
            return getattr(module, name)
    raise SuiteError(f"module {module_name!r} has no load() function or TASKS list")


def load_suite(spec: str) -> list[Task]:
    """Load and validate a suite's tasks; names must be unique."""
    source = _resolve(spec)
    try:
        items = source() if callable(source) else source
        tasks = [_as_task(item) for item in items]
    except SuiteError:
        raise
    except Exception as exc:
        raise SuiteError(f"suite {spec!r} failed to load: {type(exc).__name__}: {exc}") \
            from exc
    seen: set[str] = set()
    for t in tasks:
        if t.name in seen:
            raise SuiteError(f"suite {spec!r} has two tasks named {t.name!r}")
        seen.add(t.name)
    return tasks


def select(tasks: list[Task], *, filter: str | None = None, limit: int | None = None
           ) -> list[Task]:
    """Tasks whose name or domain matches ``filter`` (a regex), then the first ``limit``."""
    if filter:
        rx = re.compile(filter)
        tasks = [t for t in tasks if rx.search(t.name) or rx.search(t.domain)]
    if limit is not None and limit >= 0:
        tasks = tasks[:limit]
    return tasks
