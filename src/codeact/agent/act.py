"""The act step: run one parsed action and say what came of it, as an :class:`Outcome`.

Code runs in the session on a worker thread so its output streams as events while it
runs; a json/text tool call runs in the host. Answers are accepted here (a cell that
called ``final_answer``, a ``<solution>`` after clean code); the hints speak afterwards,
in the loop.
"""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from codeact.actions import ToolCall
from codeact.agent.executor import Executor, SandboxFailure
from codeact.agent.hints.base import Step
from codeact.events import Event, OutputDelta
from codeact.tools import Tool, ToolArgumentError
from codeact.trajectory import StopReason

if TYPE_CHECKING:
    from codeact.runtime.observation import Observation

TOOL_RESULT_LIMIT = 10_000


@dataclass(frozen=True)
class Outcome:
    """What one action came to. ``output``: what the action printed, returned or raised,
    as the model reads it (None: nothing ran); ``notes``: what codeact tells the model
    about it, kept apart from the output; ``step``: the action that ran, for the hints;
    ``stop``: the run ends (with ``answer`` when it has one); ``error``: the runtime
    failed and the run ends."""

    output: str | None = None
    notes: tuple[str, ...] = ()
    observation: Observation | None = None
    step: Step | None = None
    answer: str | None = None
    stop: StopReason | None = None
    error: str | None = None


    @property
    def observed(self) -> bool:
        """Whether the model has an observation to read (output or notes)."""
        return self.output is not None or bool(self.notes)


def answered(answer: str, **more: Any) -> Outcome:
    """The run ends with ``answer`` (after showing the action's output, if any)."""
    return Outcome(answer=answer, stop=StopReason.SOLUTION, **more)


def noted(*notes: str | None) -> tuple[str, ...]:
    """The notes that say something."""
    return tuple(n for n in notes if n)


def execute_streaming(session: Callable[[], Executor], code: str, *, turn: int,
                      timeout: float, interrupted: threading.Event,
                      executing: threading.Event) -> Generator[Event, None, Observation]:
    """Run ``code`` on a worker thread, yielding its output as :class:`OutputDelta` events;
    return the Observation. Raises :class:`SandboxFailure` when the runtime could not run
    the code at all. ``session`` is called on the worker (it may start the kernel)."""
    outputs: queue.Queue[tuple[str, str] | None] = queue.Queue()
    result: dict[str, Observation] = {}
    failure: list[SandboxFailure] = []

    def work() -> None:
        try:
            runtime = session()
            executing.set()
            if interrupted.is_set():
                runtime.interrupt()
            result["obs"] = runtime.execute(
                code, timeout=timeout,
                on_output=lambda stream, text: outputs.put((stream, text)))
        except Exception as exc:  # runtime unavailable or crashed beyond repair
            err = SandboxFailure(f"the sandbox could not run the code: "
                                 f"{type(exc).__name__}: {exc}")
            err.__cause__ = exc
            failure.append(err)
        finally:
            executing.clear()
            outputs.put(None)

    worker = threading.Thread(target=work, name="codeact-exec", daemon=True)
    worker.start()
    while (item := outputs.get()) is not None:
        yield OutputDelta(turn, item[0], item[1])
    worker.join()
    if failure:
        raise failure[0]
    return result["obs"]


def call_tool(tools: Mapping[str, Tool], call: ToolCall) -> tuple[str, bool]:
    """Run a json/text tool call in the host; return (observation text, ok)."""
    tool = tools.get(call.tool)
    if tool is None:
        known = ", ".join(tools) or "none"
        return f"Error: unknown tool {call.tool!r}. Available tools: {known}.", False
    try:
        value = tool.invoke(call.arguments)
    except ToolArgumentError as exc:
        return f"Error: {exc}", False
    except Exception as exc:
        return f"Error: {call.tool} raised {type(exc).__name__}: {exc}", False
    return format_tool_result(value), True


def tool_call_key(call: ToolCall) -> str:
    """A tool call as one canonical string, so a repeated call compares equal."""
    return json.dumps([call.tool, call.arguments], sort_keys=True, default=str)


def format_tool_result(value: Any) -> str:
    """A tool's return value as observation text, middle cut past TOOL_RESULT_LIMIT."""
    if isinstance(value, str):
        text = value
    else:
        try:
            text = json.dumps(value, ensure_ascii=False, default=repr)
        except (TypeError, ValueError):
            text = repr(value)
    if len(text) > TOOL_RESULT_LIMIT:
        dropped = len(text) - TOOL_RESULT_LIMIT
        half = TOOL_RESULT_LIMIT // 2
        text = f"{text[:half]}\n[... {dropped} characters truncated ...]\n{text[-half:]}"
    return text
