"""Tests for codeact.server.routes: a new endpoint is one router plus one ``include_router``.

A toy router (written here as the one new "file") is added to the real app with one line
and called over a real uvicorn on 127.0.0.1: it reads the app's state through
``AppState``, shows up in the OpenAPI description with the model of its answer
(``response_model``, as every route has), answers validation errors in the app's
format, and sits behind the security layer (token, Origin check, headers) with no extra
work.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import httpx
import pytest
from fastapi import APIRouter, Query
from fastapi.routing import APIRoute
from pydantic import BaseModel
from test_server_app import ThreadServer, make_app
from test_server_routes_models import undeclared

from codeact.server.routes import AppState, conversations, files, meta, pages, runs, share
from codeact.server.security import CSP

TOKEN = "routes-test-token-" + "y" * 16

# --- the toy router: what a new routes/NAME.py would hold --------------------------------
toy = APIRouter(tags=["toy"])


class ToyCount(BaseModel):  # the answer's shape (shared ones live in routes/models.py)
    count: int
    enough: bool
    default_model: str


class Echo(BaseModel):
    echo: dict[str, Any]


@toy.get("/api/toy/count", response_model=ToyCount)
async def count_conversations(state: AppState,
                              at_least: Annotated[int, Query(ge=0)] = 0) -> dict[str, Any]:
    rows = await asyncio.to_thread(state.store.list_conversations)
    return {"count": len(rows), "enough": len(rows) >= at_least,
            "default_model": state.default_model}


@toy.post("/api/toy/echo", response_model=Echo)
async def echo(body: dict[str, Any]) -> dict[str, Any]:
    return {"echo": body}
# -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadServer]:
    app = make_app(tmp_path_factory.mktemp("routes"), token=TOKEN, pool_size=0)
    app.include_router(toy)  # the registration line
    with ThreadServer(app) as srv:
        yield srv


@pytest.fixture()
def authed(server: ThreadServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30,
                      headers={"Authorization": f"Bearer {TOKEN}"}) as c:
        yield c


def test_the_toy_route_reads_the_app_state(authed: httpx.Client) -> None:
    assert authed.get("/api/toy/count").json() == {"count": 0, "enough": True,
                                                   "default_model": "scripted"}
    assert authed.post("/api/conversations", json={}).status_code == 201
    r = authed.get("/api/toy/count", params={"at_least": 2})
    assert r.status_code == 200 and r.json()["count"] == 1 and r.json()["enough"] is False
    assert authed.post("/api/toy/echo", json={"a": [1]}).json() == {"echo": {"a": [1]}}


def test_the_toy_route_is_in_the_openapi_description(authed: httpx.Client) -> None:
    spec = authed.get("/openapi.json").json()
    assert spec["paths"]["/api/toy/count"]["get"]["tags"] == ["toy"]
    answer = spec["paths"]["/api/toy/count"]["get"]["responses"]["200"]["content"]
    assert answer["application/json"]["schema"]["$ref"].endswith("/ToyCount")
    assert "/api/conversations/{cid}/messages" in spec["paths"]  # the app's own routes too


def test_the_toy_route_answers_validation_errors_like_the_app(authed: httpx.Client) -> None:
    r = authed.get("/api/toy/count", params={"at_least": -1})
    assert r.status_code == 422
    assert r.json()["detail"].startswith("at_least:") and r.json()["errors"]


def test_the_toy_route_needs_the_token(server: ThreadServer) -> None:
    with httpx.Client(base_url=server.url, timeout=30) as anon:
        r = anon.get("/api/toy/count")
        assert r.status_code == 401 and "access token" in r.json()["detail"]
        wrong = anon.get("/api/toy/count", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        assert anon.get("/api/health").status_code == 200  # public routes stay public


def test_the_toy_route_gets_the_security_headers(authed: httpx.Client) -> None:
    r = authed.get("/api/toy/count")
    assert r.headers["content-security-policy"] == CSP
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["referrer-policy"] == "no-referrer"


def test_the_toy_route_is_behind_the_host_and_origin_checks(authed: httpx.Client) -> None:
    r = authed.get("/api/toy/count", headers={"Host": "evil.example"})
    assert r.status_code == 400
    r = authed.post("/api/toy/echo", json={}, headers={"Origin": "http://evil.example"})
    assert r.status_code == 403
    r = authed.post("/api/toy/echo", json={"big": "x" * (2 * 1024 * 1024)})
    assert r.status_code == 413  # the body limit applies too


def test_each_router_module_has_a_router() -> None:
    for module in (pages, meta, conversations, runs, files, share):
        assert isinstance(module.router, APIRouter), module.__name__
        assert module.router.routes, module.__name__


def test_create_app_includes_every_api_router(tmp_path: Path) -> None:
    app = make_app(tmp_path, pool_size=0)
    app.include_router(toy)
    assert undeclared(app) == []  # the toy declares its answer like the app's own routes
    spec = app.openapi()
    for module in (meta, conversations, runs, files, share):
        for route in module.router.routes:
            assert isinstance(route, APIRoute)
            assert route.path_format in spec["paths"], (module.__name__, route.path)
