"""A remote kernel's channels: the Jupyter kernel protocol over a gateway's WebSocket.

``/api/kernels/{id}/channels`` carries every channel (shell, control, iopub) as JSON text
frames with a ``channel`` field; the gateway signs and relays them to the kernel's zmq
sockets. :class:`GatewayChannels` is the WebSocket transport under
:class:`~codeact.runtime.kernel_client.ProtocolClient`, so output collection, replies and
comm routing are the same code as for local kernels. The kernel's death reaches the
session as ``died``: the socket closing (the gateway went away or dropped the kernel: seen
at once, no hang; pings catch a silent network) or the gateway saying the kernel is
restarting or dead (it crashed on a healthy gateway).
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
from typing import Any

from jupyter_client.jsonutil import json_default
from tornado.httpclient import HTTPClientError, HTTPRequest
from tornado.websocket import WebSocketClientConnection, WebSocketError, websocket_connect

from ..kernel_client import MAX_MSG_BYTES, ProtocolClient
from .endpoints import Gateway, GatewayError

__all__ = ["PING_INTERVAL", "GatewayChannels"]

log = logging.getLogger("codeact.runtime")

PING_INTERVAL = 5.0  # seconds between WebSocket pings (a silent network is noticed)
CONNECT_TIMEOUT = 20.0
_QUICKACK: int | None = getattr(socket, "TCP_QUICKACK", None)  # Linux only


class GatewayChannels(ProtocolClient):
    """One remote kernel's channels over its gateway's WebSocket."""

    def __init__(self, gateway: Gateway, kernel_id: str,
                 died: asyncio.Future[int | None]) -> None:
        super().__init__(died)
        self.gateway = gateway
        self.kernel_id = kernel_id
        self.ws: WebSocketClientConnection | None = None
        self.lost: str | None = None  # why the channels ended, in words
        self._sock: socket.socket | None = None
        self.busy_with: set[str] = set()  # requests the kernel said it is busy with

    @property
    def connected(self) -> bool:
        return self.ws is not None and self.lost is None

    async def connect(self) -> None:
        """Open the WebSocket and start reading."""
        req = HTTPRequest(self.gateway.ws_url(self.kernel_id, self.jsession.session),
                          headers=self.gateway.headers, connect_timeout=CONNECT_TIMEOUT,
                          request_timeout=CONNECT_TIMEOUT)
        try:
            self.ws = await websocket_connect(req, max_message_size=MAX_MSG_BYTES,
                                              ping_interval=PING_INTERVAL,
                                              ping_timeout=PING_INTERVAL)
        except (HTTPClientError, OSError, WebSocketError) as exc:
            self.gateway.mark_down(str(exc))
            raise GatewayError(f"gateway {self.gateway.url}: cannot open the kernel's "
                               f"channels ({exc})") from None
        stream = getattr(self.ws.protocol, "stream", None)
        if stream is not None:  # small requests at once (Nagle + delayed ACK: 40 ms each)
            stream.set_nodelay(True)
            self._sock = getattr(stream, "socket", None)
        self.tasks.append(asyncio.get_running_loop().create_task(self._reader()))

    def _send(self, channel: str, msg: dict) -> None:
        if self.ws is None or self.lost is not None:
            raise GatewayError(f"gateway {self.gateway.url}: the kernel's channels are closed "
                               f"({self.lost or 'not connected'})")
        frame: dict[str, Any] = {"header": msg["header"], "parent_header":
                                 msg.get("parent_header") or {}, "metadata":
                                 msg.get("metadata") or {}, "content": msg.get("content") or {},
                                 "buffers": [], "channel": channel}
        self.ws.write_message(json.dumps(frame, default=json_default, ensure_ascii=False))

    async def _reader(self) -> None:
        assert self.ws is not None
        ws = self.ws
        while True:
            try:
                text = await ws.read_message()
            except asyncio.CancelledError:
                return
            self._quickack()
            if text is None:  # closed: the gateway went away, or dropped the kernel, or
                reason = ws.close_reason or (f"code {ws.close_code}" if ws.close_code else
                                             "connection closed")
                if ws.close_code is None and await self._gateway_answers():
                    # ...we closed it: a message over our limit (a huge image, say)
                    self._end(f"the connection to the kernel on gateway {self.gateway.url} "
                              f"broke ({reason}) while the gateway still answers: the kernel "
                              f"probably sent a message over {MAX_MSG_BYTES >> 20} MB",
                              gateway_down=False)
                    return
                self._end(f"the connection to gateway {self.gateway.url} broke ({reason})",
                          gateway_down=ws.close_code is None)
                return
            if isinstance(text, bytes):
                continue  # binary frames carry buffers, which codeact's messages never have
            try:
                msg = json.loads(text)
                channel = str(msg.pop("channel", ""))
            except (ValueError, AttributeError):
                log.debug("dropped a malformed gateway message")
                continue
            if (channel == "iopub" and msg.get("msg_type") == "status"
                    and (msg.get("content") or {}).get("execution_state")
                    in ("restarting", "autorestarting", "dead")):
                state = msg["content"]["execution_state"]
                self._end(f"the kernel died on gateway {self.gateway.url} (the gateway "
                          f"reported it {state})", gateway_down=False)
                return
            if channel == "iopub" and msg.get("msg_type") == "status":
                self._track(msg)
            self.deliver(channel, msg)

    async def _gateway_answers(self) -> bool:
        """Whether the gateway still answers (its ``/api``), after the socket closed."""
        try:
            await self.gateway.request("GET", "/api", timeout=2.0)
            return True
        except GatewayError:
            return False

    def _track(self, msg: dict) -> None:
        """Which requests the kernel is busy with (from its busy/idle status messages)."""
        parent = (msg.get("parent_header") or {}).get("msg_id")
        state = (msg.get("content") or {}).get("execution_state")
        if parent and state == "busy":
            self.busy_with.add(parent)
        elif parent and state == "idle":
            self.busy_with.discard(parent)

    @property
    def idle(self) -> bool:
        """The kernel is not running anything we know of (so a request is answered now)."""
        return not self.busy_with

    def _quickack(self) -> None:
        """ACK at once. Gateways do not set TCP_NODELAY on their side, so each small frame
        after the first waits for our ACK, which Linux delays by 40 ms: a kernel_info
        round trip took 4 or 44 ms alternately. Quick-ack mode is not sticky, so it is set
        again after every message."""
        if self._sock is not None and _QUICKACK is not None:
            try:
                self._sock.setsockopt(socket.IPPROTO_TCP, _QUICKACK, 1)
            except OSError:
                pass

    def _end(self, why: str, *, gateway_down: bool) -> None:
        self.lost = why
        if gateway_down:
            self.gateway.mark_down(why)
        if not self.died.done():
            self.died.set_result(None)

    def close(self) -> None:
        if self.lost is None:
            self.lost = "closed"
        super().close()
        if self.ws is not None:
            self.ws.close()
            self.ws = None
