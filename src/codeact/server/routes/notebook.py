"""A conversation as a Jupyter notebook: ``GET /api/conversations/{cid}/notebook``.

Built from what the store keeps (messages, code actions with their outputs and images),
so it works for any conversation, live or not; the server's tools go in the first cell
(pure ones) or a note (host ones, e.g. ``serve --mcp``).
"""

from __future__ import annotations

import asyncio
import re

from fastapi import APIRouter, HTTPException
from fastapi.responses import Response

from codeact.notebook import NotebookError, conversation_notebook, dumps
from codeact.server.routes.deps import AppState, ConversationId, ServerState
from codeact.server.routes.models import errors
from codeact.server.store.records import ConversationRecord
from codeact.trajectory import tool_records

__all__ = ["router"]

router = APIRouter(tags=["conversations"])


def filename(title: str) -> str:
    """An ASCII file name from the conversation's title (safe in a header)."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", title).strip("-.")[:60]
    return f"{stem or 'conversation'}.ipynb"


def _build(state: ServerState, conv: ConversationRecord) -> str:
    items = [dict(i) for i in state.store.timeline(conv["id"])]
    tools = tool_records(state.hub.agent_options.get("tools") or ())
    nb = conversation_notebook(dict(conv), items,
                               lambda i: state.store.get_image(conv["id"], i), tools)
    return dumps(nb)


@router.get("/api/conversations/{cid}/notebook", response_class=Response,
            responses={200: {"content": {"application/x-ipynb+json": {}},
                             "description": "the conversation as an .ipynb file"},
                       **errors({404: "no such conversation",
                                 501: "nbformat is not installed"})})
async def conversation_as_notebook(state: AppState, cid: ConversationId) -> Response:
    """Download the conversation as a Jupyter notebook (code cells with their outputs)."""
    conv = await state.conversation_or_404(cid)
    try:
        text = await asyncio.to_thread(_build, state, conv)
    except NotebookError as exc:
        raise HTTPException(501, str(exc)) from None
    return Response(text, media_type="application/x-ipynb+json",
                    headers={"Content-Disposition":
                             f'attachment; filename="{filename(conv["title"])}"'})
