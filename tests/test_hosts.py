"""Local-host and token rules shared by `codeact serve` and `codeact mcp`."""

import asyncio

import pytest

from codeact.hosts import (
    MIN_TOKEN_CHARS,
    WeakTokenError,
    is_local_host,
    limited_receive,
    request_host,
    resolve_token,
)


def test_loopback_names_and_addresses_are_local():
    for host in ("127.0.0.1", "127.3.4.5", "localhost", "::1", "[::1]"):
        assert is_local_host(host)
    for host in ("0.0.0.0", "example.com", "10.0.0.1", "localhost.evil.com",
                 # names a DNS-rebinding page can use: they only look like addresses
                 "127.evil.example", "127.0.0.1.evil.example", "127.1", ""):
        assert not is_local_host(host)


def test_request_host_reads_the_host_header_without_port():
    scope = {"headers": [(b"Host", b"localhost:8000"), (b"Origin", b"http://x")]}
    headers, host_header, host = request_host(scope)
    assert headers["origin"] == "http://x" and host_header == "localhost:8000"
    assert host == "localhost"
    assert request_host({"headers": []})[1:] == ("", "")


def test_a_token_is_always_required_beyond_localhost():
    assert resolve_token("127.0.0.1", None) == (None, False)
    assert resolve_token("0.0.0.0", "given-token-16chr") == ("given-token-16chr", False)
    token, generated = resolve_token("0.0.0.0", None)
    assert generated and token and len(token) >= 24


def test_a_short_chosen_token_is_refused_beyond_localhost_only():
    short = "x" * (MIN_TOKEN_CHARS - 1)
    assert resolve_token("127.0.0.1", short) == (short, False)  # only local users reach it
    for host in ("0.0.0.0", "192.168.1.5", "::"):
        with pytest.raises(WeakTokenError, match=f"at least {MIN_TOKEN_CHARS} characters"):
            resolve_token(host, short)


def test_a_body_past_the_limit_reads_as_a_disconnect():
    chunks = [{"type": "http.request", "body": b"x" * 40, "more_body": True}
              for _ in range(4)]

    async def receive():
        return chunks.pop(0)

    async def read_all():
        capped = limited_receive(receive, 100)
        return [(await capped())["type"] for _ in range(3)]

    assert asyncio.run(read_all()) == ["http.request", "http.request", "http.disconnect"]
