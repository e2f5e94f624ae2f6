"""The store's chat-app features: search, delete with undo, default settings, branches.

A mixin of :class:`codeact.server.store.Store` (kept apart so each module stays short);
like the rest of the store, every SQL statement for these features is here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import AbstractContextManager
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from codeact.server.errors import NotFound
from codeact.server.schema import AppSetting, Branch, CodeAction, Conversation, Message, now

__all__ = ["ChatFeatures", "snippet"]

SEARCH_TOKENS = 8  # words of a query used (the rest are ignored)


def snippet(content: str, tokens: list[str], width: int = 80) -> str:
    """A short piece of ``content`` around the first query word found in it."""
    flat = " ".join(content.split())
    lower = flat.lower()
    at = min((i for i in (lower.find(t.lower()) for t in tokens) if i >= 0), default=0)
    start = max(0, at - width // 3)
    piece = flat[start:start + width]
    return ("…" if start else "") + piece + ("…" if start + width < len(flat) else "")


def _conversation_dict(c: Conversation) -> dict[str, Any]:
    """A conversation row as the API returns it (used by Store and by search)."""
    return {"id": c.id, "title": c.title, "model": c.model, "share_token": c.share_token,
            "created_at": c.created_at, "updated_at": c.updated_at,
            "pinned": bool(c.pinned), "settings": json.loads(c.settings or "{}"),
            "branch": c.branch or 0}


class ChatFeatures:
    """Search, delete with undo, default settings and branches (a Store mixin)."""

    is_sqlite: bool
    has_fts: bool

    def session(self) -> AbstractContextManager[Session]:  # provided by Store
        raise NotImplementedError

    @staticmethod
    def _chain(s: Session, conversation_id: str, branch: int) -> list[tuple[int, int | None]]:
        raise NotImplementedError  # provided by Store

    def set_code(self, code_action_id: int, code: str, *, s: Session | None = None) -> None:
        """Replace a code action's code (approval mode: the user edited it before it ran)."""
        if s is None:
            with self.session() as s2:
                return self.set_code(code_action_id, code, s=s2)
        s.execute(update(CodeAction).where(CodeAction.id == code_action_id).values(code=code))

    # search --------------------------------------------------------------------------
    def search(self, query: str, limit: int = 50) -> list[dict[str, Any]]:
        """Conversations whose title or message text matches ``query`` (words, prefixes).

        Titles match as a substring; messages through SQLite FTS5 or PostgreSQL full-text
        search (``to_tsvector('simple', ...)``), each word as a prefix. Each result has
        ``match``: ``"title"`` or ``{"message_id", "snippet"}``. Title matches come first.
        """

        tokens = re.findall(r"\w+", query)[:SEARCH_TOKENS]
        if not tokens:
            return []
        out: dict[str, dict[str, Any]] = {}
        with self.session() as s:
            pattern = "%" + query.strip().replace("\\", "\\\\").replace("%", "\\%") \
                .replace("_", "\\_") + "%"
            for c in s.scalars(select(Conversation).where(
                    Conversation.deleted_at.is_(None),
                    func.lower(Conversation.title).like(pattern.lower(), escape="\\"))
                    .order_by(Conversation.updated_at.desc()).limit(limit)):
                out[c.id] = {**_conversation_dict(c), "match": "title"}
            for cid, mid, content in self._message_hits(s, tokens, limit * 4):
                if cid in out or len(out) >= limit:
                    continue
                c = s.get(Conversation, cid)
                if c is None or c.deleted_at is not None:
                    continue
                out[cid] = {**_conversation_dict(c),
                            "match": {"message_id": mid, "snippet": snippet(content, tokens)}}
        return list(out.values())[:limit]

    def _message_hits(self, s: Session, tokens: list[str], limit: int
                      ) -> Iterator[tuple[str, int, str]]:
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

    # delete with undo ------------------------------------------------------------------
    def soft_delete(self, conversation_id: str) -> float:
        """Hide a conversation until :meth:`restore` or a purge; returns the time."""
        with self.session() as s:
            c = s.get(Conversation, conversation_id)
            if c is None or c.deleted_at is not None:
                raise NotFound(conversation_id)
            deleted = c.deleted_at = now()
            return deleted

    def restore(self, conversation_id: str) -> None:
        """Undo :meth:`soft_delete` (NotFound once purged)."""
        with self.session() as s:
            c = s.get(Conversation, conversation_id)
            if c is None or c.deleted_at is None:
                raise NotFound(conversation_id)
            c.deleted_at = None

    def deleted_before(self, when: float) -> list[str]:
        """Conversations deleted before ``when`` (their undo window is over)."""
        with self.session() as s:
            return list(s.scalars(select(Conversation.id).where(
                Conversation.deleted_at.is_not(None), Conversation.deleted_at < when)))

    # default settings ---------------------------------------------------------------------
    def get_defaults(self) -> dict[str, Any]:
        """The settings a new conversation starts with (``{}``: the server's own)."""
        with self.session() as s:
            raw = s.scalar(select(AppSetting.value).where(AppSetting.key == "defaults"))
            return json.loads(raw) if raw else {}

    def set_defaults(self, settings: dict[str, Any]) -> dict[str, Any]:
        clean = {k: v for k, v in settings.items() if v is not None}
        with self.session() as s:
            row = s.get(AppSetting, "defaults")
            if row is None:
                s.add(AppSetting(key="defaults", value=json.dumps(clean)))
            else:
                row.value = json.dumps(clean)
        return clean

    # branches ------------------------------------------------------------------------------
    def branches(self, conversation_id: str) -> list[dict[str, Any]]:
        """Every branch (branch 0 included) with its parent, anchor and fork point."""
        with self.session() as s:
            rows = {b.number: b for b in s.scalars(
                select(Branch).where(Branch.conversation_id == conversation_id))}
        out = [{"number": 0, "parent": None, "anchor_seq": None, "fork_seq": None,
                "kind": "root", "created_at": None}] if 0 not in rows else []
        for number in sorted(rows):
            b = rows[number]
            out.append({"number": b.number, "parent": b.parent, "anchor_seq": b.anchor_seq,
                        "fork_seq": b.fork_seq, "kind": b.kind, "created_at": b.created_at})
        return out

    def _stash(self, s: Session, c: Conversation) -> dict[int, Branch]:
        """Keep the shown branch's model messages in its row before another is shown."""
        rows = {b.number: b for b in s.scalars(
            select(Branch).where(Branch.conversation_id == c.id))}
        current = rows.get(c.branch or 0)
        if current is None:
            current = Branch(conversation_id=c.id, number=c.branch or 0, parent=None,
                             kind="root", created_at=c.created_at)
            s.add(current)
            rows[current.number] = current
        current.agent_messages = c.agent_messages
        return rows

    def fork(self, conversation_id: str, *, anchor_seq: int, fork_seq: int, kind: str,
             history: list[dict[str, Any]], parent: int | None = None) -> int:
        """Start a branch and show it; returns its number.

        ``parent``: the branch that owns the user message at ``anchor_seq`` (None: the
        shown one). The new branch sees the parent's items before ``fork_seq``, which are
        what the shown branch had there too; so edits and regenerations of one message
        share the key (parent, anchor_seq) and the UI can offer them as its versions. The
        model's messages become ``history`` (a snapshot at the current end of the timeline).
        """
        with self.session() as s:
            c = s.get(Conversation, conversation_id)
            if c is None or c.deleted_at is not None:
                raise NotFound(conversation_id)
            rows = self._stash(s, c)
            number = max(rows) + 1
            s.add(Branch(conversation_id=c.id, number=number,
                         parent=(c.branch or 0) if parent is None else parent,
                         anchor_seq=anchor_seq, fork_seq=fork_seq, kind=kind,
                         agent_messages="[]", created_at=now()))
            c.branch = number
            c.agent_messages = json.dumps({"messages": history, "seq": c.next_seq,
                                           "open_code": None}, default=str)
            c.updated_at = now()
            return number

    def switch_branch(self, conversation_id: str, number: int) -> None:
        """Show another branch, restoring the model's messages it had."""
        with self.session() as s:
            c = s.get(Conversation, conversation_id)
            if c is None or c.deleted_at is not None:
                raise NotFound(conversation_id)
            rows = self._stash(s, c)
            target = rows.get(number)
            if target is None:
                raise NotFound(f"branch {number}")
            c.branch = number
            c.agent_messages = target.agent_messages or "[]"
