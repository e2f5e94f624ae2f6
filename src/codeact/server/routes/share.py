"""Read-only share links: a conversation's timeline and images by its share token.

Public (no access token, see ``security.PUBLIC_PREFIXES``) and GET only: nothing here
can change anything.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, HTTPException
from fastapi.responses import Response

from codeact.server.errors import NotFound
from codeact.server.routes.deps import AppState, ImageId, ShareToken
from codeact.server.routes.models import SharedView, errors

__all__ = ["router"]

router = APIRouter(tags=["share"])


@router.get("/api/share/{share_token}", response_model=SharedView,
            responses=errors({404: "no such shared conversation"}))
async def shared(state: AppState, share_token: ShareToken) -> dict[str, Any]:
    try:
        conv = await asyncio.to_thread(state.store.conversation_by_share_token, share_token)
    except NotFound:
        raise HTTPException(404, "no such shared conversation") from None
    items = await asyncio.to_thread(state.store.timeline, conv["id"])
    return {"conversation": {"title": conv["title"], "model": conv["model"],
                             "created_at": conv["created_at"],
                             "settings": conv["settings"] or {}},
            "items": items, "read_only": True}


@router.get("/api/share/{share_token}/images/{image_id}", response_class=Response,
            responses={200: {"content": {"image/png": {}}, "description": "the PNG image"},
                       **errors({404: "no such image"})})
async def shared_image(state: AppState, share_token: ShareToken, image_id: ImageId
                       ) -> Response:
    try:
        conv = await asyncio.to_thread(state.store.conversation_by_share_token, share_token)
        png = await asyncio.to_thread(state.store.get_image, conv["id"], image_id)
    except NotFound:
        raise HTTPException(404, "no such image") from None
    return Response(png, media_type="image/png")
