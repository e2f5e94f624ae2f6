"""The model's messages of a conversation, saved as snapshots of the timeline.

The agent keeps its own OpenAI-style history; the server saves it at every turn
boundary so a restarted server (or a crash) can give a new agent the same history.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from codeact.server.errors import NotFound
from codeact.server.schema import Conversation, now
from codeact.server.store.database import OWN, Database, transaction
from codeact.server.store.records import AgentSnapshot

__all__ = ["History"]


class History(Database):
    """Save and read the model's messages (one snapshot per conversation)."""

    @transaction
    def save_agent_messages(self, conversation_id: str, messages: list[dict[str, Any]], *,
                            open_code: int | None = None, s: Session = OWN) -> None:
        """Save the model's messages as a snapshot of the timeline made so far.

        The snapshot records ``seq``, the timeline position it covers (every item made
        before it, in the same transaction), and ``open_code``: a code action whose
        observation the model has not seen yet. After a crash the items past ``seq`` are
        what the model still has to be shown (see ``server/resume.py``).
        """
        seq = s.scalar(select(Conversation.next_seq).where(Conversation.id == conversation_id))
        if seq is None:
            raise NotFound(conversation_id)
        payload = {"messages": messages, "seq": seq, "open_code": open_code}
        s.execute(update(Conversation).where(Conversation.id == conversation_id)
                  .values(agent_messages=json.dumps(payload, default=str), updated_at=now()))

    def agent_snapshot(self, conversation_id: str) -> AgentSnapshot:
        """``{"messages", "seq", "open_code"}`` (``seq`` None: saved before snapshots)."""
        data = json.loads(self._raw_snapshot(conversation_id) or "[]")
        if isinstance(data, list):  # the format before per-turn snapshots
            return {"messages": data, "seq": None, "open_code": None}
        return {"messages": list(data.get("messages") or []), "seq": data.get("seq"),
                "open_code": data.get("open_code")}

    def agent_messages(self, conversation_id: str) -> list[dict[str, Any]]:
        """The model's messages as last saved (without what happened since)."""
        return self.agent_snapshot(conversation_id)["messages"]

    @transaction
    def _raw_snapshot(self, conversation_id: str, *, s: Session = OWN) -> str:
        raw = s.scalar(select(Conversation.agent_messages)
                       .where(Conversation.id == conversation_id))
        if raw is None:
            raise NotFound(conversation_id)
        return raw
