"""Conversations: list, create, read (with the timeline), rename or switch model, delete."""

from __future__ import annotations

import asyncio
import shutil
from typing import Any

from fastapi import APIRouter, HTTPException
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from codeact.server.errors import NotFound
from codeact.server.routes.deps import AppState, ConversationId

__all__ = ["ConversationPatch", "NewConversation", "router"]

router = APIRouter(tags=["conversations"])


class NewConversation(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str | None = Field(None, min_length=1, max_length=200)
    model: str | None = Field(None, min_length=1, max_length=200)


class ConversationPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str | None = Field(None, min_length=1, max_length=200)
    model: str | None = Field(None, min_length=1, max_length=200)


@router.get("/api/conversations")
async def list_conversations(state: AppState) -> dict[str, Any]:
    rows = await asyncio.to_thread(state.store.list_conversations)
    for r in rows:
        r["running"] = state.hub.is_running(r["id"])
    return {"conversations": rows}


@router.post("/api/conversations", status_code=201)
async def new_conversation(state: AppState, body: NewConversation | None = None
                           ) -> dict[str, Any]:
    body = body or NewConversation(title=None, model=None)
    model = body.model or state.default_model
    state.check_model(model)
    return await asyncio.to_thread(state.store.create_conversation,
                                   body.title or "New chat", model)


@router.get("/api/conversations/{cid}")
async def get_conversation(state: AppState, cid: ConversationId) -> dict[str, Any]:
    hub, store = state.hub, state.store
    run = hub.runs.get(cid)
    cursor = len(run.buffer) if run is not None else 0  # read before the snapshot
    conv = await state.conversation_or_404(cid)
    items = await asyncio.to_thread(store.timeline, cid)
    files = await asyncio.to_thread(store.list_files, cid)
    running = run is not None and not run.done
    return {"conversation": conv, "items": items, "files": files, "running": running,
            "run_id": run.id if running and run is not None else None,
            "cursor": cursor if running else 0, "kernel": cid in hub.live}


@router.patch("/api/conversations/{cid}")
async def patch_conversation(state: AppState, cid: ConversationId, body: ConversationPatch
                             ) -> dict[str, Any]:
    if body.model is not None:
        state.check_model(body.model)
    try:
        return await asyncio.to_thread(state.store.update_conversation, cid,
                                       title=body.title, model=body.model)
    except NotFound:
        raise HTTPException(404, "no such conversation") from None


@router.delete("/api/conversations/{cid}", status_code=204)
async def delete_conversation(state: AppState, cid: ConversationId) -> Response:
    await state.conversation_or_404(cid)
    await state.hub.close_conversation(cid)
    await asyncio.to_thread(state.store.delete_conversation, cid)
    await asyncio.to_thread(shutil.rmtree, state.data_dir / "workspaces" / cid, True)
    return Response(status_code=204)
