"""A small real MCP server for the tests (the official SDK's FastMCP).

``python tests/mcp_demo_server.py`` serves over stdio; ``--http PORT`` serves streamable
HTTP on 127.0.0.1:PORT at ``/mcp``. Not collected by pytest (no ``test_`` prefix).
"""

from __future__ import annotations

import base64
import os
import sys
import time
from typing import Any, Literal

from mcp.server.fastmcp import FastMCP, Image
from mcp.server.fastmcp.exceptions import ToolError

# a 1x1 PNG
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")

server = FastMCP("codeact-demo")


@server.tool()
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


@server.tool(name="get-weather")
def get_weather(city: str, units: Literal["metric", "imperial"] = "metric") -> dict[str, Any]:
    """Current weather for a city."""
    if city == "Atlantis":
        raise ToolError("no such city: Atlantis")
    temp = 21.5 if units == "metric" else 70.7
    return {"city": city, "units": units, "temp": temp}


@server.tool()
def shout(text: str, times=1):
    """Upper-case text (plain text content, no output schema)."""
    return " ".join([text.upper()] * int(times))


@server.tool()
def chart() -> Image:
    """A tiny PNG chart."""
    return Image(data=PNG, format="png")


@server.tool()
def slow(seconds: float):
    """Sleep, then answer."""
    time.sleep(seconds)
    return f"slept {seconds}"


@server.tool()
def crash():
    """Exit the server process at once (to test a lost connection)."""
    os._exit(3)


@server.tool()
def whoami():
    """The server's process id (to see restarts)."""
    return str(os.getpid())


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--http":
        import uvicorn

        print("demo server starting", file=sys.stderr, flush=True)
        uvicorn.run(server.streamable_http_app(), host="127.0.0.1", port=int(sys.argv[2]),
                    log_level="warning")
    else:
        print("demo server starting", file=sys.stderr, flush=True)
        server.run("stdio")
