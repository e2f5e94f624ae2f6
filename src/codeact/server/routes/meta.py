"""About the server itself: the health check (public) and the configured models."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from codeact.server.routes.deps import AppState
from codeact.server.routes.models import Health, ModelChoices

__all__ = ["router"]

router = APIRouter(tags=["meta"])


@router.get("/api/health", response_model=Health)
async def health() -> dict[str, Any]:
    return {"ok": True}


@router.get("/api/models", response_model=ModelChoices)
async def list_models(state: AppState) -> dict[str, Any]:
    return {"models": state.models, "default": state.default_model}
