"""The built-in multi-tool suite: six domains of deterministic tools and tasks.

Every task's expected answer is computed at load time by running its reference solution
against fresh tools; nothing is typed in by hand. Domains: ``units`` (unit converter and
currency table), ``travel`` (flight and hotel catalogue), ``codec`` (string codec
toolkit), ``ledger`` (a stateful stock ledger, fresh per run), ``web`` (a tiny web of
linked pages) and ``directory`` (a staff directory with an org chart).
"""

from __future__ import annotations

from codeact.bench.builtin import codec, directory, ledger, travel, units, web
from codeact.bench.task import Task

__all__ = ["DOMAINS", "MINI", "QUICK", "load", "load_24", "load_mini", "load_quick"]

DOMAINS = {"units": units, "travel": travel, "codec": codec, "ledger": ledger, "web": web,
           "directory": directory}

# A fixed, named subset for quick comparisons: two tasks per domain.
QUICK = [
    "units/miles-to-km", "units/route-total",
    "travel/cheapest-id", "travel/trip-total",
    "codec/caesar-decode", "codec/find-shift",
    "ledger/buy-then-cash", "ledger/above-average",
    "web/population", "web/total-population",
    "directory/salary", "directory/avg-eng-salary",
]


# A smaller fixed subset, one task per domain (the first of each QUICK pair), for slow
# local models.
MINI = QUICK[::2]


def load() -> list[Task]:
    """All built-in tasks, domain by domain."""
    tasks: list[Task] = []
    for module in DOMAINS.values():
        tasks.extend(module.load())
    return tasks


def load_quick() -> list[Task]:
    """The ``builtin-quick`` subset (:data:`QUICK`): two tasks per domain."""
    by_name = {t.name: t for t in load()}
    return [by_name[n] for n in QUICK]


def load_24() -> list[Task]:
    """The ``builtin-24`` subset: four tasks per domain, every 4th in each domain's order.

    A wider fixed sample than ``builtin-quick`` for figures with a confidence interval.
    """
    return [t for module in DOMAINS.values() for t in module.load()[::4]]


def load_mini() -> list[Task]:
    """The ``builtin-mini`` subset (:data:`MINI`): one task per domain."""
    by_name = {t.name: t for t in load()}
    return [by_name[n] for n in MINI]
