"""Branches of a conversation: editing a user message or regenerating an answer forks one.

Branch 0 is the original line. A new branch keeps its parent's items before its fork
point and the parent keeps its later items, so nothing is lost and the UI can switch
back. Only the shown branch's model messages live in the conversation row; the others
wait in their ``branches`` rows.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session

from codeact.server.errors import NotFound
from codeact.server.schema import Branch, CodeAction, Conversation, Message, now
from codeact.server.store.conversations import shown
from codeact.server.store.database import OWN, Database, transaction
from codeact.server.store.records import BranchRecord, branch_record

__all__ = ["Branches", "visible", "view_chain"]

# the branch every conversation starts on, listed even before any fork made its row
ROOT: BranchRecord = {"number": 0, "parent": None, "anchor_seq": None, "fork_seq": None,
                      "kind": "root", "created_at": None}


def view_chain(s: Session, conversation_id: str, branch: int
               ) -> list[tuple[int, int | None]]:
    """(branch, seq limit) from ``branch`` up to the root: what the branch's view holds."""
    rows = {b.number: b for b in s.scalars(
        select(Branch).where(Branch.conversation_id == conversation_id))}
    chain: list[tuple[int, int | None]] = []
    limit: int | None = None
    number: int | None = branch or 0
    while number is not None and len(chain) <= len(rows):
        chain.append((number, limit))
        row = rows.get(number)
        if row is None or row.parent is None:
            break
        if row.fork_seq is not None:
            limit = row.fork_seq if limit is None else min(limit, row.fork_seq)
        number = row.parent
    return chain


def visible(table: type[Message] | type[CodeAction],
            chain: list[tuple[int, int | None]]) -> ColumnElement[bool]:
    """SQL condition: the row belongs to a branch of ``chain`` below that branch's limit."""
    return or_(*[table.branch == number if limit is None
                 else and_(table.branch == number, table.seq < limit)
                 for number, limit in chain])


def _stash(s: Session, c: Conversation) -> dict[int, Branch]:
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


class Branches(Database):
    """List, fork and switch the branches of a conversation."""

    @transaction
    def branches(self, conversation_id: str, *, s: Session = OWN) -> list[BranchRecord]:
        """Every branch (branch 0 included) with its parent, anchor and fork point."""
        rows = {b.number: b for b in s.scalars(
            select(Branch).where(Branch.conversation_id == conversation_id))}
        out: list[BranchRecord] = [ROOT.copy()] if 0 not in rows else []
        return [*out, *(branch_record(rows[number]) for number in sorted(rows))]

    @transaction
    def fork(self, conversation_id: str, *, anchor_seq: int, fork_seq: int, kind: str,
             history: list[dict[str, Any]], parent: int | None = None,
             s: Session = OWN) -> int:
        """Start a branch and show it; returns its number.

        ``parent``: the branch that owns the user message at ``anchor_seq`` (None: the
        shown one). The new branch sees the parent's items before ``fork_seq``, which are
        what the shown branch had there too; so edits and regenerations of one message
        share the key (parent, anchor_seq) and the UI can offer them as its versions. The
        model's messages become ``history`` (a snapshot at the current end of the timeline).
        """
        c = shown(s, conversation_id)
        rows = _stash(s, c)
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

    @transaction
    def switch_branch(self, conversation_id: str, number: int, *, s: Session = OWN) -> None:
        """Show another branch, restoring the model's messages it had."""
        c = shown(s, conversation_id)
        rows = _stash(s, c)
        target = rows.get(number)
        if target is None:
            raise NotFound(f"branch {number}")
        c.branch = number
        c.agent_messages = target.agent_messages or "[]"
