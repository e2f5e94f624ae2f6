"""JSON Schema → the signature, stub and argument handling every tool gets."""

import pytest

from codeact.mcp.errors import MCPLoadError
from codeact.mcp.schema import build_signature, returns
from codeact.tools import Tool, ToolArgumentError

WEATHER = {
    "type": "object",
    "properties": {
        "units": {"type": "string", "enum": ["metric", "imperial"], "default": "metric",
                  "description": "Unit system."},
        "city": {"type": "string", "description": "City name."},
        "days": {"type": "integer", "minimum": 1, "maximum": 7},
        "tags": {"type": "array", "items": {"type": "string"}},
        "note": {"type": ["string", "null"]},
    },
    "required": ["city"],
}


def stub_tool(schema, name="f"):
    sig, shape, lines = build_signature(schema, tool=name)
    doc = "Doc." + ("\n\nArgs:\n" + "\n".join("    " + ln for ln in lines) if lines else "")
    seen = {}

    def fn(*args, **kwargs):
        seen["arguments"] = shape.arguments(args, kwargs)
        return seen["arguments"]

    return Tool(name=name, fn=fn, description=doc, _sig=sig), shape


def test_types_order_and_defaults():
    tool, _ = stub_tool(WEATHER, "weather")
    assert tool.signature == ("(city: str, units: Literal['metric', 'imperial'] = 'metric', "
                              "days: int = None, tags: list[str] = None, "
                              "note: str | None = None)")
    stub = tool.python_stub()
    compile(stub, "<stub>", "exec")  # valid Python
    assert "city: City name." in stub
    assert "units: Unit system." in stub
    assert "days: (>= 1; <= 7)" in stub


@pytest.mark.parametrize("schema, text", [
    ({"type": "number"}, "float"),
    ({"type": "boolean"}, "bool"),
    ({"type": "object"}, "dict"),
    ({"type": "object", "additionalProperties": {"type": "integer"}}, "dict[str, int]"),
    ({"type": "array", "items": {"type": "array", "items": {"type": "number"}}},
     "list[list[float]]"),
    ({"anyOf": [{"type": "integer"}, {"type": "string"}, {"type": "null"}]},
     "int | str | None"),
    ({"oneOf": [{"type": "null"}, {"type": "integer"}]}, "int | None"),
    ({"const": 3}, "Literal[3]"),
    ({"enum": ["a", None]}, "Literal['a'] | None"),
    ({"$ref": "#/$defs/Point"}, "dict"),
    ({"description": "anything"}, None),
    ({"anyOf": [{"type": "integer"}, {}]}, None),
    ({"enum": [1.5, 2.5], "type": "number"}, "float"),
])
def test_type_mapping(schema, text):
    full = {"type": "object", "properties": {"x": schema}, "required": ["x"],
            "$defs": {"Point": {"type": "object", "properties": {"x": {"type": "number"}}}}}
    sig, _, _ = build_signature(full)
    assert sig.params[0].annotation == text


def test_non_identifier_argument_names_keep_their_wire_name():
    schema = {"type": "object", "properties": {"user-id": {"type": "integer"},
                                               "class": {"type": "string"}},
              "required": ["user-id"]}
    tool, shape = stub_tool(schema)
    assert tool.signature == "(user_id: int, class_: str = None)"
    assert "(MCP name 'user-id')" in tool.python_stub()
    # json/text formats: bind maps back to the wire names, coercing "7" to 7
    args, kwargs = tool.bind({"user_id": "7", "class_": "x"})
    assert tool.fn(*args, **kwargs) == {"user-id": 7, "class": "x"}
    assert shape.arguments((7,), {"class": "y"}) == {"user-id": 7, "class": "y"}


def test_argument_name_collision_is_a_load_error():
    schema = {"type": "object", "properties": {"a-b": {}, "a.b": {}}}
    with pytest.raises(MCPLoadError, match="'a-b' and 'a.b'"):
        build_signature(schema, tool="t")


def test_call_shape_positional_keywords_and_none():
    tool, shape = stub_tool(WEATHER)
    assert shape.arguments(("Paris", "imperial"), {}) == {"city": "Paris", "units": "imperial"}
    # None for an optional, non-nullable argument means "not sent"; nullable ones send null
    assert shape.arguments(("Rome",), {"days": None, "note": None}) == {"city": "Rome",
                                                                        "note": None}
    with pytest.raises(TypeError, match="missing required"):
        shape.arguments((), {"units": "metric"})
    with pytest.raises(TypeError, match="unexpected keyword"):
        shape.arguments(("x",), {"nope": 1})
    with pytest.raises(TypeError, match="multiple values"):
        shape.arguments(("x",), {"city": "y"})
    with pytest.raises(TypeError, match="at most 5 positional"):
        shape.arguments(tuple(range(6)), {})


def test_json_format_arguments_are_checked_against_the_schema_types():
    tool, _ = stub_tool(WEATHER)
    assert tool.invoke({"city": "Oslo", "days": "3"}) == {"city": "Oslo", "days": 3}
    with pytest.raises(ToolArgumentError, match="days"):
        tool.invoke({"city": "Oslo", "days": "many"})
    with pytest.raises(ToolArgumentError, match="city"):
        tool.invoke({})


def test_additional_properties_give_kwargs():
    schema = {"type": "object", "properties": {"q": {"type": "string"}}, "required": ["q"],
              "additionalProperties": True}
    tool, shape = stub_tool(schema)
    assert tool.signature == "(q: str, **kwargs)"
    assert shape.arguments(("x",), {"lang": "en"}) == {"q": "x", "lang": "en"}


def test_empty_and_missing_schemas():
    for schema in (None, {}, {"type": "object"}):
        sig, shape, lines = build_signature(schema)
        assert sig.text == "()" and shape.args == () and lines == []


def test_long_defaults_are_elided_and_odd_defaults_stay_valid():
    schema = {"type": "object", "properties": {
        "big": {"type": "array", "default": list(range(100))},
        "obj": {"type": "object", "default": {"a": [1, None, True]}}}}
    tool, _ = stub_tool(schema)
    assert tool.signature == "(big: list = ..., obj: dict = {'a': [1, None, True]})"
    compile(tool.python_stub(), "<stub>", "exec")


def test_nested_object_keys_are_described():
    schema = {"type": "object", "properties": {"filter": {
        "type": "object", "properties": {"field": {"type": "string"}, "op": {"type": "string"}},
        "required": ["field"]}}, "required": ["filter"]}
    tool, _ = stub_tool(schema)
    assert "filter: (keys {field: str, op?: str})" in tool.python_stub()


def test_returns_unwraps_the_sdk_result_wrapper():
    wrapped = {"type": "object", "properties": {"result": {"type": "integer"}},
               "required": ["result"]}
    assert returns(wrapped)[:2] == ("int", True)
    obj = {"type": "object", "properties": {"temp": {"type": "number"}}, "required": ["temp"]}
    ann, unwrap, doc = returns(obj)
    assert (ann, unwrap) == ("dict", False) and doc == "Returns: dict (keys {temp: float})"
    assert returns(None) == (None, False, "")
