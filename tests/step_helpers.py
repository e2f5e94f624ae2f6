"""Driving the agent's step generators in tests: their events, then their return value."""

from collections.abc import Generator
from typing import Any


def drain(gen: Generator[Any, None, Any]) -> tuple[list[Any], Any]:
    """Every event a step yields, and the outcome it returns."""
    events = []
    while True:
        try:
            events.append(next(gen))
        except StopIteration as stop:
            return events, stop.value
