"""422 answers a person can read: one line in ``detail``, pydantic's list in ``errors``.

The OpenAPI schema says so too: FastAPI documents every 422 as its own
``HTTPValidationError`` (``detail``: a list), which these answers are not.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

__all__ = ["ValidationProblem", "add_validation_handler", "validation_error"]


class ValidationProblem(BaseModel):
    """A request that does not fit the route's parameters or body (status 422)."""

    detail: str = Field(description="every problem, `field: message`, joined with `; `")
    errors: list[dict[str, Any]] = Field(
        default_factory=list, description="pydantic's errors (loc, msg, type...); absent "
        "when the route itself refused a value (e.g. an unknown model)")


async def validation_error(_request: Request, exc: Exception) -> JSONResponse:
    """``{"detail": "field: message; ...", "errors": [...]}`` with status 422."""
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    parts = []
    for e in errors[:5]:
        loc = ".".join(str(x) for x in e.get("loc", ()) if x not in ("body", "path", "query"))
        parts.append(f"{loc or 'request'}: {e.get('msg', 'invalid')}")
    return JSONResponse(status_code=422, content={
        "detail": "; ".join(parts) or "invalid request",
        "errors": json.loads(json.dumps(errors, default=str))})


def add_validation_handler(app: FastAPI) -> None:
    """Answer request validation errors with :func:`validation_error`, and document them
    as :class:`ValidationProblem` in the app's OpenAPI schema."""
    app.add_exception_handler(RequestValidationError, validation_error)
    make_schema = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schemas = make_schema().get("components", {}).get("schemas", {})
            if "HTTPValidationError" in schemas:  # FastAPI's name, in every 422's $ref
                schemas["HTTPValidationError"] = ValidationProblem.model_json_schema()
                schemas.pop("ValidationError", None)  # only HTTPValidationError used it
        assert app.openapi_schema is not None
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
