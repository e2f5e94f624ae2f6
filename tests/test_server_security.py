"""Tests for codeact.server.security on a bare FastAPI app (no chat app around it).

A real uvicorn on 127.0.0.1: the Guard (Host, Origin, token, body limits) and the security
headers work for any routes they are put around.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from test_server_app import ThreadServer

from codeact.server.security import (
    CSP,
    MAX_JSON_BODY,
    TOKEN_COOKIE,
    RedactTokens,
    add_security,
)

TOKEN = "security-test-" + "z" * 20


def bare_app(**security: Any) -> FastAPI:
    app = FastAPI()

    @app.get("/")
    async def index() -> dict[str, str]:
        return {"page": "index"}

    @app.get("/private")
    async def private() -> dict[str, bool]:
        return {"private": True}

    @app.get("/api/share/thing")
    async def shared() -> dict[str, bool]:
        return {"shared": True}

    @app.post("/private")
    async def post(request: Request) -> dict[str, int]:
        return {"size": len(await request.body())}

    @app.post("/up/files")
    async def files(request: Request) -> dict[str, int]:
        return {"size": len(await request.body())}

    add_security(app, **security)
    return app


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with ThreadServer(bare_app(token=TOKEN, check_host=True, max_upload_bytes=100_000)) as s:
        yield s.url


def test_tokens_in_logged_urls_are_blanked() -> None:
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1,
                               '%s - "%s %s HTTP/%s" %d',
                               ("127.0.0.1:5", "GET", "/?token=s3cret&x=1", "1.1", 303), None)
    assert RedactTokens().filter(record)
    assert record.getMessage() == '127.0.0.1:5 - "GET /?token=[redacted]&x=1 HTTP/1.1" 303'


def test_token_by_header_and_public_prefixes(url: str) -> None:
    assert httpx.get(f"{url}/private").status_code == 401
    ok = httpx.get(f"{url}/private", headers={"Authorization": f"Bearer {TOKEN}"})
    assert ok.status_code == 200 and ok.json() == {"private": True}
    assert httpx.get(f"{url}/api/share/thing").status_code == 200


def test_login_link_sets_a_cookie_that_then_works(url: str) -> None:
    page = httpx.get(f"{url}/")
    assert page.status_code == 401 and "Access token needed" in page.text
    login = httpx.get(f"{url}/", params={"token": TOKEN}, follow_redirects=False)
    assert login.status_code == 303 and login.headers["location"] == "/"
    cookie = login.headers["set-cookie"]
    assert cookie.startswith(f"{TOKEN_COOKIE}=") and "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie
    with httpx.Client(base_url=url, cookies={TOKEN_COOKIE: TOKEN}) as c:
        assert c.get("/private").status_code == 200
    assert httpx.get(f"{url}/", params={"token": "wrong"}).status_code == 401
    # the guard's own answers carry headers too (they never reach the header middleware)
    for answer in (page, login, httpx.get(f"{url}/private")):
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert "default-src 'none'" in answer.headers["content-security-policy"]
    assert "Secure" not in cookie  # plain HTTP here; over HTTPS the cookie is Secure


def test_the_cookie_is_secure_over_https() -> None:
    import asyncio

    from codeact.server.security import Guard

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    guard = Guard(FastAPI(), token=TOKEN, check_host=True)  # the app is never reached
    scope = {"type": "http", "scheme": "https", "method": "GET", "path": "/",
             "query_string": f"token={TOKEN}".encode(), "headers": [(b"host", b"localhost")]}
    asyncio.run(guard(scope, receive, send))
    headers = dict(sent[0]["headers"])
    assert sent[0]["status"] == 303 and b"; Secure" in headers[b"set-cookie"]


def test_host_and_origin_checks(url: str) -> None:
    auth = {"Authorization": f"Bearer {TOKEN}"}
    for host in ("evil.test", "127.0.0.1.evil.test", "127.evil.test"):  # the latter: rebinding
        assert httpx.get(f"{url}/private", headers={**auth, "Host": host}).status_code == 400
    for origin in ("http://evil.test", "null"):
        r = httpx.post(f"{url}/private", headers={**auth, "Origin": origin})
        assert r.status_code == 403, origin
    same = url.removeprefix("http://")
    r = httpx.post(f"{url}/private", headers={**auth, "Origin": f"http://{same}"})
    assert r.status_code == 200


def test_body_limits_json_and_uploads(url: str) -> None:
    auth = {"Authorization": f"Bearer {TOKEN}"}
    r = httpx.post(f"{url}/private", headers=auth, content=b"x" * (MAX_JSON_BODY + 1))
    assert r.status_code == 413 and str(MAX_JSON_BODY) in r.json()["detail"]
    # uploads get their own limit (+ room for the multipart envelope)
    r = httpx.post(f"{url}/up/files", headers=auth, content=b"x" * (MAX_JSON_BODY + 1))
    assert r.status_code == 413
    r = httpx.post(f"{url}/up/files", headers=auth, content=b"x" * 150_000)
    assert r.status_code == 200 and r.json() == {"size": 150_000}


def test_security_headers_on_every_response(url: str) -> None:
    r = httpx.get(f"{url}/private", headers={"Authorization": f"Bearer {TOKEN}"})
    assert r.headers["content-security-policy"] == CSP
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "no-referrer"
    docs = httpx.get(f"{url}/docs", headers={"Authorization": f"Bearer {TOKEN}"})
    assert docs.status_code == 200  # the API docs page loads its own assets: no CSP
    assert "content-security-policy" not in docs.headers
    assert docs.headers["x-content-type-options"] == "nosniff"


def test_open_app_without_token_or_host_check() -> None:
    with ThreadServer(bare_app(token=None, check_host=False)) as srv:
        r = httpx.get(f"{srv.url}/private", headers={"Host": "anything.test"})
        assert r.status_code == 200
