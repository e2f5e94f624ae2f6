"""Test-side: a real ``jupyter kernelgateway`` on 127.0.0.1 and a minimal client for it.

The gateway process is ``gateway_helpers.start_gateway``'s. The client speaks the
gateway's own API (REST for kernels, one WebSocket for the
channels) and returns the runtime's :class:`Observation`, so the sandbox self-test's
attack checks (``runtime/selftest.py``) judge code run through the gateway unchanged.
Deliberately independent of codeact's gateway session: this checks the kernelspec.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
from tornado.websocket import websocket_connect

from codeact.runtime.observation import ExecutionError, Observation


def api(gw: Any, method: str, path: str, **kw: Any) -> httpx.Response:
    """One REST call to the gateway (``gw``: a ``gateway_helpers.GatewayProcess``)."""
    r = httpx.request(method, gw.url + path, headers=gw.headers, timeout=60, **kw)
    r.raise_for_status()
    return r


@contextlib.contextmanager
def gateway_serving(jupyter_path: Path, workdir: Path) -> Iterator[Any]:
    """A real ``jupyter kernelgateway`` (``gateway_helpers.start_gateway``) that finds
    the kernelspecs under ``jupyter_path``; stopped with all its kernels after."""
    from gateway_helpers import start_gateway

    old = os.environ.get("JUPYTER_PATH")
    os.environ["JUPYTER_PATH"] = str(jupyter_path)
    try:
        gw = start_gateway(workdir)
    finally:
        if old is None:
            os.environ.pop("JUPYTER_PATH", None)
        else:
            os.environ["JUPYTER_PATH"] = old
    try:
        yield gw
    finally:
        gw.stop()


def _message(msg_type: str, content: dict[str, Any], session: str) -> dict[str, Any]:
    return {"header": {"msg_id": uuid.uuid4().hex, "username": "test", "session": session,
                       "msg_type": msg_type, "version": "5.3"},
            "parent_header": {}, "metadata": {}, "content": content, "channel": "shell",
            "buffers": []}


class GatewayKernel:
    """One kernel on a gateway: execute with a timeout (then interrupt, then restart)."""

    def __init__(self, gw: Any, kernel_id: str) -> None:
        self.gw, self.id = gw, kernel_id
        self.session = uuid.uuid4().hex
        self.ws: Any = None

    @classmethod
    async def start(cls, gw: Any, kernel_name: str) -> GatewayKernel:
        r = await asyncio.to_thread(api, gw, "POST", "/api/kernels", json={"name": kernel_name})
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
                await asyncio.to_thread(api, self.gw, "POST", f"/api/kernels/{self.id}/interrupt")
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
        await asyncio.to_thread(api, self.gw, "POST", f"/api/kernels/{self.id}/restart")
        await self.connect()

    async def close(self) -> None:
        if self.ws is not None:
            self.ws.close()
        with contextlib.suppress(httpx.HTTPError):
            await asyncio.to_thread(api, self.gw, "DELETE", f"/api/kernels/{self.id}")
