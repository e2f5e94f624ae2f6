"""MCP round trips: `python benchmarks/mcp_latency.py [-n 200]`.

Prints p50/p95 of
- an MCP tool call made from code in the sandboxed kernel (kernel → tool bridge → host →
  MCP server over stdio → back), next to a plain host tool call through the same bridge
  (the bridge alone) and the same MCP call made on the host (the MCP part alone);
- `run_python` through `codeact mcp`, with the SDK's client, over stdio and streamable
  HTTP (client → server → sandboxed kernel runs `1 + 1` → back).
Needs the `mcp` extra and bubblewrap (or pass --unsafe-no-sandbox).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ECHO_SERVER = '''
from mcp.server.fastmcp import FastMCP
server = FastMCP("echo", log_level="WARNING")

@server.tool()
def echo(text: str) -> str:
    """Return the text."""
    return text

server.run("stdio")
'''
SRC = str(Path(__file__).resolve().parents[1] / "src")


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, round(p / 100 * (len(xs) - 1))))]


def show(name: str, xs: list[float]) -> None:
    print(f"{name:52} p50 {pct(xs, 50) * 1000:7.2f} ms   p95 {pct(xs, 95) * 1000:7.2f} ms"
          f"   (n={len(xs)})", flush=True)


def kernel_calls(n: int, sandbox: str) -> None:
    from codeact.mcp import load_mcp_tools
    from codeact.runtime import Session
    from codeact.tools import tool

    @tool
    def host_echo(text: str) -> str:
        """Return the text (a plain host tool)."""
        return text

    with tempfile.TemporaryDirectory() as d:
        script = Path(d) / "echo_server.py"
        script.write_text(ECHO_SERVER)
        tools, manager = load_mcp_tools([f"{sys.executable} {script}"])
        with manager, Session(sandbox, tools=[*tools, host_echo]) as s:
            timer = ("import time, json\nts = []\nfor i in range({n}):\n"
                     "    t = time.perf_counter(); {call}('x')\n"
                     "    ts.append(time.perf_counter() - t)\n"
                     "print(json.dumps(ts))")
            for name, call in (("host tool through the bridge (baseline)", "host_echo"),
                               ("MCP tool call from kernel code (stdio server)", "echo")):
                s.execute(timer.format(n=5, call=call))  # warm-up
                obs = s.execute(timer.format(n=n, call=call), timeout=600)
                assert obs.ok, obs.error
                show(name, json.loads(obs.stdout))
            ts = []
            for _ in range(n):
                t = time.perf_counter()
                manager.call(0, "echo", {"text": "x"})
                ts.append(time.perf_counter() - t)
            show("MCP tool call on the host (no kernel)", ts)


async def run_python_calls(n: int, unsafe: bool) -> None:
    from mcp import ClientSession
    from mcp.client.stdio import StdioServerParameters, stdio_client
    from mcp.client.streamable_http import streamable_http_client

    args = ["-m", "codeact.cli", "mcp"] + (["--unsafe-no-sandbox"] if unsafe else [])
    params = StdioServerParameters(command=sys.executable, args=args,
                                   env={"PYTHONPATH": SRC, "CODEACT_CONFIG": os.devnull})

    async def measure(name: str, session: ClientSession) -> None:
        t = time.perf_counter()
        await session.call_tool("run_python", {"code": "x = 0"})  # starts the kernel
        print(f"{'first run_python (starts the kernel)':52} {time.perf_counter() - t:7.2f} s",
              flush=True)
        ts = []
        for _ in range(n):
            t = time.perf_counter()
            res = await session.call_tool("run_python", {"code": "1 + 1"})
            ts.append(time.perf_counter() - t)
            assert res.structuredContent["result"] == "2"
        show(name, ts)

    async with stdio_client(params) as (r, w), ClientSession(r, w) as s:
        await s.initialize()
        await measure("run_python('1 + 1') through codeact mcp (stdio)", s)

    from codeact.mcp.server import ServerConfig, http_app

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from mcp_helpers import uvicorn_thread

    app, _ = http_app(ServerConfig(sandbox="none" if unsafe else "bwrap"))
    with uvicorn_thread(app) as port:
        url = f"http://127.0.0.1:{port}/mcp"
        async with streamable_http_client(url) as (r, w, _), ClientSession(r, w) as s:
            await s.initialize()
            await measure("run_python('1 + 1') through codeact mcp (HTTP)", s)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=200, help="calls per measurement")
    parser.add_argument("--unsafe-no-sandbox", action="store_true")
    a = parser.parse_args()
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load "
          f"{os.getloadavg()[0]:.1f}", flush=True)
    kernel_calls(a.n, "none" if a.unsafe_no_sandbox else "bwrap")
    asyncio.run(run_python_calls(a.n, a.unsafe_no_sandbox))


if __name__ == "__main__":
    main()
