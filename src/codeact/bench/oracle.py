"""An "oracle" model for smoke-testing the harness: it answers each task of a suite with
its expected answer, in one turn, in any format. ``--model bench:oracle`` uses it with the
chosen suite; it needs no model download and proves the harness end to end (it cannot
answer tasks without an ``expected`` value, such as HumanEval's)."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any

from codeact.bench.task import Task, to_jsonable
from codeact.llm.scripted import ScriptedLLM


def _render(value: Any) -> str:
    value = to_jsonable(value)
    if isinstance(value, str):
        return value
    return json.dumps(value)


class OracleLLM(ScriptedLLM):
    """Replies ``<solution>expected</solution>`` for the task in the first user message."""

    def __init__(self, tasks: Sequence[Task], *, delay: float = 0.0, name: str = "oracle"):
        self._answers = {t.instruction: t.expected for t in tasks}
        self.delay = delay
        super().__init__(self._reply, name=name)

    def _reply(self, messages: list[dict[str, Any]]) -> str:
        if self.delay:
            time.sleep(self.delay)
        user = next((m["content"] for m in messages if m.get("role") == "user"), "")
        if user not in self._answers or self._answers[user] is None:
            return "<solution>I do not know</solution>"
        return f"<solution>{_render(self._answers[user])}</solution>"


class OracleFactory:
    """A picklable factory (for the Ray backend): the oracle for a suite spec."""

    def __init__(self, suite: str, delay: float = 0.0) -> None:
        self.suite = suite
        self.delay = delay

    def __call__(self) -> OracleLLM:
        from codeact.bench.suites import load_suite

        return OracleLLM(load_suite(self.suite), delay=self.delay)
