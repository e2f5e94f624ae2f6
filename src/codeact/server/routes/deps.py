"""What every router shares: the app's state as a dependency, path types, lookups.

A route asks for ``state: AppState`` and gets the :class:`ServerState` that
``create_app`` built; nothing else is passed through closures.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi import Path as PathParam

from codeact.server.errors import NotFound
from codeact.server.hub import ChatHub
from codeact.server.store import Store
from codeact.server.store.records import ConversationRecord

__all__ = ["MAX_DB_INT", "AppState", "ConversationId", "ImageId", "ServerState", "ShareToken",
           "conversation_or_404", "get_state"]

ConversationId = Annotated[str, PathParam(pattern=r"^[0-9a-f]{32}$",
                                          description="conversation id (32 hex digits)")]
ShareToken = Annotated[str, PathParam(pattern=r"^[A-Za-z0-9_-]{16,64}$",
                                      description="the share token of a conversation")]
# database ids are signed 64-bit: a bigger number is a 422, not an overflow (found by fuzzing)
MAX_DB_INT = 2**63 - 1
ImageId = Annotated[int, PathParam(ge=0, le=MAX_DB_INT, description="image id")]


@dataclass
class ServerState:
    """Everything the routes use, built once by ``create_app``."""

    hub: ChatHub
    store: Store
    data_dir: Path
    models: list[str]
    default_model: str
    max_upload_bytes: int

    def check_model(self, model: str) -> None:
        """Raise a 422 unless ``model`` is one of the configured models."""
        if model not in self.models:
            raise HTTPException(422, f"model: {model!r} is not one of the configured models "
                                     f"({', '.join(self.models)})")

    async def conversation_or_404(self, cid: str) -> ConversationRecord:
        """The conversation (read in a worker thread) or a 404."""
        return await asyncio.to_thread(conversation_or_404, self.store, cid)


async def get_state(request: Request) -> ServerState:
    """The :class:`ServerState` of the app serving ``request``.

    ``async`` on purpose: FastAPI runs a plain ``def`` dependency in its thread pool,
    which would add a thread hop to every request.
    """
    return request.app.state.server


AppState = Annotated[ServerState, Depends(get_state)]


def conversation_or_404(store: Store, cid: str) -> ConversationRecord:
    """``store.get_conversation(cid)``, as a 404 when there is none (any thread)."""
    try:
        return store.get_conversation(cid)
    except NotFound:
        raise HTTPException(404, "no such conversation") from None
