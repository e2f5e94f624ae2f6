"""The ``thirdparty`` suite: tasks whose tools are written the way external suites write them.

Every tool is a tuple ``(name, fn, description, signature)``: the signature string
includes the function's name (``"stock_level(sku: str, site: str = 'all') -> int"``),
sometimes ``*args`` and non-Python type names (``-> int/float``, ``list of str``), and
the description is a string, not a docstring. Two domains are stateful (a factory builds
fresh tools for every run). Answers are numbers, strings, lists (ordered or not, as the
task says), dicts and booleans. Each task's reference solution is Python source run at
load time to compute the expected answer; ``python -m codeact.bench.selfcheck --suite
thirdparty`` runs the same source in a sandboxed kernel through the tool bridge.

Domains: ``warehouse`` (stateful stock at two sites), ``calendar`` (stateful team
calendar), ``library`` (catalogue, loans, fines), ``recipes`` (nutrition and cost) and
``league`` (a football league table).
"""

from __future__ import annotations

from codeact.bench.task import Task
from codeact.bench.thirdparty import league, library, recipes, scheduling, warehouse

__all__ = ["DOMAINS", "QUICK", "load", "load_quick"]

DOMAINS = {"warehouse": warehouse, "calendar": scheduling, "library": library,
           "recipes": recipes, "league": league}

# A fixed, named subset for quick comparisons: two tasks per domain.
QUICK = [
    "warehouse/below-reorder", "warehouse/restock",
    "calendar/meeting-minutes", "calendar/book-review",
    "library/member-fine", "library/tolkien-available",
    "recipes/most-protein", "recipes/scale-pasta",
    "league/leader", "league/unbeaten-home",
]


def load() -> list[Task]:
    """All tasks of the suite, domain by domain."""
    tasks: list[Task] = []
    for module in DOMAINS.values():
        tasks.extend(module.load())
    return tasks


def load_quick() -> list[Task]:
    """The ``thirdparty-quick`` subset (:data:`QUICK`): two tasks per domain."""
    by_name = {t.name: t for t in load()}
    return [by_name[n] for n in QUICK]
