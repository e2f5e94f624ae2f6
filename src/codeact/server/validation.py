"""422 answers a person can read: one line in ``detail``, pydantic's list in ``errors``."""

from __future__ import annotations

import json

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

__all__ = ["add_validation_handler", "validation_error"]


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
    """Answer request validation errors with :func:`validation_error`."""
    app.add_exception_handler(RequestValidationError, validation_error)
