"""A conversation's timeline: messages, code actions with their observations, images.

Every item takes the conversation's next ``seq`` (its place in the timeline) and the
branch shown, so the UI can replay a branch's view in order. The recorder writes a
run's items here as its events arrive (deltas appended, then finished).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from codeact.server.errors import NotFound
from codeact.server.schema import CodeAction, Conversation, Image, Message, ObservationRow, now
from codeact.server.store.branches import view_chain, visible
from codeact.server.store.database import OWN, Database, rowcount, transaction
from codeact.server.store.records import (
    CodeItem,
    MessageItem,
    ObservationRecord,
    TimelineItem,
    code_item,
    message_item,
    observation_record,
)

if TYPE_CHECKING:
    from codeact.runtime.observation import Observation

__all__ = ["Timeline", "next_seq"]


def next_seq(s: Session, conversation_id: str) -> tuple[int, int]:
    """The next timeline position and the branch shown (where new items go)."""
    # the UPDATE takes the row's write lock first, so concurrent writers serialize
    result = s.execute(update(Conversation).where(Conversation.id == conversation_id)
                       .values(next_seq=Conversation.next_seq + 1, updated_at=now()))
    if rowcount(result) == 0:
        raise NotFound(conversation_id)
    row = s.execute(select(Conversation.next_seq, Conversation.branch)
                    .where(Conversation.id == conversation_id)).first()
    if row is None:  # pragma: no cover - the UPDATE above found the row
        raise NotFound(conversation_id)
    return row[0] - 1, row[1] or 0


class Timeline(Database):
    """Write a run's items as they happen; read a branch's view of them."""

    # messages ----------------------------------------------------------------------------
    @transaction
    def add_message(self, conversation_id: str, role: str, kind: str, content: str = "",
                    *, turn: int | None = None, status: str = "done",
                    s: Session = OWN) -> MessageItem:
        seq, branch = next_seq(s, conversation_id)
        m = Message(conversation_id=conversation_id, seq=seq, branch=branch, role=role,
                    kind=kind, turn=turn, content=content, status=status, created_at=now())
        s.add(m)
        s.flush()
        return message_item(m)

    @transaction
    def set_message_kind(self, message_id: int, kind: str, *, s: Session = OWN) -> None:
        """Change a message's kind (a streamed chat reply that turned out to be the answer)."""
        s.execute(update(Message).where(Message.id == message_id).values(kind=kind))

    @transaction
    def append_message_text(self, message_id: int, text: str, *, s: Session = OWN) -> None:
        s.execute(update(Message).where(Message.id == message_id)
                  .values(content=Message.content + text))

    @transaction
    def finish_message(self, message_id: int, *, content: str | None = None,
                       s: Session = OWN) -> None:
        values: dict[str, Any] = {"status": "done"}
        if content is not None:
            values["content"] = content
        s.execute(update(Message).where(Message.id == message_id).values(**values))

    # code actions and observations -------------------------------------------------------
    @transaction
    def add_code_action(self, conversation_id: str, code: str, *, turn: int | None = None,
                        message_id: int | None = None,
                        s: Session = OWN) -> tuple[CodeItem, int]:
        """Store a code action with an empty running observation; returns (item, obs id)."""
        seq, branch = next_seq(s, conversation_id)
        a = CodeAction(conversation_id=conversation_id, seq=seq, branch=branch, turn=turn,
                       code=code, message_id=message_id, created_at=now())
        s.add(a)
        s.flush()
        o = ObservationRow(code_action_id=a.id, status="running", stdout="", stderr="",
                           text="", created_at=now())
        s.add(o)
        s.flush()
        return code_item(a, o, []), o.id

    @transaction
    def set_code(self, code_action_id: int, code: str, *, s: Session = OWN) -> None:
        """Replace a code action's code (approval mode: the user edited it before it ran)."""
        s.execute(update(CodeAction).where(CodeAction.id == code_action_id).values(code=code))

    @transaction
    def has_code_actions(self, conversation_id: str, *, s: Session = OWN) -> bool:
        count = s.scalar(select(func.count(CodeAction.id))
                         .where(CodeAction.conversation_id == conversation_id))
        return bool(count)

    @transaction
    def append_output(self, observation_id: int, stream: str, text: str, *,
                      s: Session = OWN) -> None:
        column = ObservationRow.stderr if stream == "stderr" else ObservationRow.stdout
        s.execute(update(ObservationRow).where(ObservationRow.id == observation_id)
                  .values({column: column + text}))

    @transaction
    def finish_observation(self, observation_id: int, conversation_id: str, *, text: str,
                           observation: Observation | None = None,
                           s: Session = OWN) -> ObservationRecord:
        """Record the final observation (a runtime Observation, or None for tool calls)."""
        o = s.get(ObservationRow, observation_id)
        if o is None:
            raise NotFound(str(observation_id))
        o.status = "done"
        o.text = text
        image_ids: list[int] = []
        if observation is not None:
            _copy_observation(o, observation)
            for i, png in enumerate(observation.images or []):
                img = Image(observation_id=o.id, conversation_id=conversation_id,
                            position=i, png=png)
                s.add(img)
                s.flush()
                image_ids.append(img.id)
        return observation_record(o, image_ids)

    @transaction
    def close_dangling(self, conversation_id: str | None = None, *,
                       s: Session = OWN) -> int:
        """Mark items left 'streaming'/'running' by a crash or restart as done."""
        q1 = update(Message).where(Message.status == "streaming")
        if conversation_id:
            q1 = q1.where(Message.conversation_id == conversation_id)
        n = rowcount(s.execute(q1.values(status="done")))
        q2 = update(ObservationRow).where(ObservationRow.status == "running")
        if conversation_id:
            ids = select(CodeAction.id).where(CodeAction.conversation_id == conversation_id)
            q2 = q2.where(ObservationRow.code_action_id.in_(ids))
        n += rowcount(s.execute(q2.values(status="done")))
        return n

    # reading -----------------------------------------------------------------------------
    @transaction
    def timeline(self, conversation_id: str, branch: int | None = None, *,
                 s: Session = OWN) -> list[TimelineItem]:
        """The messages and code actions (with observations) of a branch's view, in order.

        ``branch`` None: the branch shown. A branch sees its own items and, from each
        ancestor, the items before the point where its line forked (``Branch.fork_seq``).
        """
        c = s.get(Conversation, conversation_id)
        if c is None:
            raise NotFound(conversation_id)
        chain = view_chain(s, conversation_id, c.branch if branch is None else branch)
        items: list[TimelineItem] = [
            message_item(m) for m in s.scalars(
                select(Message).where(Message.conversation_id == conversation_id,
                                      visible(Message, chain)))]
        images: dict[int, list[int]] = {}
        for obs_id, img_id in s.execute(
                select(Image.observation_id, Image.id)
                .where(Image.conversation_id == conversation_id)
                .order_by(Image.observation_id, Image.position)):
            images.setdefault(obs_id, []).append(img_id)
        rows = s.execute(
            select(CodeAction, ObservationRow)
            .outerjoin(ObservationRow, ObservationRow.code_action_id == CodeAction.id)
            .where(CodeAction.conversation_id == conversation_id,
                   visible(CodeAction, chain)))
        for a, o in rows:
            items.append(code_item(a, o, images.get(o.id, []) if o else []))
        items.sort(key=lambda item: item["seq"])
        return items

    @transaction
    def get_image(self, conversation_id: str, image_id: int, *, s: Session = OWN) -> bytes:
        png = s.scalar(select(Image.png).where(Image.id == image_id,
                                               Image.conversation_id == conversation_id))
        if png is None:
            raise NotFound(str(image_id))
        return png


def _copy_observation(o: ObservationRow, observation: Observation) -> None:
    """Copy a runtime Observation's fields onto its row (images are rows of their own)."""
    o.stdout = observation.stdout or ""
    o.stderr = observation.stderr or ""
    o.result = observation.result
    err = observation.error
    if err is not None:
        o.error_name = err.name
        o.error_message = err.message
        o.traceback = err.traceback
    o.duration = float(observation.duration or 0.0)
    o.truncated = bool(observation.truncated)
    o.timed_out = bool(observation.timed_out)
    o.restarted = bool(observation.restarted)
    o.restart_reason = observation.restart_reason
