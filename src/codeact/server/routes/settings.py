"""Settings: the defaults a new conversation starts with, and the choices the UI offers.

A conversation's own settings travel with it (``PATCH /api/conversations/{cid}`` with
``settings``) and apply from its next message: model, temperature, max turns, max new
tokens, prompt variant (``codeact.prompts.variants("code")``) and approval mode.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, ConfigDict, Field

from codeact.server.routes.deps import AppState, ServerState
from codeact.server.routes.models import DefaultsSaved, SettingsInfo

__all__ = ["Defaults", "Settings", "check_settings", "router"]

router = APIRouter(tags=["settings"])


class Settings(BaseModel):
    """A conversation's settings; a field left out (or null) uses the server's default."""

    model_config = ConfigDict(extra="forbid")
    temperature: float | None = Field(None, ge=0.0, le=2.0)
    max_turns: int | None = Field(None, ge=1, le=100)
    max_new_tokens: int | None = Field(None, ge=16, le=32768)
    prompt: str | None = Field(None, max_length=100, description="a code prompt variant")
    approval: bool | None = Field(None, description="show each code action and wait for "
                                  "Run / Edit / Skip before it runs")


class Defaults(Settings):
    """The settings a new conversation starts with, plus its model."""

    model: str | None = Field(None, min_length=1, max_length=200)


def prompt_variants() -> list[str]:
    from codeact.prompts import variants

    return variants("code")


def check_settings(state: ServerState, settings: Settings) -> dict[str, Any]:
    """The fields set, after checking the model and the prompt variant (422 if unknown)."""
    values = settings.model_dump(exclude_unset=True)
    if values.get("prompt") is not None and values["prompt"] not in prompt_variants():
        raise HTTPException(422, f"prompt: {values['prompt']!r} is not one of "
                                 f"{', '.join(prompt_variants())}")
    if values.get("model") is not None:
        state.check_model(values["model"])
    return values


@router.get("/api/settings", response_model=SettingsInfo)
async def get_settings(state: AppState) -> dict[str, Any]:
    defaults = await asyncio.to_thread(state.store.get_defaults)
    return {"defaults": defaults, "prompts": prompt_variants(), "models": state.models,
            "default_model": state.default_model}


@router.put("/api/settings", response_model=DefaultsSaved)
async def put_settings(state: AppState, body: Defaults) -> dict[str, Any]:
    values = check_settings(state, body)
    saved = await asyncio.to_thread(state.store.set_defaults, values)
    return {"defaults": saved}
