"""`codeact mcp` and `codeact mcp tools` on the command line."""

from mcp_helpers import STDIO_SPEC
from typer.testing import CliRunner

from codeact.cli import app

runner = CliRunner()


def test_tools_prints_the_stubs_the_model_sees():
    result = runner.invoke(app, ["mcp", "tools", STDIO_SPEC])
    assert result.exit_code == 0, result.output
    assert "def get_weather(city: str, units: Literal['metric', 'imperial'] = 'metric')" \
        in result.stdout
    assert "def add(a: int, b: int) -> int:" in result.stdout


def test_tools_with_a_broken_server_fails_in_one_line():
    result = runner.invoke(app, ["mcp", "tools", "no-such-mcp-command"])
    assert result.exit_code == 2
    assert "error: MCP server 'no-such-mcp-command' could not be used" in result.output


def test_bad_transport():
    result = runner.invoke(app, ["mcp", "--transport", "carrier-pigeon"])
    assert result.exit_code == 2 and "stdio or http" in result.output


def test_a_short_token_beyond_localhost_is_refused():
    result = runner.invoke(app, ["mcp", "--transport", "http", "--host", "0.0.0.0",
                                 "--token", "short"])
    assert result.exit_code == 2 and "at least 16 characters" in result.output


def test_help_lists_the_options():
    result = runner.invoke(app, ["mcp", "--help"])
    assert result.exit_code == 0
    for option in ("--transport", "--max-sessions", "--token", "--workspace"):
        assert option in result.output
