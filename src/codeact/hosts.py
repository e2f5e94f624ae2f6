"""Which hosts count as local, the token rule and the request body cap: shared by
``codeact serve`` and ``codeact mcp`` so both servers guard the same way (a fix lands in
both at once)."""

from __future__ import annotations

import ipaddress
import secrets
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from typing import Any
from urllib.parse import urlsplit

from codeact.errors import CodeactError

__all__ = ["LOCAL_HOSTS", "MIN_TOKEN_CHARS", "WeakTokenError", "check_token", "is_local_host",
           "limited_receive", "request_host", "resolve_token"]

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}
# a chosen token guards a server others can reach: short ones can be guessed (there is no
# rate limit on tries); generated ones have 32 characters
MIN_TOKEN_CHARS = 16


class WeakTokenError(CodeactError, ValueError):
    """A chosen access token too short for a server bound beyond localhost."""


def is_local_host(host: str) -> bool:
    """Whether ``host`` (an interface or a Host header's name) is loopback: ``localhost``
    or a loopback address, matched exactly, because a name such as ``127.0.0.1.evil.com``
    can be made to resolve to 127.0.0.1 later (DNS rebinding) and must stay foreign."""
    if host in LOCAL_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def request_host(scope: Mapping[str, Any]) -> tuple[dict[str, str], str, str]:
    """An ASGI HTTP scope's headers (lower-case names), its Host header and that header's
    host name (no port)."""
    headers = {k.decode("latin-1").lower(): v.decode("latin-1")
               for k, v in scope.get("headers", [])}
    host_header = headers.get("host", "")
    return headers, host_header, urlsplit(f"//{host_header}").hostname or ""


def check_token(host: str, token: str | None) -> None:
    """Refuse (:class:`WeakTokenError`) a chosen token shorter than ``MIN_TOKEN_CHARS`` on a
    server bound beyond localhost; on localhost any token goes (only local users reach it)."""
    if token and len(token) < MIN_TOKEN_CHARS and not is_local_host(host):
        raise WeakTokenError(
            f"the access token must have at least {MIN_TOKEN_CHARS} characters when the "
            f"server listens beyond localhost (it has {len(token)}): choose a longer one, "
            f"or leave --token out to have a random one generated and printed")


def resolve_token(host: str, token: str | None) -> tuple[str | None, bool]:
    """The access token to require and whether it was generated: beyond localhost there
    is always one (a random one when none was given); a chosen one passes
    :func:`check_token`."""
    check_token(host, token)
    if token:
        return token, False
    if is_local_host(host):
        return None, False
    return secrets.token_urlsafe(24), True


Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]


def limited_receive(receive: Receive, limit: int) -> Receive:
    """An ASGI ``receive`` that ends a body (chunked ones too, which carry no length) as a
    disconnect once it passes ``limit`` bytes, so no request can fill the server's memory."""
    seen = 0

    async def wrapped() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                return {"type": "http.disconnect"}
        return message

    return wrapped
