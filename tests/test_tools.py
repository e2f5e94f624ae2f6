"""Tool signatures, prompts, argument validation and loading."""

import ast
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


# Third-party specs as external suites write them: (name, description, signature).
ODD_SPECS = [
    ("convert_currency", "Convert a price.",
     "convert_currency(base_price: float, conversion_rate: float) -> float"),
    ("mean", "Mean of the numbers.", "mean(*args: float) -> int/float"),
    ("join_words", 'Join words with "sep".\\n', "join_words(words: list of str, sep=' ')"),
    ("route", "Distance between two cities.", "route(from: str, to: str) -> float"),
    ("search", 'Ends with a quote: "', "(query: str, *, limit: int = 10, **filters)"),
    ("odd", r"Regex \d+ and C:\x style paths", "odd(x (int), y?: str) -> number"),
    ("anything", "Takes anything.", "not a signature at all"),
]


def _echo(*args, **kwargs):
    return [list(args), kwargs]


@pytest.mark.parametrize("name,desc,sig", ODD_SPECS)
def test_odd_specs_give_valid_stubs_with_the_original_text(name, desc, sig):
    t = Tool.from_spec(name, _echo, desc, sig)
    stub = t.python_stub()
    fn = ast.parse(stub).body[0]
    assert isinstance(fn, ast.FunctionDef) and fn.name == name
    doc = ast.get_docstring(fn)
    assert desc.strip().replace("\\n", "") in doc.replace("\\n", "")
    if not t.parsed_signature.exact:
        assert "Signature as given: " in doc and sig.split("(")[-1].strip() in doc
    assert t.listing().startswith(f"- {name}{t.signature}\n    ")


def test_the_issue_signature_renders_without_the_name_twice():
    t = Tool.from_spec("convert_currency", _echo, "Convert a price.",
                       "convert_currency(base_price: float, conversion_rate: float) -> float")
    assert t.python_stub().splitlines()[0] == (
        "def convert_currency(base_price: float, conversion_rate: float) -> float:")
    assert "Signature as given" not in t.python_stub()  # nothing was lost
    mean = Tool.from_spec("mean", _echo, "Mean.", "mean(*args: float) -> int/float")
    assert mean.python_stub().splitlines()[0] == "def mean(*args: float):"
    assert "Signature as given: mean(*args: float) -> int/float" in mean.python_stub()


def test_bind_follows_the_parsed_spec_and_its_loose_types():
    mean = Tool.from_spec("mean", _echo, "Mean.", "mean(*args: float) -> int/float")
    assert mean.invoke(["1", 2, 3.5]) == [[1.0, 2, 3.5], {}]
    with pytest.raises(ToolArgumentError, match=r"argument 'args\[1\]' must be float"):
        mean.bind([1, "two"])
    total = Tool.from_spec("total", _echo, "Sum.", "total(x: int/float, items: list of str)")
    assert total.invoke({"x": "3", "items": '["a", "b"]'}) == [[3, ["a", "b"]], {}]
    with pytest.raises(ToolArgumentError, match="'items' must be list"):
        total.bind({"x": 1, "items": "a"})
    # A keyword the spec used as a parameter name is renamed in the stub, and both
    # spellings reach the function positionally.
    route = Tool.from_spec("route", _echo, "Route.", "route(from: str, to: str) -> float")
    assert route.signature == "(from_: str, to: str) -> float"
    assert route.invoke({"from": "A", "to": "B"}) == [["A", "B"], {}]
    assert route.invoke({"from_": "A", "to": "B"}) == [["A", "B"], {}]
    kw = Tool.from_spec("kw", _echo, "Kw.", "kw(*, class: str)")
    assert kw.invoke({"class": "x"}) == [[], {"class": "x"}]
    anything = Tool.from_spec("anything", _echo, "Any.", "not a signature at all")
    assert anything.invoke({"a": 1}) == [[], {"a": 1}]


def test_spec_without_signature_uses_the_function():
    t = Tool.from_spec("conv", convert.fn, "Convert.", None)
    assert t.signature == convert.signature
    t = Tool.from_spec("mx", max, "Largest.", "  ")
    assert t.signature == "(*args, **kwargs)"  # a builtin without a readable signature
    with pytest.raises(ToolLoadError, match="must be a string"):
        Tool.from_spec("bad", max, "x", 3)


def test_final_answer_is_a_reserved_tool_name():
    with pytest.raises(ToolLoadError, match="may not be named 'final_answer'"):
        as_tools([Tool.from_function(lambda v: v, name="final_answer")])
    with pytest.raises(ToolLoadError, match="not a Python identifier"):
        as_tools([Tool.from_function(lambda v: v, name="class")])
