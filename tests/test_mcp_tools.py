"""MCP tools as codeact tools: stubs, values, errors, in the sandboxed kernel (local and on
a gateway) and in the agent loop, against the real demo server over stdio and HTTP."""

import base64
import sys

import pytest
from mcp_helpers import STDIO_SPEC, demo_http_server

from codeact.agent import Agent
from codeact.events import DoneEvent
from codeact.llm.scripted import ScriptedLLM
from codeact.mcp import load_mcp_tools, result_value
from codeact.mcp.errors import MCPLoadError, MCPToolError
from codeact.runtime import Session
from codeact.runtime.convert import Image


@pytest.fixture(scope="module")
def loaded():
    tools, manager = load_mcp_tools([STDIO_SPEC], call_timeout=20)
    yield {t.name: t for t in tools}, manager
    manager.close()


@pytest.fixture(scope="module")
def kernel(loaded, runtime, request):
    """A kernel with the MCP tools: local (unix-socket bridge), then on a real gateway
    (comm-message bridge)."""
    from gateway_helpers import runtime_config

    tools, _ = loaded
    with Session(runtime_config(runtime, request), tools=list(tools.values())) as s:
        yield s


def test_stubs_are_python_built_from_the_schema(loaded):
    tools, _ = loaded
    assert set(tools) >= {"add", "get_weather", "shout", "chart", "slow"}
    weather = tools["get_weather"]
    stub = weather.python_stub()
    compile(stub, "<stub>", "exec")
    assert stub.startswith("def get_weather(city: str, units: Literal['metric', "
                           "'imperial'] = 'metric') -> dict:")
    assert "Current weather for a city." in stub and "(MCP tool 'get-weather'.)" in stub
    assert tools["add"].signature == "(a: int, b: int) -> int"
    assert weather.listing().startswith("- get_weather(city: str")


def test_values_on_the_host(loaded):
    tools, _ = loaded
    assert tools["add"](2, 3) == 5  # {"result": 5} unwrapped
    assert tools["get_weather"]("Paris") == {"city": "Paris", "units": "metric", "temp": 21.5}
    assert tools["shout"]("hi", times=2) == "HI HI"  # text content -> str
    img = tools["chart"]()
    assert isinstance(img, Image) and img.mime_type == "image/png"
    assert img.data.startswith(b"\x89PNG")
    with pytest.raises(MCPToolError, match="no such city: Atlantis"):
        tools["get_weather"]("Atlantis")
    with pytest.raises(TypeError, match="missing required"):
        tools["add"](1)


def test_kernel_code_calls_mcp_tools_through_the_bridge(kernel):
    obs = kernel.execute("w = get_weather('Paris', units='imperial')\n"
                         "print(w['temp'], add(w['temp'] > 70, 41))")
    assert obs.ok, obs.error
    assert obs.stdout.strip() == "70.7 42"


def test_images_are_displayed_in_the_kernel(kernel):
    obs = kernel.execute("img = chart()\nprint(type(img).__name__, len(img.data))")
    assert obs.ok, obs.error
    assert len(obs.images) == 1 and obs.images[0].startswith(b"\x89PNG")
    assert obs.stdout.startswith("Image ")
    obs = kernel.execute("chart()")  # the last value too, but shown once
    assert len(obs.images) == 1 and obs.result == "<Image image/png, 70 bytes>"


def test_mcp_errors_are_exceptions_in_the_kernel(kernel):
    obs = kernel.execute("get_weather('Atlantis')")
    assert obs.error.name == "MCPToolError" and "no such city: Atlantis" in obs.error.message
    obs = kernel.execute("try:\n    get_weather('Atlantis')\nexcept RuntimeError as e:\n"
                         "    print('caught', type(e).__name__)")
    assert obs.stdout.strip() == "caught MCPToolError"
    obs = kernel.execute("add(1)")
    assert obs.error.name == "TypeError" and "add(a: int, b: int) -> int" in obs.error.message


def test_timeouts_are_timeout_errors_in_the_kernel(loaded, kernel):
    _, manager = loaded
    manager.call_timeout = 0.5
    try:
        obs = kernel.execute("try:\n    slow(2)\nexcept TimeoutError as e:\n"
                             "    print(type(e).__name__, e)")
    finally:
        manager.call_timeout = 20
    assert obs.ok, obs.error
    assert obs.stdout.startswith("MCPTimeoutError MCP tool 'slow'")


def test_http_server_tools_in_the_kernel():
    with demo_http_server() as url:
        tools, manager = load_mcp_tools([url])
        with manager, Session(tools=tools) as s:
            obs = s.execute("add(40, 2)")
            assert obs.ok and obs.result == "42"


def test_same_tool_names_from_two_servers_are_a_load_error():
    with pytest.raises(MCPLoadError, match="both become the Python function 'add'"):
        load_mcp_tools([STDIO_SPEC, STDIO_SPEC])


def test_no_specs_make_no_connection():
    tools, manager = load_mcp_tools([])
    assert tools == [] and manager.servers() == []
    manager.close()


def test_result_mapping_of_content_blocks():
    from mcp.types import (
        CallToolResult,
        EmbeddedResource,
        ImageContent,
        ResourceLink,
        TextContent,
        TextResourceContents,
    )

    png = base64.b64encode(b"\x89PNG...").decode()
    r = CallToolResult(content=[
        TextContent(type="text", text="caption"),
        ImageContent(type="image", data=png, mimeType="image/png"),
        EmbeddedResource(type="resource", resource=TextResourceContents(
            uri="file:///a.txt", text="file text")),
        ResourceLink(type="resource_link", uri="file:///b.csv", name="b.csv",
                     mimeType="text/csv")])
    assert result_value(r) == ["caption", Image(b"\x89PNG..."), "file text",
                               {"uri": "file:///b.csv", "name": "b.csv",
                                "mime_type": "text/csv"}]
    assert result_value(CallToolResult(content=[])) is None
    assert result_value(CallToolResult(content=[], structuredContent={"result": [1]}),
                        unwrap=True) == [1]
    assert result_value(CallToolResult(content=[], structuredContent={"result": [1]})) == {
        "result": [1]}
    with pytest.raises(MCPToolError, match="reported an error: bad input"):
        result_value(CallToolResult(content=[TextContent(type="text", text="bad input")],
                                    isError=True), tool="t")


def run_agent(llm, tools, action_format):
    agent = Agent(llm, tools, action_format=action_format, max_turns=4)
    try:
        events = list(agent.stream("What is the weather in Paris, in Fahrenheit?"))
    finally:
        agent.close()
    assert isinstance(events[-1], DoneEvent)
    return events[-1].trajectory


def test_agent_code_format_uses_mcp_tools(loaded):
    tools, _ = loaded
    llm = ScriptedLLM([
        "<execute>\nw = get_weather('Paris', units='imperial')\nprint(w['temp'])\n</execute>",
        "<solution>70.7</solution>"])
    traj = run_agent(llm, list(tools.values()), "code")
    assert traj.stop_reason == "solution" and traj.answer == "70.7"
    assert traj.turns[0].observation.startswith("70.7")
    # the system prompt shows the MCP tool as a Python function
    assert "def get_weather(city: str" in llm.calls[0][0]["content"]


def test_agent_json_format_calls_mcp_tools_directly(loaded):
    tools, _ = loaded
    llm = ScriptedLLM([
        '<execute>{"tool": "get_weather", "arguments": {"city": "Paris", '
        '"units": "imperial"}}</execute>',
        '<execute>{"tool": "get_weather", "arguments": {"city": "Atlantis"}}</execute>',
        "<solution>70.7</solution>"])
    traj = run_agent(llm, list(tools.values()), "json")
    assert traj.turns[0].observation.startswith('{"city": "Paris", "units": "imperial", '
                                                '"temp": 70.7}')
    assert "MCPToolError" in traj.turns[1].observation
    assert "no such city: Atlantis" in traj.turns[1].observation
    assert traj.answer == "70.7"


def test_cli_run_with_mcp(tmp_path):
    """`codeact run --mcp ...` with a scripted model, in a real subprocess."""
    import subprocess

    script = tmp_path / "llm.py"
    script.write_text(
        "from codeact.llm.scripted import ScriptedLLM\n"
        "def make(*a, **k):\n"
        "    return ScriptedLLM(['<execute>\\nprint(add(2, 40))\\n</execute>',"
        " '<solution>42</solution>'])\n")
    code = (f"import sys; sys.path.insert(0, {str(tmp_path)!r})\n"
            "import llm, codeact.llm.factory as f\n"
            "f.make_llm = llm.make\n"
            "from codeact.cli import app\n"
            f"app(['run', 'add', '--mcp', {STDIO_SPEC!r}, '--kernel-env', 'self', '-q'])\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, env={**__import__("os").environ,
                                           "CODEACT_CONFIG": str(tmp_path / "none.toml")})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().endswith("42")
