"""Conversations: create, list, read, rename / pin / settings, a new share link, delete (at
once or with undo)."""

from __future__ import annotations

import json
import secrets
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from codeact.server.errors import NotFound
from codeact.server.schema import (
    Branch,
    CodeAction,
    Conversation,
    FileRow,
    Image,
    Message,
    ObservationRow,
    now,
)
from codeact.server.store.database import OWN, Database, transaction
from codeact.server.store.records import ConversationRecord, conversation_record

__all__ = ["Conversations", "shown"]


def shown(s: Session, conversation_id: str) -> Conversation:
    """The conversation's row; NotFound when there is none or it is deleted."""
    c = s.get(Conversation, conversation_id)
    if c is None or c.deleted_at is not None:
        raise NotFound(conversation_id)
    return c


class Conversations(Database):
    """The conversation rows; a deleted one is hidden until :meth:`restore` or a purge."""

    @transaction
    def create_conversation(self, title: str = "New chat", model: str = "",
                            settings: dict[str, Any] | None = None, *,
                            s: Session = OWN) -> ConversationRecord:
        c = Conversation(id=secrets.token_hex(16), title=title[:200], model=model,
                         share_token=secrets.token_urlsafe(24), next_seq=1,
                         agent_messages="[]", pinned=False, branch=0,
                         settings=json.dumps(settings or {}))
        s.add(c)
        s.flush()
        return conversation_record(c)

    def ensure_conversation(self, conversation_id: str, title: str = "New chat",
                            model: str = "") -> tuple[ConversationRecord, bool]:
        """The conversation with this id, created if missing; ``(row, created)``.

        For ids chosen by the caller (an OpenAI client's conversation key, hashed): two
        requests racing to create it both get the one row.
        """
        try:
            return self.get_conversation(conversation_id), False
        except NotFound:
            pass
        try:
            return self._create_with_id(conversation_id, title, model), True
        except IntegrityError:  # created by a concurrent request
            return self.get_conversation(conversation_id), False

    @transaction
    def _create_with_id(self, conversation_id: str, title: str, model: str, *,
                        s: Session = OWN) -> ConversationRecord:
        c = Conversation(id=conversation_id, title=title[:200], model=model,
                         share_token=secrets.token_urlsafe(24), next_seq=1,
                         agent_messages="[]")
        s.add(c)
        s.flush()
        return conversation_record(c)

    @transaction
    def list_conversations(self, limit: int = 200, *,
                           s: Session = OWN) -> list[ConversationRecord]:
        """Pinned first, then the most recently updated."""
        rows = s.scalars(select(Conversation).where(Conversation.deleted_at.is_(None))
                         .order_by(Conversation.pinned.desc(),
                                   Conversation.updated_at.desc()).limit(limit))
        return [conversation_record(c) for c in rows]

    @transaction
    def get_conversation(self, conversation_id: str, *, include_deleted: bool = False,
                         s: Session = OWN) -> ConversationRecord:
        """The conversation; one deleted (in its undo window) is NotFound unless asked."""
        c = s.get(Conversation, conversation_id)
        if c is None or (c.deleted_at is not None and not include_deleted):
            raise NotFound(conversation_id)
        return conversation_record(c)

    @transaction
    def conversation_by_share_token(self, token: str, *,
                                    s: Session = OWN) -> ConversationRecord:
        c = s.scalar(select(Conversation).where(Conversation.share_token == token,
                                                Conversation.deleted_at.is_(None)))
        if c is None:
            raise NotFound(token)
        return conversation_record(c)

    @transaction
    def new_share_token(self, conversation_id: str, *,
                        s: Session = OWN) -> ConversationRecord:
        """Give the conversation a new share token: every link made from the old one stops
        working at once (the way to revoke a link that went further than meant)."""
        c = shown(s, conversation_id)
        c.share_token = secrets.token_urlsafe(24)
        return conversation_record(c)

    @transaction
    def update_conversation(self, conversation_id: str, *, title: str | None = None,
                            model: str | None = None, pinned: bool | None = None,
                            settings: dict[str, Any] | None = None,
                            s: Session = OWN) -> ConversationRecord:
        """Rename, switch model, pin, or merge ``settings`` (a None value removes a key).

        Pinning alone keeps ``updated_at``: it should not reorder the list by recency.
        """
        c = shown(s, conversation_id)
        if title is not None:
            c.title = title[:200]
        if model is not None:
            c.model = model
        if pinned is not None:
            c.pinned = pinned
        if settings is not None:
            merged = {**json.loads(c.settings or "{}"), **settings}
            c.settings = json.dumps({k: v for k, v in merged.items() if v is not None})
        if title is not None or model is not None or settings is not None:
            c.updated_at = now()
        return conversation_record(c)

    @transaction
    def delete_conversation(self, conversation_id: str, *, s: Session = OWN) -> None:
        """Delete the conversation and every row of it for good (deleted or not)."""
        c = s.get(Conversation, conversation_id)
        if c is None:
            raise NotFound(conversation_id)
        # explicit deletes: SQLite only cascades with foreign_keys on (we set it), and
        # this keeps both backends identical
        obs_ids = select(ObservationRow.id).join(
            CodeAction, ObservationRow.code_action_id == CodeAction.id).where(
            CodeAction.conversation_id == conversation_id)
        # (bulk statements: the rows are not loaded, nothing to synchronise)
        bulk = {"synchronize_session": False}
        s.execute(delete(Image).where(Image.observation_id.in_(obs_ids)),
                  execution_options=bulk)
        s.execute(delete(ObservationRow).where(ObservationRow.id.in_(obs_ids)),
                  execution_options=bulk)
        for table in (CodeAction, Message, FileRow, Branch):
            s.execute(delete(table).where(table.conversation_id == conversation_id),
                      execution_options=bulk)
        s.delete(c)

    @transaction
    def soft_delete(self, conversation_id: str, *, s: Session = OWN) -> float:
        """Hide a conversation until :meth:`restore` or a purge; returns the time."""
        c = shown(s, conversation_id)
        deleted = c.deleted_at = now()
        return deleted

    @transaction
    def restore(self, conversation_id: str, *, s: Session = OWN) -> None:
        """Undo :meth:`soft_delete` (NotFound once purged)."""
        c = s.get(Conversation, conversation_id)
        if c is None or c.deleted_at is None:
            raise NotFound(conversation_id)
        c.deleted_at = None

    @transaction
    def deleted_before(self, when: float, *, s: Session = OWN) -> list[str]:
        """Conversations deleted before ``when`` (their undo window is over)."""
        return list(s.scalars(select(Conversation.id).where(
            Conversation.deleted_at.is_not(None), Conversation.deleted_at < when)))
