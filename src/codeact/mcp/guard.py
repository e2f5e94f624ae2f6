"""HTTP access rules of ``codeact mcp --transport http``, mirroring ``codeact serve``.

- Bound to localhost: requests must name a local host in their ``Host`` header (so a web
  page cannot reach the server through DNS rebinding), and no token is needed.
- Bound to anything else: a token is required (``--token`` / ``CODEACT_MCP_TOKEN``, or one
  generated and printed once), sent as ``Authorization: Bearer TOKEN``.
- Always: a request that carries an ``Origin`` header must come from the server's own
  origin (``Origin: null`` is refused), so a browser page cannot drive it (CSRF). The MCP
  specification asks servers to check ``Origin`` on every request, so GET is checked too.
- Always: a request body is at most ``MAX_REQUEST_BODY`` bytes (413 when its length says
  more; a chunked body is cut off there), so no client can fill the server's memory.
- Past the session cap, a request that would open a new MCP session is answered with a
  JSON-RPC error saying the server is busy, which MCP clients show as it is.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from codeact.hosts import is_local_host, limited_receive, request_host

MAX_BODY = 4 << 20  # bytes of a request that opens a session (an initialize request)
MAX_REQUEST_BODY = 64 << 20  # any request: a write_file call carries the whole file
BUSY_CODE = -32000


class Guard:
    """ASGI middleware in front of the MCP app (see the module docstring).

    ``busy()`` returns a message when no new session may open, else None.
    """

    def __init__(self, app: Any, *, token: str | None, check_host: bool,
                 busy: Callable[[], str | None] | None = None) -> None:
        self.app = app
        self.token = token
        self.check_host = check_host
        self.busy = busy

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers, host_header, host = request_host(scope)
        if self.check_host and host_header and not is_local_host(host):
            return await _send_json(send, 400, {"detail": "this server only answers to "
                                                "localhost (the Host header names another "
                                                "host)"})
        origin = headers.get("origin")
        if origin is not None and (origin == "null" or urlsplit(origin).netloc != host_header):
            return await _send_json(send, 403, {"detail": "cross-origin request refused"})
        if self.token:
            auth = headers.get("authorization", "")
            given = auth[7:].strip() if auth.lower().startswith("bearer ") else ""
            if not secrets.compare_digest(given.encode(), self.token.encode()):
                return await _send_json(send, 401, {
                    "detail": "missing or wrong access token: send 'Authorization: Bearer "
                              "TOKEN' (see codeact mcp --token)"},
                    [(b"www-authenticate", b"Bearer")])
        length = headers.get("content-length", "")
        if length.isdigit() and int(length) > MAX_REQUEST_BODY:
            return await _send_json(send, 413, {"detail": "the request body is larger than "
                                                f"the limit of {MAX_REQUEST_BODY} bytes"})
        receive = limited_receive(receive, MAX_REQUEST_BODY)
        if (self.busy is not None and scope["method"] == "POST"
                and "mcp-session-id" not in headers):
            message = self.busy()
            if message is not None:
                return await self._refuse(receive, send, message)
        await self.app(scope, receive, send)

    async def _refuse(self, receive: Callable, send: Callable, message: str) -> None:
        """Answer a session-opening request with a JSON-RPC error (its id when readable)."""
        body = b""
        while len(body) <= MAX_BODY:
            event = await receive()
            if event["type"] != "http.request":
                break
            body += event.get("body", b"")
            if not event.get("more_body"):
                break
        request_id: Any = None
        try:
            parsed = json.loads(body)
            if isinstance(parsed, dict):
                request_id = parsed.get("id")
        except ValueError:
            pass
        await _send_json(send, 200, {"jsonrpc": "2.0", "id": request_id,
                                     "error": {"code": BUSY_CODE, "message": message}})


async def _send_json(send: Callable, status: int, obj: Any,
                     extra: list[tuple[bytes, bytes]] | None = None) -> None:
    body = json.dumps(obj).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()), *(extra or [])]})
    await send({"type": "http.response.body", "body": body})
