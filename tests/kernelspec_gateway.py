"""Test-side: a real ``jupyter kernelgateway`` on 127.0.0.1 and a minimal client for it.

The client speaks the gateway's own API (REST for kernels, one WebSocket for the
channels) and returns the runtime's :class:`Observation`, so the sandbox self-test's
attack checks (``runtime/selftest.py``) judge code run through the gateway unchanged.
Deliberately independent of codeact's gateway session: this checks the kernelspec.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from tornado.websocket import websocket_connect

from codeact.runtime.observation import ExecutionError, Observation


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Gateway:
    url: str
    token: str
    proc: subprocess.Popen[bytes]
    log: Path

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"token {self.token}"}

    def api(self, method: str, path: str, **kw: Any) -> httpx.Response:
        r = httpx.request(method, self.url + path, headers=self.headers, timeout=60, **kw)
        r.raise_for_status()
        return r


@contextlib.contextmanager
def kernel_gateway(jupyter_path: Path, kernel_name: str, workdir: Path) -> Iterator[Gateway]:
    """Start ``jupyter kernelgateway`` with ``kernel_name`` as its default; stop it after."""
    port, token = free_port(), secrets.token_hex(8)
    log = workdir / "gateway.log"
    env = {**os.environ, "JUPYTER_PATH": str(jupyter_path),
           "JUPYTER_RUNTIME_DIR": str(workdir / "runtime")}
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "kernel_gateway", "--KernelGatewayApp.ip=127.0.0.1",
             f"--KernelGatewayApp.port={port}", f"--KernelGatewayApp.auth_token={token}",
             f"--KernelGatewayApp.default_kernel_name={kernel_name}"],
            stdout=out, stderr=subprocess.STDOUT, env=env, cwd=workdir)
    gw = Gateway(f"http://127.0.0.1:{port}", token, proc, log)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                gw.api("GET", "/api")
                break
            except httpx.HTTPError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("gateway did not start:\n" + log.read_text()) from None
                time.sleep(0.2)
        yield gw
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _message(msg_type: str, content: dict[str, Any], session: str) -> dict[str, Any]:
    return {"header": {"msg_id": uuid.uuid4().hex, "username": "test", "session": session,
                       "msg_type": msg_type, "version": "5.3"},
            "parent_header": {}, "metadata": {}, "content": content, "channel": "shell",
            "buffers": []}


class GatewayKernel:
    """One kernel on a gateway: execute with a timeout (then interrupt, then restart)."""

    def __init__(self, gw: Gateway, kernel_id: str) -> None:
        self.gw, self.id = gw, kernel_id
        self.session = uuid.uuid4().hex
        self.ws: Any = None

    @classmethod
    async def start(cls, gw: Gateway) -> GatewayKernel:
        r = await asyncio.to_thread(gw.api, "POST", "/api/kernels", json={})
        k = cls(gw, r.json()["id"])
        await k.connect()
        return k

    async def connect(self) -> None:
        ws_url = self.gw.url.replace("http", "ws", 1) + f"/api/kernels/{self.id}/channels"
        from tornado.httpclient import HTTPRequest

        deadline = time.monotonic() + 60
        while True:  # the kernel may still be starting
            try:
                self.ws = await websocket_connect(
                    HTTPRequest(ws_url, headers=self.gw.headers), max_message_size=1 << 30)
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.5)
        while (await self.execute("1", timeout=60)).result != "1":
            await asyncio.sleep(0.5)

    async def execute(self, code: str, timeout: float = 30.0) -> Observation:
        msg = _message("execute_request", {
            "code": code, "silent": False, "store_history": True, "user_expressions": {},
            "allow_stdin": False, "stop_on_error": True}, self.session)
        msg_id = msg["header"]["msg_id"]
        await self.ws.write_message(json.dumps(msg))
        obs = Observation()
        t0 = time.monotonic()
        out: dict[str, list[str]] = {"stdout": [], "stderr": []}
        replied = idle = False
        deadline = t0 + timeout
        while not (replied and idle):
            left = deadline - time.monotonic()
            if left <= 0:
                if obs.timed_out:  # the interrupt did not help: restart the kernel
                    await self.restart()
                    obs.restarted, obs.restart_reason = True, "killed after the timeout"
                    break
                obs.timed_out = True
                await asyncio.to_thread(self.gw.api, "POST", f"/api/kernels/{self.id}/interrupt")
                deadline = time.monotonic() + 10
                continue
            try:
                raw = await asyncio.wait_for(self.ws.read_message(), left)
            except TimeoutError:
                continue
            if raw is None:
                raise ConnectionError("the gateway closed the kernel's channels")
            m = json.loads(raw)
            if m.get("parent_header", {}).get("msg_id") != msg_id:
                if m.get("msg_type") == "status" and \
                        m["content"].get("execution_state") in ("restarting", "dead"):
                    obs.restarted, obs.restart_reason = True, "the kernel died"
                    break
                continue
            kind, content = m["msg_type"], m["content"]
            if kind == "stream":
                out.setdefault(content["name"], []).append(content["text"])
            elif kind == "execute_result":
                obs.result = content["data"].get("text/plain")
            elif kind == "error":
                obs.error = ExecutionError(content["ename"], content["evalue"],
                                           "\n".join(content.get("traceback", [])))
            elif kind == "execute_reply":
                replied = True
            elif kind == "status" and content.get("execution_state") == "idle":
                idle = True
        obs.stdout, obs.stderr = "".join(out["stdout"]), "".join(out["stderr"])
        obs.duration = time.monotonic() - t0
        return obs

    async def restart(self) -> None:
        if self.ws is not None:
            self.ws.close()
        await asyncio.to_thread(self.gw.api, "POST", f"/api/kernels/{self.id}/restart")
        await self.connect()

    async def close(self) -> None:
        if self.ws is not None:
            self.ws.close()
        with contextlib.suppress(httpx.HTTPError):
            await asyncio.to_thread(self.gw.api, "DELETE", f"/api/kernels/{self.id}")
