"""Search: conversations whose title or message text matches a query.

Titles match as a substring; message text through SQLite FTS5 or PostgreSQL full-text
search (``to_tsvector('simple', ...)``), each word as a prefix, with a LIKE fallback on
an SQLite built without FTS5.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from codeact.server.schema import Conversation, Message
from codeact.server.store.database import OWN, Database, transaction
from codeact.server.store.records import SearchHit, conversation_record

__all__ = ["SEARCH_TOKENS", "Search", "snippet"]

SEARCH_TOKENS = 8  # words of a query used (the rest are ignored)


def snippet(content: str, tokens: list[str], width: int = 80) -> str:
    """A short piece of ``content`` around the first query word found in it."""
    flat = " ".join(content.split())
    lower = flat.lower()
    at = min((i for i in (lower.find(t.lower()) for t in tokens) if i >= 0), default=0)
    start = max(0, at - width // 3)
    piece = flat[start:start + width]
    return ("…" if start else "") + piece + ("…" if start + width < len(flat) else "")


def _like_pattern(query: str) -> str:
    """``%query%`` with LIKE's wildcards in ``query`` escaped (escape character ``\\``)."""
    escaped = query.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return "%" + escaped + "%"


class Search(Database):
    """Find conversations by words of their title or messages."""

    @transaction
    def search(self, query: str, limit: int = 50, *, s: Session = OWN) -> list[SearchHit]:
        """Conversations whose title or message text matches ``query`` (words, prefixes).

        Each result has ``match``: ``"title"`` or ``{"message_id", "snippet"}``. Title
        matches come first; deleted conversations are never found.
        """
        tokens = re.findall(r"\w+", query)[:SEARCH_TOKENS]
        if not tokens:
            return []
        out: dict[str, SearchHit] = {}
        for c in s.scalars(select(Conversation).where(
                Conversation.deleted_at.is_(None),
                func.lower(Conversation.title).like(_like_pattern(query).lower(), escape="\\"))
                .order_by(Conversation.updated_at.desc()).limit(limit)):
            out[c.id] = {**conversation_record(c), "match": "title"}
        for cid, mid, content in self._message_hits(s, tokens, limit * 4):
            if cid in out or len(out) >= limit:
                continue
            c = s.get(Conversation, cid)
            if c is None or c.deleted_at is not None:
                continue
            out[cid] = {**conversation_record(c),
                        "match": {"message_id": mid, "snippet": snippet(content, tokens)}}
        return list(out.values())[:limit]

    def _message_hits(self, s: Session, tokens: list[str], limit: int
                      ) -> Iterator[tuple[str, int, str]]:
        """(conversation id, message id, text) of messages matching every token."""
        if self.is_sqlite and self.has_fts:
            match = " ".join(f'"{t}"*' for t in tokens)
            rows = s.execute(text(
                "SELECT m.conversation_id, m.id, m.content FROM messages_fts "
                "JOIN messages m ON m.id = messages_fts.rowid "
                "WHERE messages_fts MATCH :q ORDER BY messages_fts.rank LIMIT :n"),
                {"q": match, "n": limit})
        elif not self.is_sqlite:
            tsquery = " & ".join(f"{t}:*" for t in tokens)
            rows = s.execute(
                select(Message.conversation_id, Message.id, Message.content)
                .where(func.to_tsvector("simple", Message.content)
                       .op("@@")(func.to_tsquery("simple", tsquery)))
                .order_by(Message.created_at.desc()).limit(limit))
        else:  # SQLite built without FTS5
            cond = [func.lower(Message.content).like(f"%{t.lower()}%") for t in tokens]
            rows = s.execute(select(Message.conversation_id, Message.id, Message.content)
                             .where(*cond).order_by(Message.created_at.desc()).limit(limit))
        for cid, mid, content in rows:
            yield str(cid), int(mid), str(content or "")
