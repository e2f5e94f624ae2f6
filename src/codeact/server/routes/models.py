"""The JSON the app's API answers with, as pydantic models (the OpenAPI schema's shapes).

The items, conversations, files and branches are the store's records
(``store/records.py``) field for field; ``tests/test_server_routes_models.py`` keeps
the two in step. Routes declare these as ``response_model`` and return the store's dicts:
FastAPI checks each answer against its model once, on the way out.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

__all__ = ["ApprovalAnswered", "ApprovalWaiting", "BranchInfo", "BranchShown", "CodeItem",
           "Conversation", "ConversationList", "ConversationSummary", "ConversationView",
           "DefaultsSaved", "ErrorDetail", "ErrorInfo", "FileInfo", "FileList", "Health",
           "MessageItem", "MessageMatch", "ModelChoices", "Observation", "RunStarted",
           "SearchResult", "SearchResults", "SettingsInfo", "SharedConversation",
           "NO_CONVERSATION", "SharedView", "Stopping", "TimelineItem", "errors",
           "event_stream"]

SETTINGS = "the conversation's settings (temperature, max_turns, max_new_tokens, prompt, " \
           "approval); a field left out uses the server's default"


class ErrorDetail(BaseModel):
    """An error answer (4xx): what went wrong, as one line a person can read."""

    detail: str


# conversations ----------------------------------------------------------------------------
class Conversation(BaseModel):
    id: str
    title: str
    model: str
    share_token: str
    created_at: float
    updated_at: float
    pinned: bool
    settings: dict[str, Any] = Field(description=SETTINGS)
    branch: int = Field(description="the branch shown")


class ConversationSummary(Conversation):
    running: bool = Field(description="a reply is being generated now")


class MessageMatch(BaseModel):
    message_id: int
    snippet: str = Field(description="the message text around the first word found")


class SearchResult(ConversationSummary):
    match: Literal["title"] | MessageMatch


class ConversationList(BaseModel):
    conversations: list[ConversationSummary]


class SearchResults(BaseModel):
    conversations: list[SearchResult] = Field(description="title matches first")


# the timeline -----------------------------------------------------------------------------
class ErrorInfo(BaseModel):
    name: str
    message: str
    traceback: str


class Observation(BaseModel):
    """What a code action printed and returned."""

    id: int
    status: Literal["running", "done"]
    stdout: str
    stderr: str
    result: str | None = Field(description="text/plain of the last expression's value")
    error: ErrorInfo | None
    text: str = Field(description="what the model was shown")
    duration: float
    truncated: bool
    timed_out: bool
    restarted: bool
    restart_reason: str | None
    images: list[int] = Field(description="image ids (GET .../images/{image_id}), in order")


class MessageItem(BaseModel):
    type: Literal["message"]
    id: int
    seq: int = Field(description="the item's place in the conversation's timeline")
    role: str = Field(description="user | assistant | system")
    kind: str = Field(description="text | answer | feedback | error | notice")
    turn: int | None
    content: str
    status: str = Field(description="streaming | done")
    created_at: float
    branch: int


class CodeItem(BaseModel):
    type: Literal["code"]
    id: int
    seq: int = Field(description="the item's place in the conversation's timeline")
    turn: int | None
    code: str
    message_id: int | None = Field(description="the assistant message that wrote it")
    created_at: float
    branch: int
    observation: Observation | None


TimelineItem = Annotated[MessageItem | CodeItem, Field(discriminator="type")]


class FileInfo(BaseModel):
    name: str = Field(description="the path in the workspace")
    size: int
    source: str = Field(description="upload | agent")
    updated_at: float


class FileList(BaseModel):
    files: list[FileInfo]


class BranchInfo(BaseModel):
    number: int
    parent: int | None
    anchor_seq: int | None = Field(description="the user message the branch is a version of")
    fork_seq: int | None = Field(description="the branch sees its parent's items before this")
    kind: str = Field(description="root | edit | regenerate")
    created_at: float | None


class ApprovalWaiting(BaseModel):
    """The code action waiting for Run / Edit / Skip (approval mode)."""

    code_action_id: int | None
    code: str


class ConversationView(BaseModel):
    """A conversation with its timeline, files, branches, and its run if one is going."""

    conversation: Conversation
    items: list[TimelineItem]
    files: list[FileInfo]
    running: bool
    run_id: str | None = Field(description="follow it: GET .../events?run_id=...")
    cursor: int = Field(description="the event index to follow the run from")
    kernel: bool = Field(description="the conversation has a live kernel")
    branches: list[BranchInfo]
    approval: ApprovalWaiting | None


# runs -------------------------------------------------------------------------------------
class RunStarted(BaseModel):
    run_id: str
    items: list[TimelineItem] = Field(description="the items the request added (the user "
                                      "message, a notice)")


class Stopping(BaseModel):
    stopping: bool = Field(description="false: there was no run to stop")


class BranchShown(BaseModel):
    branch: int


class ApprovalAnswered(BaseModel):
    action: Literal["run", "edit", "skip"]


# sharing, settings, meta ----------------------------------------------------------------------
class SharedConversation(BaseModel):
    title: str
    model: str
    created_at: float
    settings: dict[str, Any] = Field(description=SETTINGS)


class SharedView(BaseModel):
    conversation: SharedConversation
    items: list[TimelineItem]
    read_only: Literal[True]


class SettingsInfo(BaseModel):
    defaults: dict[str, Any] = Field(description="what a new conversation starts with "
                                     "(the settings and its model)")
    prompts: list[str] = Field(description="the code prompt variants")
    models: list[str]
    default_model: str


class DefaultsSaved(BaseModel):
    defaults: dict[str, Any]


class Health(BaseModel):
    ok: Literal[True]


class ModelChoices(BaseModel):
    models: list[str]
    default: str


def errors(described: dict[int, str]) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route's error statuses: each an :class:`ErrorDetail`."""
    return {code: {"model": ErrorDetail, "description": text}
            for code, text in described.items()}


NO_CONVERSATION = errors({404: "no such conversation"})  # most routes under {cid}


def event_stream(description: str) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a 200 of server-sent events, each with one JSON ``data`` line."""
    event = {"type": "object", "required": ["data"], "description": "one server-sent event",
             "properties": {"id": {"type": "string"}, "event": {"type": "string"},
                            "data": {"type": "string", "description": "a JSON object"}}}
    return {200: {"description": description,
                  "content": {"text/event-stream": {"schema": event}}}}
