"""The answers of the OpenAI-compatible routes, in OpenAI's shapes (for the OpenAPI schema).

Only what ``openai_api.py`` sends: a client library reads these fields.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

__all__ = ["AssistantMessage", "ChatCompletion", "Choice", "ModelCard", "ModelList",
           "OpenAIError", "OpenAIErrorBody", "Usage", "openai_errors"]


class ModelCard(BaseModel):
    id: str
    object: Literal["model"]
    created: int
    owned_by: str


class ModelList(BaseModel):
    object: Literal["list"]
    data: list[ModelCard]


class AssistantMessage(BaseModel):
    role: Literal["assistant"]
    content: str = Field(description="the whole run as Markdown: thoughts, code, outputs, "
                         "answer")
    refusal: None


class Choice(BaseModel):
    index: int
    logprobs: None
    finish_reason: str | None
    message: AssistantMessage


class Usage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class ChatCompletion(BaseModel):
    """A chat completion (without ``"stream": true``)."""

    id: str
    object: Literal["chat.completion"]
    created: int
    model: str
    system_fingerprint: None
    choices: list[Choice]
    usage: Usage


class OpenAIErrorBody(BaseModel):
    message: str
    type: str
    param: str | None
    code: str | None


class OpenAIError(BaseModel):
    """An error in OpenAI's shape, which its client libraries turn into exceptions."""

    error: OpenAIErrorBody


def openai_errors(described: dict[int, str]) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for error statuses answered in OpenAI's shape."""
    return {code: {"model": OpenAIError, "description": text}
            for code, text in described.items()}
