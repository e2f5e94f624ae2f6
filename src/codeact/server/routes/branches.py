"""Message actions that fork a conversation: regenerate the last answer, edit a user
message and resend, switch between the branches this leaves.

Regenerating keeps the kernel (its variables stay); editing and switching restart it.
The branch that was shown stays in the database, so nothing is lost either way.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException
from fastapi import Path as PathParam
from pydantic import BaseModel, ConfigDict, Field

from codeact.server.errors import Conflict, NotFound
from codeact.server.routes.deps import MAX_DB_INT, AppState, ConversationId
from codeact.server.routes.models import BranchShown, RunStarted, errors
from codeact.server.routes.runs import MAX_MESSAGE_CHARS, START_RESPONSES, start_or_http

__all__ = ["BranchChoice", "EditedMessage", "Regenerate", "router"]

router = APIRouter(tags=["branches"])
MessageId = Annotated[int, PathParam(ge=0, le=MAX_DB_INT, description="message id")]


class Regenerate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    approval: bool | None = None


class EditedMessage(BaseModel):
    model_config = ConfigDict(extra="forbid")
    content: str = Field(..., min_length=1, max_length=MAX_MESSAGE_CHARS)
    approval: bool | None = None


class BranchChoice(BaseModel):
    model_config = ConfigDict(extra="forbid")
    branch: int = Field(..., ge=0, le=MAX_DB_INT)


@router.post("/api/conversations/{cid}/regenerate", status_code=202,
             response_model=RunStarted, responses=START_RESPONSES)
async def regenerate(state: AppState, cid: ConversationId, body: Regenerate | None = None
                     ) -> dict[str, Any]:
    await state.conversation_or_404(cid)
    approval = body.approval if body is not None else None
    return await start_or_http(state.hub.regenerate(cid, approval=approval))


@router.post("/api/conversations/{cid}/messages/{mid}/edit", status_code=202,
             response_model=RunStarted, responses=START_RESPONSES)
async def edit(state: AppState, cid: ConversationId, mid: MessageId, body: EditedMessage
               ) -> dict[str, Any]:
    if not body.content.strip():
        raise HTTPException(422, "content: the message is empty")
    await state.conversation_or_404(cid)
    return await start_or_http(state.hub.edit(cid, mid, body.content,
                                              approval=body.approval))


@router.post("/api/conversations/{cid}/branch", response_model=BranchShown,
             responses=errors({404: "no such conversation or branch",
                               409: "a reply is still being generated"}))
async def switch_branch(state: AppState, cid: ConversationId, body: BranchChoice
                        ) -> dict[str, Any]:
    await state.conversation_or_404(cid)
    try:
        await state.hub.switch_branch(cid, body.branch)
    except Conflict as exc:
        raise HTTPException(409, str(exc)) from None
    except NotFound:
        raise HTTPException(404, "no such branch") from None
    return {"branch": body.branch}
