"""The act step's host-side parts: tool calls, their results, and streaming execution."""

import threading

import pytest
from step_helpers import drain

from codeact.actions import ToolCall
from codeact.agent.act import (
    TOOL_RESULT_LIMIT,
    answered,
    call_tool,
    execute_streaming,
    format_tool_result,
    tool_call_key,
)
from codeact.agent.executor import SandboxFailure
from codeact.events import OutputDelta
from codeact.runtime import Session
from codeact.tools import tool
from codeact.trajectory import StopReason


@tool
def add(a: int, b: int) -> int:
    """The sum."""
    return a + b


@tool
def fail(x: int) -> int:
    """Always raises."""
    raise RuntimeError(f"no {x}")


TOOLS = {"add": add, "fail": fail}


def test_tool_calls_report_results_and_every_kind_of_error():
    assert call_tool(TOOLS, ToolCall("add", {"a": 2, "b": 3})) == ("5", True)
    text, ok = call_tool(TOOLS, ToolCall("mul", {}))
    assert not ok and text == "Error: unknown tool 'mul'. Available tools: add, fail."
    text, ok = call_tool(TOOLS, ToolCall("fail", {"x": 1}))
    assert not ok and text == "Error: fail raised RuntimeError: no 1"
    text, ok = call_tool(TOOLS, ToolCall("add", {"a": 1}))
    assert not ok and text.startswith("Error:") and "b" in text


def test_results_are_json_and_long_ones_lose_their_middle():
    assert format_tool_result({"b": [1, 2]}) == '{"b": [1, 2]}'
    assert format_tool_result(object) == '"<class \'object\'>"'  # json.dumps of repr
    long = format_tool_result("x" * (TOOL_RESULT_LIMIT + 500))
    assert "[... 500 characters truncated ...]" in long and len(long) < TOOL_RESULT_LIMIT + 100


def test_a_tool_call_key_ignores_argument_order():
    assert tool_call_key(ToolCall("add", {"a": 1, "b": 2})) == \
        tool_call_key(ToolCall("add", {"b": 2, "a": 1}))


def test_answered_ends_the_run_with_a_solution():
    outcome = answered("42", output="printed 42")
    assert outcome.answer == "42" and outcome.stop == StopReason.SOLUTION
    assert outcome.output == "printed 42" and outcome.observed
    assert not answered("42").observed


def test_execution_streams_output_and_returns_the_observation():
    session = Session(sandbox="bwrap")
    session.start()
    try:
        events, obs = drain(execute_streaming(
            lambda: session, "import time\nprint('a', flush=True)\ntime.sleep(0.2)\n"
            "print('b')\n6 * 7", turn=2, timeout=30, interrupted=threading.Event(),
            executing=threading.Event()))
    finally:
        session.close()
    assert all(isinstance(e, OutputDelta) and e.turn == 2 for e in events)
    assert "".join(e.text for e in events) == "a\nb\n" and obs.result == "42"


def test_a_runtime_that_cannot_start_is_a_sandbox_failure():
    def broken():
        raise OSError("no kernel here")

    with pytest.raises(SandboxFailure, match="could not run the code: OSError: no kernel"):
        drain(execute_streaming(broken, "1", turn=1, timeout=5,
                                 interrupted=threading.Event(), executing=threading.Event()))
