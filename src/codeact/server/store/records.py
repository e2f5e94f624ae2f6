"""The plain dicts the store returns, typed, and how each is made from its row.

They are what the routes send (``routes/models.py`` describes the same shapes for the
OpenAPI schema; a test keeps the two in step), what the recorder publishes as client
events and what the hub, resume and notebook code read. Dicts rather than objects:
they go to JSON as they are.
"""

from __future__ import annotations

import json
from typing import Any, Literal, TypedDict

from codeact.server.schema import Branch, CodeAction, Conversation, FileRow, Message, ObservationRow

__all__ = ["AgentSnapshot", "BranchRecord", "CodeItem", "ConversationRecord", "ErrorRecord",
           "FileRecord", "MessageItem", "MessageMatch", "ObservationRecord", "SearchHit",
           "TimelineItem", "branch_record", "code_item", "conversation_record", "file_record",
           "message_item", "observation_record"]


class ConversationRecord(TypedDict):
    id: str
    title: str
    model: str
    share_token: str
    created_at: float
    updated_at: float
    pinned: bool
    settings: dict[str, Any]
    branch: int  # the branch shown


class MessageMatch(TypedDict):
    message_id: int
    snippet: str


class SearchHit(ConversationRecord):
    match: Literal["title"] | MessageMatch


class ErrorRecord(TypedDict):
    name: str
    message: str
    traceback: str


class ObservationRecord(TypedDict):
    id: int
    status: str  # running | done
    stdout: str
    stderr: str
    result: str | None
    error: ErrorRecord | None
    text: str  # what the model was shown
    duration: float
    truncated: bool
    timed_out: bool
    restarted: bool
    restart_reason: str | None
    images: list[int]  # image ids, in order


class MessageItem(TypedDict):
    type: Literal["message"]
    id: int
    seq: int
    role: str
    kind: str
    turn: int | None
    content: str
    status: str
    created_at: float
    branch: int


class CodeItem(TypedDict):
    type: Literal["code"]
    id: int
    seq: int
    turn: int | None
    code: str
    message_id: int | None
    created_at: float
    branch: int
    observation: ObservationRecord | None


TimelineItem = MessageItem | CodeItem


class FileRecord(TypedDict):
    name: str
    size: int
    source: str  # upload | agent
    updated_at: float


class BranchRecord(TypedDict):
    number: int
    parent: int | None
    anchor_seq: int | None
    fork_seq: int | None
    kind: str  # root | edit | regenerate
    created_at: float | None


class AgentSnapshot(TypedDict):
    """The model's messages as saved, the timeline position they cover (None: saved
    before snapshots had one) and the code action whose observation they lack."""

    messages: list[dict[str, Any]]
    seq: int | None
    open_code: int | None


def conversation_record(c: Conversation) -> ConversationRecord:
    return {"id": c.id, "title": c.title, "model": c.model, "share_token": c.share_token,
            "created_at": c.created_at, "updated_at": c.updated_at,
            "pinned": bool(c.pinned), "settings": json.loads(c.settings or "{}"),
            "branch": c.branch or 0}


def message_item(m: Message) -> MessageItem:
    return {"type": "message", "id": m.id, "seq": m.seq, "role": m.role, "kind": m.kind,
            "turn": m.turn, "content": m.content, "status": m.status,
            "created_at": m.created_at, "branch": m.branch or 0}


def observation_record(o: ObservationRow, image_ids: list[int]) -> ObservationRecord:
    error: ErrorRecord | None = None
    if o.error_name is not None:
        error = {"name": o.error_name, "message": o.error_message or "",
                 "traceback": o.traceback or ""}
    return {"id": o.id, "status": o.status, "stdout": o.stdout, "stderr": o.stderr,
            "result": o.result, "error": error, "text": o.text, "duration": o.duration,
            "truncated": o.truncated, "timed_out": o.timed_out, "restarted": o.restarted,
            "restart_reason": o.restart_reason, "images": image_ids}


def code_item(a: CodeAction, o: ObservationRow | None, image_ids: list[int]) -> CodeItem:
    return {"type": "code", "id": a.id, "seq": a.seq, "turn": a.turn, "code": a.code,
            "message_id": a.message_id, "created_at": a.created_at,
            "branch": a.branch or 0,
            "observation": observation_record(o, image_ids) if o else None}


def file_record(f: FileRow) -> FileRecord:
    return {"name": f.name, "size": f.size, "source": f.source, "updated_at": f.updated_at}


def branch_record(b: Branch) -> BranchRecord:
    return {"number": b.number, "parent": b.parent, "anchor_seq": b.anchor_seq,
            "fork_seq": b.fork_seq, "kind": b.kind, "created_at": b.created_at}
