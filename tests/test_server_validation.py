"""Tests for codeact.server.validation: a 422 says in one line what is wrong."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel, Field
from test_server_app import ThreadServer

from codeact.server.validation import add_validation_handler


class Item(BaseModel):
    name: str = Field(..., min_length=2)
    count: int


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    app = FastAPI()
    add_validation_handler(app)

    @app.post("/items/{item_id}")
    async def create(item_id: int, item: Item) -> dict[str, int]:
        return {"id": item_id}

    with ThreadServer(app) as srv:
        yield srv.url


def test_detail_names_each_field_without_the_location_prefix(url: str) -> None:
    r = httpx.post(f"{url}/items/1", json={"name": "x", "count": "many"})
    assert r.status_code == 422
    detail = r.json()["detail"]
    assert detail.startswith("name: ") and "; count: " in detail
    assert [e["loc"] for e in r.json()["errors"]] == [["body", "name"], ["body", "count"]]


def test_path_errors_and_bad_json(url: str) -> None:
    r = httpx.post(f"{url}/items/nope", json={"name": "xy", "count": 1})
    assert r.status_code == 422 and r.json()["detail"].startswith("item_id: ")
    r = httpx.post(f"{url}/items/1", content=b"{not json",
                   headers={"content-type": "application/json"})
    assert r.status_code == 422 and r.json()["detail"]


def test_the_openapi_schema_describes_these_answers() -> None:
    app = FastAPI()
    add_validation_handler(app)

    @app.post("/items")
    async def create(item: Item) -> dict[str, int]:
        return {"id": 1}

    spec = app.openapi()
    ref = spec["paths"]["/items"]["post"]["responses"]["422"]["content"][
        "application/json"]["schema"]["$ref"]
    problem = spec["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    assert problem["properties"]["detail"]["type"] == "string"
    assert problem["properties"]["errors"]["type"] == "array"
    assert "ValidationError" not in spec["components"]["schemas"]
    assert app.openapi() is spec  # made once
