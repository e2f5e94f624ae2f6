"""Tool signatures, prompts, argument validation and loading."""

import sys
import textwrap

import pytest

from codeact.tools import Tool, ToolArgumentError, ToolLoadError, as_tools, load_tools, tool


@tool
def convert(value: float, unit: str = "km", *, exact: bool = False) -> float:
    """Convert a distance.

    Returns the value in metres."""
    factor = {"km": 1000.0, "m": 1.0}[unit]
    return value * factor if exact else round(value * factor)


@tool(pure=True)
def double(x: int) -> int:
    """Double x."""
    return 2 * x


def test_signature_and_stub():
    assert convert.signature == "(value: float, unit: str = 'km', *, exact: bool = False) -> float"
    stub = convert.python_stub()
    assert stub.startswith("def convert(value: float")
    assert '"""Convert a distance.' in stub and "metres." in stub


def test_bind_coerces_strings_from_text_actions():
    args, kwargs = convert.bind(["1.5", "km"])
    assert args == (1.5, "km") and kwargs == {}
    assert convert.invoke({"value": 2, "exact": "true"}) == 2000.0


@pytest.mark.parametrize("arguments,fragment", [
    ({"value": "abc"}, "argument 'value' must be float"),
    ({"valu": 1}, "missing a required argument: 'value'"),
    ([1, "km", 3], "too many positional arguments"),
    ({"value": 1, "exact": "maybe"}, "argument 'exact' must be bool"),
])
def test_bind_errors_are_clear(arguments, fragment):
    with pytest.raises(ToolArgumentError, match=fragment):
        convert.bind(arguments)


def test_single_value_is_one_positional_argument():
    assert double.invoke(4) == 8


def test_pure_tool_source_runs_standalone():
    namespace: dict = {}
    exec(double.source(), namespace)
    assert namespace["double"](21) == 42
    with pytest.raises(ValueError):
        convert.source()


def test_from_spec_for_third_party_callables():
    def search(*args):
        return list(args)

    t = Tool.from_spec("web_search", search, "Search the web.", "query: str, page: int")
    assert t.signature == "(query: str, page: int)"
    assert t.invoke(["cats", 2]) == ["cats", 2]
    assert "def web_search(query: str, page: int):" in t.python_stub()


def test_callable_objects_and_lambdas():
    class Counter:
        def __init__(self):
            self.n = 0

        def __call__(self, step: int = 1) -> int:
            self.n += step
            return self.n

    t = Tool.from_function(Counter(), name="count", description="Count up.")
    assert t.invoke({"step": 2}) == 2 and t.invoke([]) == 3


def test_as_tools_rejects_duplicates_and_bad_names():
    with pytest.raises(ToolLoadError, match="two tools"):
        as_tools([convert, convert])
    with pytest.raises(ToolLoadError, match="not a Python identifier"):
        as_tools([Tool.from_function(len, name="bad name")])


def test_load_tools_from_module(tmp_path, monkeypatch):
    (tmp_path / "my_tools_mod.py").write_text(textwrap.dedent('''
        from codeact.tools import tool

        @tool
        def shout(text: str) -> str:
            """Upper-case text."""
            return text.upper()

        def plain(x: int) -> int:
            """Plain function."""
            return x

        TOOLS = [shout, plain]
    '''))
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        assert [t.name for t in load_tools("my_tools_mod")] == ["shout"]
        assert [t.name for t in load_tools("my_tools_mod:TOOLS")] == ["shout", "plain"]
        assert [t.name for t in load_tools("my_tools_mod:plain")] == ["plain"]
        with pytest.raises(ToolLoadError, match="has no attribute 'nope'"):
            load_tools("my_tools_mod:nope")
    finally:
        sys.modules.pop("my_tools_mod", None)
    with pytest.raises(ToolLoadError, match="cannot import tools module"):
        load_tools("no_such_module_xyz:tools")
