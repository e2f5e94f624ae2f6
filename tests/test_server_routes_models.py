"""Tests for codeact.server.routes.models: every JSON route declares the model of its
answer, so the OpenAPI schema describes what the UI reads; raw answers (SSE, files,
images, pages) declare their media type instead."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.datastructures import DefaultPlaceholder
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel
from starlette.routing import BaseRoute
from test_server_app import make_app

from codeact.server.routes.models import ErrorDetail, errors


def api_routes(routes: Sequence[BaseRoute]) -> Iterator[APIRoute]:
    """Every APIRoute, also inside included routers (newer FastAPI keeps them nested)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif (router := getattr(route, "original_router", None)) is not None:
            yield from api_routes(router.routes)


def undeclared(app: FastAPI) -> list[str]:
    """Routes whose answer the schema would not describe.

    A JSON route needs a pydantic ``response_model`` (not one FastAPI read from a return
    annotation such as ``dict[str, Any]``); any other sets its ``response_class`` and,
    when it is in the schema, the media type of its success answer in ``responses``
    (a 204 has no body to describe).
    """
    out = []
    for route in api_routes(app.routes):
        name = f"{sorted(route.methods)} {route.path}"
        model = route.response_model
        if isinstance(model, type) and issubclass(model, BaseModel):
            continue
        raw = route.response_class
        if isinstance(raw, DefaultPlaceholder) or issubclass(raw, JSONResponse):
            out.append(f"{name}: a JSON route without a response_model")
        elif route.include_in_schema and route.status_code != 204 and not (
                route.responses.get(route.status_code or 200, {}).get("content")):
            out.append(f"{name}: a {raw.__name__} without its media type in responses=")
    return out


def test_every_route_declares_its_answer(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    assert len(list(api_routes(app.routes))) >= 31
    assert undeclared(app) == []


def test_a_new_route_without_a_model_is_found() -> None:
    router = APIRouter()

    @router.get("/api/new")
    async def new() -> dict[str, Any]:
        return {"x": 1}

    @router.get("/api/raw", response_class=JSONResponse, response_model=None)
    async def raw() -> Any:
        return {"x": 1}

    app = FastAPI()
    app.include_router(router)
    assert [p.split(":")[0] for p in undeclared(app)] == ["['GET'] /api/new",
                                                          "['GET'] /api/raw"]


def test_the_schema_names_the_answers_the_ui_reads(tmp_path: Path) -> None:
    spec = make_app(tmp_path).openapi()

    def answer(path: str, method: str = "get", status: str = "200") -> dict[str, Any]:
        content = spec["paths"][path][method]["responses"][status]["content"]
        ref = content["application/json"]["schema"]["$ref"]
        return spec["components"]["schemas"][ref.rsplit("/", 1)[-1]]

    view = answer("/api/conversations/{cid}")
    assert {"conversation", "items", "files", "running", "run_id", "cursor", "kernel",
            "branches", "approval"} == set(view["properties"])
    items = view["properties"]["items"]["items"]
    assert items["discriminator"]["propertyName"] == "type"
    assert "share_token" in answer("/api/conversations", "post", "201")["properties"]
    assert "run_id" in answer("/api/conversations/{cid}/messages", "post", "202")["required"]
    assert answer("/api/conversations/{cid}", status="404")["title"] == "ErrorDetail"
    events = spec["paths"]["/api/conversations/{cid}/events"]["get"]["responses"]["200"]
    assert list(events["content"]) == ["text/event-stream"]
    image = spec["paths"]["/api/conversations/{cid}/images/{image_id}"]["get"]
    assert list(image["responses"]["200"]["content"]) == ["image/png"]


def test_errors_describes_each_status() -> None:
    assert errors({404: "gone"}) == {404: {"model": ErrorDetail, "description": "gone"}}
