"""The app's front door: Host and Origin checks, the access token, body limits, headers.

:func:`add_security` installs both layers on an app. :class:`Guard` is raw ASGI and sits
outside everything else, so a refused request never reaches a route (its answers are
small JSON or HTML bodies of its own); :func:`security_headers` adds the browser-facing
headers (CSP, no sniffing, no framing) to every response a route gives.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
from collections.abc import Awaitable, Callable
from urllib.parse import parse_qs, urlsplit

from fastapi import FastAPI, Request, Response
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from codeact.hosts import LOCAL_HOSTS, is_local_host, limited_receive, request_host

__all__ = ["CSP", "DEFAULT_MAX_UPLOAD", "LOCAL_HOSTS", "MAX_JSON_BODY", "PUBLIC_PREFIXES",
           "TOKEN_COOKIE", "Guard", "RedactTokens", "add_security", "is_local_host",
           "redact_access_log", "security_headers"]

DEFAULT_MAX_UPLOAD = 50 * 1024 * 1024
MAX_JSON_BODY = 1024 * 1024
TOKEN_COOKIE = "codeact_token"
# paths served without the token: share links, static assets, the health check
PUBLIC_PREFIXES = ("/r/", "/api/share/", "/static/", "/api/health", "/favicon.ico")
CSP = ("default-src 'self'; img-src 'self' data: blob:; style-src 'self'; "
       "script-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
       "frame-ancestors 'none'; form-action 'self'")


def add_security(app: FastAPI, *, token: str | None, check_host: bool,
                 max_upload_bytes: int = DEFAULT_MAX_UPLOAD) -> None:
    """Install the security headers and, outside them, the :class:`Guard`.

    Call it once, after the routes; every route of the app, present or later included,
    is behind it.
    """
    app.add_middleware(BaseHTTPMiddleware, dispatch=security_headers)
    app.add_middleware(Guard, token=token, check_host=check_host,
                       max_upload_bytes=max_upload_bytes)


async def security_headers(request: Request,
                           call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    """No MIME sniffing, no referrer; outside the API docs also a strict CSP, no framing."""
    response = await call_next(request)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    if not request.url.path.startswith(("/docs", "/redoc")):
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Frame-Options", "DENY")
    return response


class Guard:
    """ASGI middleware: Host check (DNS rebinding), Origin check (CSRF), access token."""

    PUBLIC_PREFIXES = PUBLIC_PREFIXES

    def __init__(self, app: ASGIApp, *, token: str | None, check_host: bool,
                 max_upload_bytes: int = DEFAULT_MAX_UPLOAD) -> None:
        self.app = app
        self.token = token
        self.check_host = check_host
        self.max_upload_bytes = max_upload_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers, host_header, host = request_host(scope)
        path: str = scope["path"]
        if self.check_host and host_header and not is_local_host(host):
            return await _send_json(send, 400, "this server only answers to localhost "
                                               "(the Host header names another host)", path)
        method = scope["method"]
        origin = headers.get("origin")
        if method not in ("GET", "HEAD", "OPTIONS") and origin and origin != "null":
            if urlsplit(origin).netloc != host_header:
                return await _send_json(send, 403, "cross-origin request refused", path)
        elif method not in ("GET", "HEAD", "OPTIONS") and origin == "null":
            return await _send_json(send, 403, "cross-origin request refused", path)
        if self.token and not path.startswith(self.PUBLIC_PREFIXES):
            given = _token_from(headers, scope)
            if given is None or not secrets.compare_digest(given.encode(), self.token.encode()):
                if path == "/" and method == "GET":
                    query = parse_qs(scope.get("query_string", b"").decode())
                    if secrets.compare_digest(query.get("token", [""])[0].encode(),
                                              self.token.encode()):
                        return await _send_login_redirect(send, self.token, scope)
                    return await _send_html(send, 401, _LOGIN_PAGE)
                return await _send_json(send, 401, "missing or wrong access token: send "
                                                   "'Authorization: Bearer TOKEN'", path)
        limit = (self.max_upload_bytes + 65536 if path.endswith("/files")
                 else MAX_JSON_BODY)
        length = headers.get("content-length", "")
        if length.isdigit() and int(length) > limit:
            return await _send_json(send, 413, f"the request body is larger than the limit "
                                               f"of {limit} bytes", path)
        await self.app(scope, limited_receive(receive, limit), send)


def _token_from(headers: dict[str, str], scope: Scope) -> str | None:
    auth = headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    for part in headers.get("cookie", "").split(";"):
        name, _, value = part.strip().partition("=")
        if name == TOKEN_COOKIE:
            return value
    return None


# the guard's own answers (401, 403, 413, the login page) never reach the app's header
# middleware: nothing in them may run or be sniffed as something else
_GUARD_HEADERS = [(b"x-content-type-options", b"nosniff"),
                  (b"content-security-policy",
                   b"default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")]


async def _send_json(send: Send, status: int, detail: str, path: str = "") -> None:
    """``{"detail": ...}``; under ``/v1/`` OpenAI's error shape, which its clients read."""
    content: dict[str, object] = {"detail": detail}
    if path.startswith("/v1/"):
        kind = "authentication_error" if status == 401 else "invalid_request_error"
        code = {401: "invalid_api_key", 403: "cross_origin", 413: "request_too_large"}
        content = {"error": {"message": detail, "type": kind, "param": None,
                             "code": code.get(status, "invalid_host")}}
    body = json.dumps(content).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()), *_GUARD_HEADERS]})
    await send({"type": "http.response.body", "body": body})


async def _send_html(send: Send, status: int, html: str) -> None:
    body = html.encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/html; charset=utf-8"),
                            (b"content-length", str(len(body)).encode()), *_GUARD_HEADERS]})
    await send({"type": "http.response.body", "body": body})


async def _send_login_redirect(send: Send, token: str, scope: Scope) -> None:
    """Set the token cookie (``Secure`` when the request came over HTTPS, also through a
    proxy uvicorn trusts, so the browser never sends it over plain HTTP)."""
    cookie = f"{TOKEN_COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/"
    if scope.get("scheme") == "https":
        cookie += "; Secure"
    await send({"type": "http.response.start", "status": 303,
                "headers": [(b"location", b"/"), (b"set-cookie", cookie.encode()),
                            (b"content-length", b"0"), *_GUARD_HEADERS]})
    await send({"type": "http.response.body", "body": b""})


_LOGIN_PAGE = """<!doctype html><meta charset="utf-8"><title>codeact: access token needed</title>
<body style="font-family:sans-serif;max-width:40em;margin:4em auto">
<h1>Access token needed</h1><p>This server requires its access token. Open the link that
<code>codeact serve</code> printed when it started (it ends in <code>/?token=...</code>).</p>
</body>"""


_TOKEN_IN_QUERY = re.compile(r"([?&]token=)[^&\s\"]*")


class RedactTokens(logging.Filter):
    """Blanks ``token=`` query values in log lines: the login link (``/?token=...``) would
    otherwise put the access token into the access log, which is often kept or shipped."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(_TOKEN_IN_QUERY.sub(r"\1[redacted]", a) if isinstance(a, str)
                                else a for a in record.args)
        if isinstance(record.msg, str):
            record.msg = _TOKEN_IN_QUERY.sub(r"\1[redacted]", record.msg)
        return True


def redact_access_log(logger_name: str = "uvicorn.access") -> None:
    """Install :class:`RedactTokens` on the server's access log (once)."""
    logger = logging.getLogger(logger_name)
    if not any(isinstance(f, RedactTokens) for f in logger.filters):
        logger.addFilter(RedactTokens())
