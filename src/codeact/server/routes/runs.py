"""Runs: send a message (starts the agent), follow its events over SSE, stop it."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Mapping, Sequence
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from codeact.server.errors import Busy, Conflict, NotFound
from codeact.server.routes.deps import MAX_DB_INT, AppState, ConversationId
from codeact.server.routes.models import (
    NO_CONVERSATION,
    RunStarted,
    Stopping,
    errors,
    event_stream,
)

__all__ = ["MAX_MESSAGE_CHARS", "START_RESPONSES", "NewMessage", "router", "start_or_http"]

MAX_MESSAGE_CHARS = 100_000

router = APIRouter(tags=["runs"])


class NewMessage(BaseModel):
    model_config = ConfigDict(extra="forbid")
    content: str = Field(..., min_length=1, max_length=MAX_MESSAGE_CHARS)
    approval: bool | None = Field(None, description="ask before each code action runs "
                                  "(default: the conversation's setting)")


START_RESPONSES = errors({404: "no such conversation (or message)",
                          409: "a reply is still being generated",
                          502: "the model is not available",
                          503: "busy, try again (kernel cap reached)"})


async def start_or_http(start: Awaitable[tuple[Any, Sequence[Mapping[str, Any]]]]
                        ) -> dict[str, Any]:
    """Await a hub call that starts a run; its failures as HTTP errors."""
    try:
        run, items = await start
    except Conflict as exc:
        raise HTTPException(409, str(exc)) from None
    except Busy:
        raise HTTPException(503, "busy, try again: every sandboxed kernel is in use",
                            headers={"Retry-After": "5"}) from None
    except NotFound as exc:
        raise HTTPException(404, str(exc) if "message" in str(exc)
                            else "no such conversation") from None
    except Exception as exc:
        from codeact.llm import LLMError

        if isinstance(exc, LLMError):
            raise HTTPException(502, f"the model is not available: {exc}") from None
        raise
    return {"run_id": run.id, "items": items}


@router.post("/api/conversations/{cid}/messages", status_code=202, response_model=RunStarted,
             responses=START_RESPONSES)
async def post_message(state: AppState, cid: ConversationId, body: NewMessage
                       ) -> dict[str, Any]:
    if not body.content.strip():
        raise HTTPException(422, "content: the message is empty")
    await state.conversation_or_404(cid)
    return await start_or_http(state.hub.start_run(cid, body.content,
                                                   approval=body.approval))


@router.get("/api/conversations/{cid}/events", response_class=StreamingResponse,
            responses={**event_stream("the run's events, `: keep-alive` comments between"),
                       **NO_CONVERSATION},
            description="Server-sent events of the conversation's current (or last) run, "
                        "from index `after`. Each `data:` line is one JSON event.")
async def events(state: AppState, cid: ConversationId,
                 after: Annotated[int, Query(ge=0, le=MAX_DB_INT)] = 0,
                 run_id: Annotated[str | None, Query(max_length=32)] = None
                 ) -> StreamingResponse:
    await state.conversation_or_404(cid)
    run = state.hub.runs.get(cid)

    async def stream() -> AsyncIterator[bytes]:
        if run is None or (run_id is not None and run.id != run_id):
            yield b'data: {"type": "idle"}\n\n'
            return
        async for ev in run.follow(after):
            if ev is None:
                yield b": keep-alive\n\n"
                continue
            data = json.dumps(ev, ensure_ascii=False, separators=(",", ":"))
            yield f"id: {ev['i']}\ndata: {data}\n\n".encode()

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache",
                                      "X-Accel-Buffering": "no"})


@router.post("/api/conversations/{cid}/stop", response_model=Stopping,
             responses=NO_CONVERSATION)
async def stop(state: AppState, cid: ConversationId) -> dict[str, Any]:
    await state.conversation_or_404(cid)
    run = state.hub.runs.get(cid)
    if run is None or run.done:
        return {"stopping": False}
    await asyncio.to_thread(run.interrupt)
    return {"stopping": True}
