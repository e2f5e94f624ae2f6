"""The one rule that maps MCP names to Python identifiers."""

import pytest

from codeact.mcp.errors import MCPLoadError
from codeact.mcp.names import assign, python_name


@pytest.mark.parametrize("name, expected", [
    ("get_weather", "get_weather"),
    ("get-weather", "get_weather"),
    ("files.read", "files_read"),
    ("search web", "search_web"),
    ("2fa-code", "_2fa_code"),
    ("class", "class_"),
    ("print", "print_"),
    ("final_answer", "final_answer_"),
    ("café", "caf_"),
    ("", "_"),
])
def test_tool_names(name, expected):
    assert python_name(name) == expected
    assert python_name(name).isidentifier()


def test_parameter_names_may_be_builtins_but_not_keywords():
    assert python_name("id", tool=False) == "id"
    assert python_name("format", tool=False) == "format"
    assert python_name("from", tool=False) == "from_"
    assert python_name("user-id", tool=False) == "user_id"


def test_assign_maps_each_name():
    assert assign(["get-weather", "add"]) == {"get-weather": "get_weather", "add": "add"}


def test_a_collision_is_a_load_error_naming_both():
    with pytest.raises(MCPLoadError) as err:
        assign(["get-weather", "get.weather"], where="of server 'x'")
    msg = str(err.value)
    assert "'get-weather'" in msg and "'get.weather'" in msg and "'get_weather'" in msg
    assert "of server 'x'" in msg
    assert isinstance(err.value, ValueError)  # a ToolLoadError, like other tool load errors
