"""Conversations: list, search, create, read (with the timeline and its branches), rename,
pin, switch model or settings, revoke the share link, delete (with undo: restore within the
undo window)."""

from __future__ import annotations

import asyncio
import shutil
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from codeact.server.errors import NotFound
from codeact.server.routes.deps import AppState, ConversationId
from codeact.server.routes.models import (
    NO_CONVERSATION,
    Conversation,
    ConversationList,
    ConversationView,
    SearchResults,
    errors,
)
from codeact.server.routes.settings import Settings, check_settings
from codeact.server.store.records import ConversationRecord

__all__ = ["ConversationPatch", "NewConversation", "router"]

router = APIRouter(tags=["conversations"])


class NewConversation(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str | None = Field(None, min_length=1, max_length=200)
    model: str | None = Field(None, min_length=1, max_length=200)
    settings: Settings | None = None


class ConversationPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str | None = Field(None, min_length=1, max_length=200)
    model: str | None = Field(None, min_length=1, max_length=200)
    pinned: bool | None = None
    settings: Settings | None = Field(None, description="merged into the conversation's "
                                      "settings; a null field goes back to the default")


@router.get("/api/conversations", response_model=ConversationList)
async def list_conversations(state: AppState) -> dict[str, Any]:
    rows = await asyncio.to_thread(state.store.list_conversations)
    return {"conversations": [{**r, "running": state.hub.is_running(r["id"])} for r in rows]}


@router.get("/api/search", response_model=SearchResults)
async def search(state: AppState, q: Annotated[str, Query(min_length=1, max_length=200)]
                 ) -> dict[str, Any]:
    """Conversations whose title or messages match ``q`` (full-text, word prefixes)."""
    rows = await asyncio.to_thread(state.store.search, q)
    return {"conversations": [{**r, "running": state.hub.is_running(r["id"])} for r in rows]}


@router.post("/api/conversations", status_code=201, response_model=Conversation)
async def new_conversation(state: AppState, body: NewConversation | None = None
                           ) -> ConversationRecord:
    body = body or NewConversation(title=None, model=None)
    defaults = await asyncio.to_thread(state.store.get_defaults)
    default_model = defaults.pop("model", None)
    if default_model not in state.models:
        default_model = state.default_model
    model = body.model or default_model
    state.check_model(model)
    settings = {**defaults, **(check_settings(state, body.settings) if body.settings else {})}
    return await asyncio.to_thread(state.store.create_conversation,
                                   body.title or "New chat", model,
                                   {k: v for k, v in settings.items() if v is not None})


@router.get("/api/conversations/{cid}", response_model=ConversationView, responses=NO_CONVERSATION)
async def get_conversation(state: AppState, cid: ConversationId) -> dict[str, Any]:
    hub, store = state.hub, state.store
    run = hub.runs.get(cid)
    # both read before the snapshot: a run that ends while it is read is still reported
    # as running, so the client follows it from the cursor and misses nothing
    running = run is not None and not run.done
    cursor = len(run.buffer) if run is not None else 0
    conv = await state.conversation_or_404(cid)
    items = await asyncio.to_thread(store.timeline, cid)
    files = await asyncio.to_thread(store.list_files, cid)
    branches = await asyncio.to_thread(store.branches, cid)
    pending = run.pending if running and run is not None else None
    approval = None
    if pending is not None and not pending.answered.is_set():
        approval = {"code_action_id": pending.code_action_id, "code": pending.code}
    return {"conversation": conv, "items": items, "files": files, "running": running,
            "run_id": run.id if running and run is not None else None,
            "cursor": cursor if running else 0, "kernel": cid in hub.live,
            "branches": branches, "approval": approval}


@router.patch("/api/conversations/{cid}", response_model=Conversation, responses=NO_CONVERSATION)
async def patch_conversation(state: AppState, cid: ConversationId, body: ConversationPatch
                             ) -> ConversationRecord:
    if body.model is not None:
        state.check_model(body.model)
    settings = None
    if body.settings is not None:
        settings = check_settings(state, body.settings)
    try:
        return await asyncio.to_thread(state.store.update_conversation, cid,
                                       title=body.title, model=body.model,
                                       pinned=body.pinned, settings=settings)
    except NotFound:
        raise HTTPException(404, "no such conversation") from None


@router.post("/api/conversations/{cid}/share", response_model=Conversation,
             responses=NO_CONVERSATION,
             description="Gives the conversation a new share token (`share_token` in the "
                         "answer): the old read-only link `/r/<token>` stops working at once.")
async def new_share_link(state: AppState, cid: ConversationId) -> ConversationRecord:
    try:
        return await asyncio.to_thread(state.store.new_share_token, cid)
    except NotFound:
        raise HTTPException(404, "no such conversation") from None


@router.delete("/api/conversations/{cid}", status_code=204, response_class=Response,
               responses={204: {"description": "deleted (restorable for X-Undo-Seconds)",
                                "headers": {"X-Undo-Seconds": {
                                    "description": "how long POST .../restore can undo it",
                                    "schema": {"type": "integer"}}}},
                          **NO_CONVERSATION},
               description="Hides the conversation and closes its kernel; it is deleted "
                           "for good when the undo window is over (`X-Undo-Seconds`), or "
                           "at once with `?now=true`. Undo with `POST .../restore`.")
async def delete_conversation(state: AppState, cid: ConversationId,
                              now: bool = False) -> Response:
    await state.conversation_or_404(cid)
    await state.hub.close_conversation(cid)
    if now:
        await asyncio.to_thread(state.store.delete_conversation, cid)
        await asyncio.to_thread(shutil.rmtree, state.data_dir / "workspaces" / cid, True)
        return Response(status_code=204)
    try:
        await asyncio.to_thread(state.store.soft_delete, cid)
    except NotFound:
        raise HTTPException(404, "no such conversation") from None
    return Response(status_code=204,
                    headers={"X-Undo-Seconds": str(int(state.hub.undo_seconds))})


@router.post("/api/conversations/{cid}/restore", response_model=Conversation,
             responses=errors({404: "no such deleted conversation"}))
async def restore_conversation(state: AppState, cid: ConversationId) -> ConversationRecord:
    """Undo a delete while its undo window lasts."""
    try:
        await asyncio.to_thread(state.store.restore, cid)
    except NotFound:
        raise HTTPException(404, "nothing to restore: no such deleted conversation") from None
    return await state.conversation_or_404(cid)
