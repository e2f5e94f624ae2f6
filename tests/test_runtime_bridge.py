"""Tools inside the sandbox: host callables over the unix-socket bridge, pure tools."""

import inspect

import pytest

from codeact.runtime import Session
from codeact.tools import Tool, tool

CALLS = []


class UpstreamDown(Exception):
    pass


@tool
def lookup(city: str, units: str = "metric") -> dict:
    """Weather for a city (runs on the host)."""
    CALLS.append(city)
    if city == "Atlantis":
        raise KeyError("no such city: Atlantis")
    if city == "Nowhere":
        raise UpstreamDown("upstream API is down")
    return {"city": city, "units": units, "temp": [21.5, 22]}


@tool
def opaque() -> object:
    """Returns something that is not JSON."""
    return object()


@tool(pure=True)
def double(x: int) -> list:
    """Twice x, computed inside the kernel (and where it ran)."""
    import os

    return [2 * x, os.getcwd()]


@pytest.fixture(scope="module")
def s():
    with Session(tools=[lookup, opaque, double]) as session:
        yield session


def test_tool_call_returns_json_values(s):
    obs = s.execute("r = lookup('Paris', units='imperial')\nr")
    assert obs.ok, obs.error
    assert obs.result == "{'city': 'Paris', 'units': 'imperial', 'temp': [21.5, 22]}"
    assert "Paris" in CALLS


def test_tool_looks_like_a_plain_function(s):
    obs = s.execute("import inspect\nprint(lookup.__name__, inspect.signature(lookup))\n"
                    "print(lookup.__doc__)")
    assert "lookup (city: 'str', units: 'str' = 'metric') -> 'dict'" in obs.stdout
    assert "Weather for a city" in obs.stdout


def test_tool_exceptions_are_raised_in_the_kernel_with_host_message(s):
    obs = s.execute("lookup('Atlantis')")
    assert obs.error.name == "KeyError" and "no such city: Atlantis" in obs.error.message
    obs = s.execute("lookup('Nowhere')")
    assert obs.error.name == "ToolError" and "upstream API is down" in obs.error.message
    obs = s.execute("try:\n    lookup('Nowhere')\nexcept Exception as e:\n    print('caught', e)")
    assert "caught UpstreamDown: upstream API is down" in obs.stdout


def test_bad_arguments_fail_in_the_kernel(s):
    obs = s.execute("lookup()")
    assert obs.error.name == "TypeError" and "city" in obs.error.message


def test_non_json_result_is_a_clear_error(s):
    obs = s.execute("opaque()")
    assert obs.error.name == "TypeError" and "JSON" in obs.error.message


def test_pure_tool_runs_inside_without_the_bridge(s):
    obs = s.execute("double(21)")
    assert obs.result == "[42, '/workspace']"  # ran in the sandbox, not on the host


def test_tools_survive_a_kernel_crash(s):
    obs = s.execute("import os\nos._exit(1)")
    assert obs.restarted
    assert s.execute("lookup('Rome')['city']").result == "'Rome'"


def test_tools_from_plain_functions_and_threads(s):
    obs = s.execute("from concurrent.futures import ThreadPoolExecutor\n"
                    "with ThreadPoolExecutor(4) as ex:\n"
                    "    out = list(ex.map(lambda c: lookup(c)['city'], ['A', 'B', 'C', 'D']))\n"
                    "out")
    assert obs.result == "['A', 'B', 'C', 'D']"


def test_set_tools_replaces_the_tool_set():
    def greet(name: str) -> str:
        """Say hello."""
        return f"hello {name}"

    with Session() as t:
        assert t.execute("greet").error.name == "NameError"
        t.set_tools([greet])
        assert t.execute("greet('bob')").result == "'hello bob'"
        t.set_tools([Tool.from_function(lambda: 1, name="one")])
        assert t.execute("greet").error.name == "NameError"
        assert t.execute("one()").result == "1"


async def test_async_tool():
    async def fetch(n: int) -> int:
        """Async host tool."""
        return n + 1

    async with Session(tools=[fetch]) as t:
        assert (await t.aexecute("fetch(1)")).result == "2"
    assert inspect.iscoroutinefunction(fetch)
