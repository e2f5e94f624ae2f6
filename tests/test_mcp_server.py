"""`codeact mcp` through the SDK's own client: stdio (a real subprocess) and streamable
HTTP (in-process, behind the Guard), one sandboxed kernel per MCP session."""

import asyncio
import base64
import os
import sys
from pathlib import Path

import httpx
import pytest
from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from mcp.shared.exceptions import McpError
from mcp_helpers import uvicorn_thread

from codeact.mcp.server import ServerConfig, http_app

SRC = str(Path(__file__).resolve().parents[1] / "src")
PNG = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5"
       "ErkJggg==")


def stdio_params(*args: str) -> StdioServerParameters:
    return StdioServerParameters(
        command=sys.executable, args=["-m", "codeact.cli", "mcp", *args],
        env={"PYTHONPATH": SRC, "CODEACT_CONFIG": os.devnull})


async def test_stdio_session_end_to_end():
    async with stdio_client(stdio_params()) as (r, w), ClientSession(r, w) as s:
        init = await s.initialize()
        assert init.serverInfo.name == "codeact" and "persistent" in init.instructions
        names = [t.name for t in (await s.list_tools()).tools]
        assert names == ["run_python", "list_files", "read_file", "write_file", "reset"]

        res = await s.call_tool("run_python", {"code": "x = 41\nprint('hi')\nx + 1"})
        assert res.structuredContent["stdout"] == "hi\n"
        assert res.structuredContent["result"] == "42" and res.structuredContent["error"] is None
        assert res.content[0].text == "hi\nOut: 42" and not res.isError

        res = await s.call_tool("run_python", {"code": "x * 2"})  # state persists
        assert res.structuredContent["result"] == "82"

        res = await s.call_tool("run_python", {"code": "1/0"})
        err = res.structuredContent["error"]
        assert err["name"] == "ZeroDivisionError" and "ZeroDivisionError" in res.content[0].text

        code = ("from IPython.display import Image, display\nimport base64\n"
                f"display(Image(base64.b64decode({PNG!r})))")
        res = await s.call_tool("run_python", {"code": code})
        assert res.structuredContent["images"] == 1
        assert [c.type for c in res.content] == ["text", "image"]
        assert base64.b64decode(res.content[1].data).startswith(b"\x89PNG")

        res = await s.call_tool("run_python", {"code": "import time; time.sleep(10)",
                                               "timeout": 1})
        assert res.structuredContent["timed_out"] is True

        res = await s.call_tool("run_python", {"code": "import socket\n"
                                               "socket.create_connection(('1.1.1.1', 80), 2)"})
        assert res.structuredContent["error"] is not None  # no network in the sandbox

        await s.call_tool("write_file", {"path": "data/in.txt", "content": "héllo"})
        res = await s.call_tool("run_python", {"code": "open('data/in.txt').read().upper()"})
        assert res.structuredContent["result"] == "'HÉLLO'"
        await s.call_tool("run_python", {"code": "open('out.csv', 'w').write('a,b\\n1,2\\n')"})
        files = (await s.call_tool("list_files", {})).structuredContent["files"]
        assert {"path": "data/in.txt", "size": 6} in files and {"path": "out.csv",
                                                                 "size": 8} in files
        res = await s.call_tool("read_file", {"path": "/workspace/out.csv"})
        assert res.content[0].text == "a,b\n1,2\n"

        res = await s.call_tool("read_file", {"path": "../../etc/passwd"})
        assert res.isError and "'..' is not allowed" in res.content[0].text
        await s.call_tool("run_python", {"code": "import os; os.symlink('/etc/passwd', 'pw')"})
        res = await s.call_tool("read_file", {"path": "pw"})
        assert res.isError and "root:" not in res.content[0].text

        res = await s.call_tool("reset", {})
        assert "reset" in res.content[0].text
        res = await s.call_tool("run_python", {"code": "x"})
        assert res.structuredContent["error"]["name"] == "NameError"
        res = await s.call_tool("read_file", {"path": "data/in.txt"})  # files stay
        assert res.content[0].text == "héllo"


@pytest.fixture
def http_server(tmp_path):
    """codeact mcp over HTTP with a cap of 2 sessions; yields (url, sessions)."""
    config = ServerConfig(max_sessions=2, idle_timeout=60)
    app, sessions = http_app(config, host="127.0.0.1", token=None)
    with uvicorn_thread(app) as port:
        yield f"http://127.0.0.1:{port}/mcp", sessions


async def run(s: ClientSession, code: str) -> dict:
    return (await s.call_tool("run_python", {"code": code})).structuredContent


async def test_http_sessions_get_their_own_kernels_and_are_closed(http_server):
    url, sessions = http_server
    async with streamable_http_client(url) as (r1, w1, _), ClientSession(r1, w1) as a, \
            streamable_http_client(url) as (r2, w2, _), ClientSession(r2, w2) as b:
        await a.initialize()
        await b.initialize()
        assert len(sessions.live) == 2
        await run(a, "secret = 'a'")
        assert (await run(b, "'secret' in dir()"))["result"] == "False"
        await a.call_tool("write_file", {"path": "only-a.txt", "content": "x"})
        assert (await b.call_tool("list_files", {})).structuredContent["files"] == []
        states = sessions.states()
        assert len({st.workspace for st in states}) == 2
        kernels = [st.session for st in states if st.session is not None]
        workspaces = [st.workspace for st in states]
        assert len(kernels) == 2 and all(k.alive for k in kernels)
    for _ in range(100):  # the clients ended their sessions (DELETE): kernels close
        if not sessions.live:
            break
        await asyncio.sleep(0.1)
    assert not sessions.live
    assert not any(k.alive for k in kernels)
    assert not any(w.exists() for w in workspaces)


async def test_http_busy_past_the_session_cap(http_server):
    url, sessions = http_server
    async with streamable_http_client(url) as (r1, w1, _), ClientSession(r1, w1) as a, \
            streamable_http_client(url) as (r2, w2, _), ClientSession(r2, w2) as b:
        await a.initialize()
        await b.initialize()
        async with streamable_http_client(url) as (r3, w3, _), ClientSession(r3, w3) as c:
            with pytest.raises(McpError, match=r"busy: 2 sessions are open.*--max-sessions 2"):
                await c.initialize()


async def test_http_token_and_origin(tmp_path):
    app, _ = http_app(ServerConfig(), host="127.0.0.1", token="s3cret")
    with uvicorn_thread(app) as port:
        url = f"http://127.0.0.1:{port}/mcp"
        body = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
        hdrs = {"Accept": "application/json, text/event-stream"}
        async with httpx.AsyncClient() as h:
            r = await h.post(url, json=body, headers=hdrs)
            assert r.status_code == 401 and "access token" in r.json()["detail"]
            r = await h.post(url, json=body, headers={**hdrs, "Authorization": "Bearer no"})
            assert r.status_code == 401
            r = await h.post(url, json=body, headers={**hdrs, "Authorization": "Bearer s3cret",
                                                      "Origin": "http://evil.example"})
            assert r.status_code == 403
            r = await h.post(url, json=body, headers={**hdrs, "Host": "evil.example"})
            assert r.status_code == 400
        client = create_mcp_http_client(headers={"Authorization": "Bearer s3cret"})
        async with client, streamable_http_client(url, http_client=client) as (r, w, _), \
                ClientSession(r, w) as s:
            await s.initialize()
            assert (await run(s, "6 * 7"))["result"] == "42"


def test_codeact_mcp_tools_from_codeact_itself(tmp_path):
    """Part one against part two: codeact's MCP client (a URL spec with an Authorization
    header) uses `codeact mcp`'s run_python; a stdio spec runs `codeact mcp` itself."""
    from codeact.mcp import load_mcp_tools

    app, _ = http_app(ServerConfig(), host="127.0.0.1", token="t0k")
    with uvicorn_thread(app) as port:
        spec = f"'Authorization=Bearer t0k' http://127.0.0.1:{port}/mcp"
        tools, manager = load_mcp_tools([spec])
        with manager:
            by = {t.name: t for t in tools}
            assert by["run_python"]("y = 5\ny * 3")["result"] == "15"
            assert by["run_python"]("y + 1")["result"] == "6"  # one session per connection
    spec = (f"PYTHONPATH={SRC} CODEACT_CONFIG={os.devnull} {sys.executable} -m codeact.cli mcp")
    tools, manager = load_mcp_tools([spec])
    with manager:
        assert {t.name: t for t in tools}["run_python"]("2 ** 10")["result"] == "1024"
