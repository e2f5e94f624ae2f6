"""Approval mode: answer the code action the agent is waiting on (Run / Edit / Skip).

The run publishes an ``approval`` event with the code; the UI (or any API client)
answers here. ``edit`` runs ``code`` instead and the model is told its code was edited;
``skip`` tells the model the user declined. Stopping the run skips it too.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, ConfigDict, Field

from codeact.server.routes.deps import AppState, ConversationId
from codeact.server.routes.models import ApprovalAnswered, errors
from codeact.server.routes.runs import MAX_MESSAGE_CHARS

__all__ = ["ApprovalAnswer", "router"]

router = APIRouter(tags=["runs"])


class ApprovalAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid")
    action: Literal["run", "edit", "skip"]
    code: str | None = Field(None, max_length=MAX_MESSAGE_CHARS,
                             description="the code to run instead (edit)")
    code_action_id: int | None = Field(None, description="the code action answered "
                                       "(checked when given)")


@router.post("/api/conversations/{cid}/approval", response_model=ApprovalAnswered,
             responses=errors({404: "no such conversation",
                               409: "no code action is waiting for approval"}))
async def answer(state: AppState, cid: ConversationId, body: ApprovalAnswer
                 ) -> dict[str, Any]:
    await state.conversation_or_404(cid)
    run = state.hub.runs.get(cid)
    pending = run.pending if run is not None and not run.done else None
    if pending is None or pending.answered.is_set():
        raise HTTPException(409, "no code action is waiting for approval")
    if body.code_action_id is not None and body.code_action_id != pending.code_action_id:
        raise HTTPException(409, "that code action is not the one waiting for approval")
    if body.action == "edit" and not (body.code or "").strip():
        raise HTTPException(422, "code: edit needs the code to run")
    pending.answer(body.action, body.code if body.action == "edit" else None)
    return {"action": body.action}
