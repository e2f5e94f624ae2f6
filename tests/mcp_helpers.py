"""Helpers for the MCP tests: the demo server over stdio and HTTP, free ports, uvicorn in
a thread. Not collected by pytest (no ``test_`` prefix)."""

from __future__ import annotations

import contextlib
import shlex
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

DEMO = Path(__file__).with_name("mcp_demo_server.py")
STDIO_SPEC = f"{shlex.quote(sys.executable)} {shlex.quote(str(DEMO))}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on port {port}")


@contextlib.contextmanager
def demo_http_server() -> Iterator[str]:
    """The demo server over streamable HTTP in a subprocess; yields its URL."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, str(DEMO), "--http", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


@contextlib.contextmanager
def uvicorn_thread(app: Any) -> Iterator[int]:
    """Serve an ASGI app on a free local port in a thread; yields the port."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        wait_for_port(port)
        yield port
    finally:
        server.should_exit = True
        thread.join(15)
