"""The HTML pages: the app, a shared conversation's read-only page, the icon."""

from __future__ import annotations

import asyncio
from pathlib import Path

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse, Response

from codeact.server.errors import NotFound
from codeact.server.routes.deps import AppState, ShareToken

__all__ = ["STATIC_DIR", "router"]

STATIC_DIR = Path(__file__).parent.parent / "static"

router = APIRouter(include_in_schema=False)


@router.get("/", include_in_schema=False, response_class=FileResponse)
async def index() -> FileResponse:
    return FileResponse(STATIC_DIR / "index.html", media_type="text/html")


@router.get("/r/{share_token}", include_in_schema=False, response_class=FileResponse)
async def share_page(state: AppState, share_token: ShareToken) -> FileResponse:
    try:
        await asyncio.to_thread(state.store.conversation_by_share_token, share_token)
    except NotFound:
        raise HTTPException(404, "no such shared conversation") from None
    return FileResponse(STATIC_DIR / "share.html", media_type="text/html")


@router.get("/favicon.ico", include_in_schema=False, response_class=FileResponse)
async def favicon() -> Response:
    return FileResponse(STATIC_DIR / "favicon.svg", media_type="image/svg+xml")
