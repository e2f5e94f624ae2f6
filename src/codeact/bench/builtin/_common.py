"""Helpers shared by the built-in domains."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from codeact.bench.task import Task
from codeact.tools import Tool


class Toolbox:
    """Tools by name, callable as attributes (``t.get_price("ACME")``) for references."""

    def __init__(self, tools: dict[str, Tool]) -> None:
        self._tools = tools

    def __getattr__(self, name: str) -> Callable[..., Any]:
        try:
            return self._tools[name].fn
        except KeyError:
            raise AttributeError(name) from None

    def __getitem__(self, name: str) -> Callable[..., Any]:
        return self._tools[name].fn


def tasks_for(domain: str, tools: Sequence[Any] | Callable[[], Sequence[Any]],
              specs: Sequence[tuple[str, str, Callable[[Toolbox], Any]]]) -> list[Task]:
    """Build a domain's tasks; each expected answer comes from running its reference."""
    tasks = []
    for name, instruction, ref in specs:
        tasks.append(Task(
            name=f"{domain}/{name}",
            domain=domain,
            instruction=instruction,
            tools=tools,
            reference=lambda tb, _ref=ref: _ref(Toolbox(tb)),
        ))
    return tasks


def unique_best(items: Sequence[Any], key: Callable[[Any], Any], *, largest: bool = False
                ) -> Any:
    """The single best item; raises if the best value is tied (the task would be ambiguous)."""
    ranked = sorted(items, key=key, reverse=largest)
    if len(ranked) > 1 and key(ranked[0]) == key(ranked[1]):
        raise ValueError(f"ambiguous task: tie between {ranked[0]!r} and {ranked[1]!r}")
    return ranked[0]
