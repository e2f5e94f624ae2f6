"""The HTTP access rules of `codeact mcp`, checked on the bare ASGI middleware."""

import json

from codeact.mcp.guard import MAX_REQUEST_BODY, Guard


async def call(guard, method="POST", headers=(), body=b"{}"):
    sent = []
    reached = []

    async def app(scope, receive, send):
        reached.append(scope)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    guard.app = app
    messages = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive():
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": method, "path": "/mcp",
             "headers": [(k.lower().encode(), v.encode()) for k, v in headers]}
    await guard(scope, receive, send)
    status = sent[0]["status"]
    payload = b"".join(m.get("body", b"") for m in sent[1:])
    return status, payload, bool(reached)


async def test_host_origin_token_and_busy():
    g = Guard(None, token=None, check_host=True)
    assert (await call(g, headers=[("host", "127.0.0.1:8765")]))[0] == 200
    assert (await call(g, headers=[("host", "evil.example:8765")]))[0] == 400
    # a DNS-rebinding page's own name, which resolves to 127.0.0.1 by then
    status, _, reached = await call(g, headers=[("host", "127.0.0.1.evil.example:8765")])
    assert status == 400 and not reached
    for origin in ("http://evil.example", "null"):
        status, _, reached = await call(g, "GET", [("host", "127.0.0.1:1"),
                                                   ("origin", origin)])
        assert status == 403 and not reached
    assert (await call(g, headers=[("host", "127.0.0.1:1"),
                                   ("origin", "http://127.0.0.1:1")]))[0] == 200

    too_long = [("host", "127.0.0.1:1"), ("content-length", str(MAX_REQUEST_BODY + 1))]
    status, _, reached = await call(g, headers=too_long)
    assert status == 413 and not reached

    t = Guard(None, token="tok", check_host=False)
    assert (await call(t, headers=[("host", "h:1")]))[0] == 401
    assert (await call(t, headers=[("host", "h:1"), ("authorization", "Bearer tok")]))[0] == 200

    b = Guard(None, token=None, check_host=False, busy=lambda: "busy: try later")
    status, payload, reached = await call(b, body=json.dumps({"jsonrpc": "2.0", "id": 7,
                                                              "method": "initialize"}).encode())
    assert status == 200 and not reached
    assert json.loads(payload) == {"jsonrpc": "2.0", "id": 7,
                                   "error": {"code": -32000, "message": "busy: try later"}}
    # requests of sessions that are already open pass
    assert (await call(b, headers=[("mcp-session-id", "abc")]))[2]
