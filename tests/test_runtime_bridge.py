"""Tools inside the sandbox: host callables over the bridge, pure tools.

Every test that takes ``s``, ``tp`` or ``make`` runs twice: a local kernel (the unix-socket
transport) and a kernel on a real Jupyter Kernel Gateway (the comm-message transport)."""

import ast
import inspect

import pytest
from gateway_helpers import runtime_config

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
def s(runtime, request):
    with Session(runtime_config(runtime, request), tools=[lookup, opaque, double]) as session:
        yield session


@pytest.fixture()
def make(runtime, request):
    """``make(tools)``: a new Session of the module's runtime (not started)."""
    return lambda tools=(): Session(runtime_config(runtime, request), tools=tools)


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
    assert obs.error.name == "KeyError" and obs.error.message == "'no such city: Atlantis'"
    obs = s.execute("lookup('Nowhere')")
    assert obs.error.name == "UpstreamDown" and obs.error.message == "upstream API is down"
    obs = s.execute("try:\n    lookup('Nowhere')\nexcept Exception as e:\n"
                    "    print('caught', type(e).__name__, e)")
    assert "caught UpstreamDown upstream API is down" in obs.stdout


def test_bad_arguments_fail_in_the_kernel(s):
    obs = s.execute("lookup()")
    assert obs.error.name == "TypeError" and "city" in obs.error.message


def test_a_wrong_call_is_told_how_to_call_the_tool(s):
    obs = s.execute("lookup('Paris', 'metric', 'extra')")
    assert obs.error is not None and obs.error.name == "TypeError"
    assert "call it as lookup(city: str, units: str = 'metric') -> dict" in obs.error.message


def test_a_tool_defined_again_is_left_out_and_the_cell_says_so(s):
    # the prompt's stub copied into a cell: the cell runs with the given tool
    obs = s.execute('def lookup(city: str, units: str = "metric") -> dict:\n'
                    '    """Weather for a city."""\n\nprint(lookup("Paris")["city"])')
    assert obs.ok and obs.stdout.strip() == "Paris"
    assert "this cell defined lookup, already given to you" in obs.stderr
    obs = s.execute("def lookup(city):\n    return 'made up'\nprint(lookup('Paris'))")
    assert obs.ok and "made up" not in obs.stdout and "Paris" in obs.stdout
    obs = s.execute("lookup('Paris')['city']")
    assert obs.ok and obs.result == "'Paris'"
    obs = s.execute("double = 3\ndouble")  # a pure tool's name reused for a variable
    assert "redefined double" in obs.stderr
    assert s.execute("double(2)[0]").result == "4"
    assert s.execute("x = 1").stderr == ""  # an ordinary cell gets no note


def test_non_json_result_is_a_clear_error(s):
    obs = s.execute("opaque()")
    assert obs.error.name == "TypeError"
    assert "the value returned by tool 'opaque' has type object" in obs.error.message


def test_pure_tool_runs_inside_without_the_bridge(s, runtime):
    obs = s.execute("double(21)")
    where = "/workspace" if runtime == "local" else s.execute("import os\nos.getcwd()").result
    assert obs.result == f"[42, {where.strip(chr(39))!r}]"  # ran in the kernel, not the host


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


def test_set_tools_replaces_the_tool_set(make):
    def greet(name: str) -> str:
        """Say hello."""
        return f"hello {name}"

    with make() as t:
        assert t.execute("greet").error.name == "NameError"
        t.set_tools([greet])
        assert t.execute("greet('bob')").result == "'hello bob'"
        t.set_tools([Tool.from_function(lambda: 1, name="one")])
        assert t.execute("greet").error.name == "NameError"
        assert t.execute("one()").result == "1"


async def test_async_tool(make):
    async def fetch(n: int) -> int:
        """Async host tool."""
        return n + 1

    async with make([fetch]) as t:
        assert (await t.aexecute("fetch(1)")).result == "2"
    assert inspect.iscoroutinefunction(fetch)


# --- the failures a third-party suite met, reproduced in a real sandboxed kernel -------

class QuotaExceeded(ValueError):
    pass


def _minimum(*args):
    return min(args)


def _stats(values, *, scale=1):
    if not values:
        raise QuotaExceeded("no values left today")
    if scale == 0:
        raise ZeroDivisionError("scale must not be 0")
    return {"n": len(values), "first": values[0], "kinds": sorted({type(v).__name__
                                                                    for v in values})}


def _histogram(words):
    counts: dict = {}
    for w in words:
        counts[len(w)] = counts.get(len(w), 0) + 1
    return counts  # int keys


def _echo(*args, **kwargs):
    return {"args": list(args), "kwargs": kwargs}


def _period(start, days):
    import datetime

    d = datetime.date.fromisoformat(start)
    return (d, d + datetime.timedelta(days=days))  # a tuple of dates


THIRD_PARTY = [
    Tool.from_spec("minimum_value", _minimum, "Smallest of the numbers.",
                   "minimum_value(*args: float) -> int/float"),
    Tool.from_spec("stats", _stats, "Statistics of values.",
                   "stats(values: list of float, *, scale: int = 1) -> dict"),
    Tool.from_spec("histogram", _histogram, "Word lengths.", "histogram(words) -> dict"),
    Tool.from_spec("route", _echo, "A route.", "route(from: str, to: str, *stops: str)"),
    Tool.from_spec("period", _period, "A date range.", "(start: str, days: int) -> tuple"),
]


@pytest.fixture(scope="module")
def tp(runtime, request):
    with Session(runtime_config(runtime, request), tools=THIRD_PARTY) as session:
        yield session


def _frames(tb: str) -> list[str]:
    return [ln for ln in tb.splitlines() if ln.startswith(("Cell In[", "File "))]


def test_generator_and_odd_arguments_reach_the_host_as_lists(tp):
    # The call from the issue: once "TypeError: " with an empty message and bridge frames;
    # now the generator arrives as a list (one positional argument, as Python passes it).
    obs = tp.execute("msgs = ['hi', 'hello', 'hey']\nminimum_value(len(m) for m in msgs)")
    assert obs.ok and obs.result == "[2, 5, 3]", obs.error
    obs = tp.execute("msgs = ['hi', 'hello', 'hey']\n"
                     "print(minimum_value(*(len(m) for m in msgs)))\n"
                     "stats(len(m) for m in msgs)")
    assert obs.ok, obs.error
    assert obs.stdout == "2\n"
    assert obs.result == "{'n': 3, 'first': 2, 'kinds': ['int']}"
    obs = tp.execute("import numpy as np\nfrom dataclasses import dataclass\n"
                     "@dataclass\nclass P:\n    x: int\n"
                     "stats((np.float64(1.5), {2, 1}, range(2), P(3), np.arange(2)))")
    assert obs.result == "{'n': 5, 'first': 1.5, 'kinds': ['dict', 'float', 'list']}", \
        obs.error


def test_a_value_that_cannot_be_sent_is_a_typeerror_naming_tool_parameter_and_type(tp):
    obs = tp.execute("import threading\nstats([1, threading.Lock()])")
    assert obs.error.name == "TypeError"
    assert obs.error.message.startswith(
        "stats(): argument 'values' contains a value of type _thread.lock at [1]")
    obs = tp.execute("minimum_value(1, object())")
    assert "minimum_value(): argument 'args'[1] has type object" in obs.error.message


def test_return_values_keep_non_string_keys_and_convert_tuples_and_dates(tp):
    obs = tp.execute("h = histogram(['a', 'bb', 'cc'])\nprint(h[2], sorted(h))\n"
                     "period('2024-02-27', 3)")
    assert obs.stdout == "2 [1, 2]\n" and obs.result == "['2024-02-27', '2024-03-01']"


def test_odd_signatures_bind_in_the_kernel_as_they_say(tp):
    obs = tp.execute("import inspect\nprint(inspect.signature(route))\n"
                     "print(route('A', 'B', 'C', 'D'))\nprint(route(from_='A', to='B'))")
    assert obs.ok, obs.error
    lines = obs.stdout.splitlines()
    assert lines[0] == "(from_: 'str', to: 'str', *stops: 'str')"
    assert lines[1] == "{'args': ['A', 'B', 'C', 'D'], 'kwargs': {}}"
    assert lines[2] == "{'args': ['A', 'B'], 'kwargs': {}}"
    obs = tp.execute("stats([1], 2)")
    assert obs.error.name == "TypeError"
    assert obs.error.message == ("stats(): too many positional arguments; "
                                 "call it as stats(values, *, scale: int = 1) -> dict")
    obs = tp.execute("help(minimum_value)")
    assert "Signature as given: minimum_value(*args: float) -> int/float" in obs.stdout


def test_host_exceptions_keep_type_message_and_builtin_base(tp):
    obs = tp.execute("stats([], scale=1)")
    assert (obs.error.name, obs.error.message) == ("QuotaExceeded", "no values left today")
    obs = tp.execute("stats([1], scale=0)")
    assert (obs.error.name, obs.error.message) == ("ZeroDivisionError", "scale must not be 0")
    obs = tp.execute("import codeact_tools\ntry:\n    stats([])\nexcept ValueError as e:\n"
                     "    print(type(e).__name__, isinstance(e, codeact_tools.ToolError))")
    assert obs.ok and obs.stdout == "QuotaExceeded True\n", obs


@pytest.mark.parametrize("code,ename", [
    ("msgs = ['a']\nminimum_value(len(m) for m in msgs) + stats([], scale=1)", "QuotaExceeded"),
    ("def go():\n    return stats([1], scale=0)\ngo()", "ZeroDivisionError"),
    ("minimum_value(1, object())", "TypeError"),
    ("stats()", "TypeError"),
    ("histogram(['a'])[5]", "KeyError"),
])
def test_tracebacks_stop_at_the_models_own_line(tp, code, ename):
    obs = tp.execute(code)
    assert obs.error.name == ename
    tb = obs.error.traceback
    frames = _frames(tb)
    assert frames and all(f.startswith("Cell In[") for f in frames), tb
    for internal in ("__codeact", "codeact_tools", "<codeact_convert>", "json/", "call(",
                     "payload", "skipping hidden"):
        assert internal not in tb, tb
    last_line = [ln for ln in tb.splitlines() if ln.startswith("---->")][-1]
    assert last_line.split(None, 2)[-1] in code


def test_kernel_functions_bind_every_corpus_signature_as_the_host_does(make):
    from test_tools_signatures import CALLS

    specs = sorted({spec for spec, *_ in CALLS})
    tools = [Tool.from_spec(f"t{i}", _echo, "Echo.", spec) for i, spec in enumerate(specs)]
    by_spec = dict(zip(specs, tools, strict=True))
    cells = []
    for spec, args, kwargs, _ in CALLS:
        t = by_spec[spec]
        call = f"{t.name}(*{args!r}, **{kwargs!r})"
        cells.append(f"try:\n    print(repr({call}))\nexcept TypeError as e:\n"
                     f"    print('TypeError')")
    with make(tools) as k:
        obs = k.execute("\n".join(cells))
    assert obs.ok, obs.error
    lines = obs.stdout.splitlines()
    assert len(lines) == len(CALLS)
    for line, (spec, args, kwargs, expected) in zip(lines, CALLS, strict=True):
        if expected is None:
            assert line == "TypeError", (spec, args, kwargs, line)
            continue
        host = by_spec[spec].parsed_signature.to_inspect().bind(*args, **kwargs)
        echoed = ast.literal_eval(line)  # what the host function received
        assert echoed == {"args": list(host.args), "kwargs": host.kwargs}, (spec, line)


async def test_pip_request_without_an_installer_says_installs_are_disabled(tmp_path):
    import asyncio
    import json

    from codeact.runtime.bridge import ToolBridge

    path = str(tmp_path / "b.sock")
    calls: list[list[str]] = []
    for installer, want in ((None, {"ok": False, "message": "package installs are disabled"}),
                            (lambda a: calls.append(a) or {"ok": True, "installed": []},
                             {"ok": True, "installed": []})):
        bridge = ToolBridge(path, [], installer=installer)
        await bridge.start()
        reader, writer = await asyncio.open_unix_connection(path)
        writer.write(json.dumps({"op": "pip", "args": ["install", "six"]}).encode() + b"\n")
        await writer.drain()
        assert json.loads(await reader.readline()) == want
        writer.close()
        await bridge.close()
    assert calls == [["install", "six"]]


def test_image_results_are_displayed_once_per_cell(make):
    import base64

    from codeact.runtime.convert import Image

    png = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQ"
                           "DwAEhQGAhKmMIQAAAABJRU5ErkJggg==")

    @tool
    def snapshot() -> object:
        """An image from the host."""
        return Image(png)

    with make([snapshot]) as s:
        obs = s.execute("img = snapshot()\nprint(type(img).__name__, img.mime_type)")
        assert obs.ok and obs.stdout.strip() == "Image image/png"
        assert obs.images == [png]  # displayed on arrival, though not the cell's value
        obs = s.execute("snapshot()")
        assert obs.images == [png] and obs.result == "<Image image/png, 70 bytes>"
        obs = s.execute("img")  # a later cell shows it again
        assert obs.images == [png]


def test_a_called_name_that_is_no_tool_is_told_the_tools(s):
    obs = s.execute("get_price('lamp')")
    assert obs.error is not None and obs.error.name == "NameError"
    assert "none of your tools. The tools you have are: " in obs.error.traceback
    assert "lookup" in obs.error.traceback.split("The tools you have are: ")[1]
    obs = s.execute("import no_such_http_lib")
    assert "not installed in this kernel. The task's data comes from your tools" in \
        obs.error.traceback
    obs = s.execute("open('hotels.csv')")
    assert "has no files. The task's data comes from your tools" in obs.error.traceback
