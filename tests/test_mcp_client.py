"""The host-side connection manager against a real MCP server (stdio and HTTP)."""

import os
import sys
import threading

import pytest
from mcp_helpers import STDIO_SPEC, demo_http_server

from codeact.mcp.client import MCPManager, parse_spec
from codeact.mcp.errors import MCPConnectionError, MCPLoadError, MCPTimeoutError


def test_parse_spec():
    s = parse_spec("API_KEY=abc 'my server' --flag 'a b'")
    assert s.transport == "stdio" and s.command == ("my server", "--flag", "a b")
    assert s.env == (("API_KEY", "abc"),) and s.label == "'my server' --flag 'a b'"
    u = parse_spec(" https://example.com/mcp ")
    assert u.transport == "http" and u.url == "https://example.com/mcp" and u.headers == ()
    h = parse_spec("'Authorization=Bearer t0k' X-Api-Key=k http://127.0.0.1:9/mcp")
    assert h.headers == (("Authorization", "Bearer t0k"), ("X-Api-Key", "k"))
    assert h.label == "http://127.0.0.1:9/mcp"
    for bad in ("", "   ", "A=1", "'unclosed", "http://a b", "X-Y=1 python s.py"):
        with pytest.raises(MCPLoadError):
            parse_spec(bad)



@pytest.mark.parametrize("spec", ["'Authorization=Bearer s3cr3t' https://h/mcp extra",
                                  "API_KEY=s3cr3t", "TOKEN=s3cr3t 'unclosed",
                                  "X-Key=\"s3cr3t value\" python s.py"])
def test_a_refused_spec_never_shows_its_secrets(spec):
    with pytest.raises(MCPLoadError) as info:
        parse_spec(spec)
    assert "s3cr3t" not in str(info.value) and "[redacted]" in str(info.value)


@pytest.fixture(scope="module")
def stdio():
    with MCPManager([STDIO_SPEC], call_timeout=20) as m:
        yield m


def test_stdio_lists_tools_and_calls_them(stdio):
    (spec, name, tools), = stdio.servers()
    assert name == "codeact-demo" and spec.transport == "stdio"
    assert {"add", "get-weather", "chart", "slow"} <= {t.name for t in tools}
    result = stdio.call(0, "add", {"a": 2, "b": 3})
    assert result.structuredContent == {"result": 5} and not result.isError


def test_calls_from_many_threads_share_one_connection(stdio):
    out = {}

    def worker(i):
        out[i] = stdio.call(0, "add", {"a": i, "b": 1}).structuredContent["result"]

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert out == {i: i + 1 for i in range(16)}
    pids = {stdio.call(0, "whoami").content[0].text for _ in range(3)}
    assert len(pids) == 1


def test_timeout_is_a_clear_timeout_error(stdio):
    with pytest.raises(MCPTimeoutError, match=r"'slow' .* did not answer within 0.5 s"):
        stdio.call(0, "slow", {"seconds": 2}, timeout=0.5)
    assert stdio.call(0, "add", {"a": 1, "b": 1}).structuredContent == {"result": 2}


def test_a_dead_server_is_reported_then_restarted():
    with MCPManager([STDIO_SPEC]) as m:
        before = m.call(0, "whoami").content[0].text
        with pytest.raises(MCPConnectionError, match="connection to .* was lost"):
            m.call(0, "crash")
        after = m.call(0, "whoami").content[0].text
        assert after != before


def test_close_stops_the_stdio_server():
    m = MCPManager([STDIO_SPEC]).start()
    pid = int(m.call(0, "whoami").content[0].text)
    m.close()
    assert m.closed
    with pytest.raises(ProcessLookupError):
        for _ in range(50):
            os.kill(pid, 0)
            threading.Event().wait(0.1)
    with pytest.raises(MCPConnectionError):
        m.call(0, "whoami")


def test_a_server_that_fails_to_start_is_a_load_error_with_its_stderr():
    code = "import sys; print('no config file found', file=sys.stderr); sys.exit(2)"
    bad = f"{sys.executable} -c \"{code}\""
    with pytest.raises(MCPLoadError) as err:
        MCPManager([bad], connect_timeout=10).start()
    assert "could not be used" in str(err.value)
    assert "no config file found" in str(err.value)


def test_a_missing_command_is_a_load_error():
    with pytest.raises(MCPLoadError, match="no-such-mcp-server"):
        MCPManager(["no-such-mcp-server --x"], connect_timeout=10).start()


def test_a_server_that_never_answers_times_out_at_start():
    silent = f"{sys.executable} -c \"import time; time.sleep(60)\""
    with pytest.raises(MCPLoadError, match="did not finish starting within 1 s"):
        MCPManager([silent], connect_timeout=1).start()


def test_env_words_reach_the_server(tmp_path):
    script = tmp_path / "envserver.py"
    script.write_text(
        "import os\nfrom mcp.server.fastmcp import FastMCP\ns = FastMCP('env')\n"
        "@s.tool()\ndef env(name: str):\n    return os.environ.get(name, '<unset>')\n"
        "s.run('stdio')\n")
    spec = f"CODEACT_TEST_VAR='a b' {sys.executable} {script}"
    os.environ["CODEACT_SECRET_TEST"] = "leak"
    try:
        with MCPManager([spec]) as m:
            assert m.call(0, "env", {"name": "CODEACT_TEST_VAR"}).content[0].text == "a b"
            # like the SDK: only a few variables of the host's environment are inherited
            assert m.call(0, "env", {"name": "CODEACT_SECRET_TEST"}).content[0].text == "<unset>"
    finally:
        del os.environ["CODEACT_SECRET_TEST"]


def test_streamable_http():
    with demo_http_server() as url, MCPManager([url]) as m:
        (spec, name, tools), = m.servers()
        assert spec.transport == "http" and name == "codeact-demo"
        assert m.call(0, "add", {"a": 20, "b": 22}).structuredContent == {"result": 42}
        with pytest.raises(MCPTimeoutError):
            m.call(0, "slow", {"seconds": 2}, timeout=0.5)


def test_an_unreachable_url_is_a_load_error():
    from mcp_helpers import free_port

    with pytest.raises(MCPLoadError, match="could not be used"):
        MCPManager([f"http://127.0.0.1:{free_port()}/mcp"], connect_timeout=10).start()
