"""Persistence for the chat app: conversations, messages, code actions, observations, files.

Every SQL statement of the server is a method here (the tables are in ``schema.py``);
routes and the event recorder call these methods and never build queries themselves.
SQLAlchemy 2 on SQLite by default or PostgreSQL by URL.

All methods are synchronous and thread-safe (one short transaction each); the app calls
them from worker threads.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

from sqlalchemy import (
    CursorResult,
    Result,
    and_,
    create_engine,
    delete,
    event,
    func,
    inspect,
    or_,
    select,
    update,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from codeact.server.errors import NotFound
from codeact.server.migrations import migrate
from codeact.server.schema import (
    DEFAULT_DB_NAME,
    Base,
    Branch,
    CodeAction,
    Conversation,
    FileRow,
    Image,
    Message,
    ObservationRow,
    default_data_dir,
    default_db_url,
    normalize_db_url,
    now,
    sqlite_pragmas,
)
from codeact.server.store_chat import ChatFeatures, _conversation_dict

# the tables and URL helpers moved to ``schema.py``; these names stay importable from here
__all__ = ["DEFAULT_DB_NAME", "Base", "CodeAction", "Conversation", "FileRow", "Image",
           "Message", "NotFound", "ObservationRow", "Store", "default_data_dir",
           "default_db_url", "normalize_db_url"]


def _visible(table: Any, chain: list[tuple[int, int | None]]) -> Any:
    """SQL condition: the row belongs to a branch of ``chain`` below that branch's limit."""
    return or_(*[table.branch == number if limit is None
                 else and_(table.branch == number, table.seq < limit)
                 for number, limit in chain])


def _rowcount(result: Result[Any]) -> int:
    """Rows matched by an UPDATE or DELETE (``Session.execute`` types it as a plain Result)."""
    return cast("CursorResult[Any]", result).rowcount


def _message_dict(m: Message) -> dict[str, Any]:
    return {"type": "message", "id": m.id, "seq": m.seq, "role": m.role, "kind": m.kind,
            "turn": m.turn, "content": m.content, "status": m.status,
            "created_at": m.created_at, "branch": m.branch or 0}


def _observation_dict(o: ObservationRow, image_ids: list[int]) -> dict[str, Any]:
    error = None
    if o.error_name is not None:
        error = {"name": o.error_name, "message": o.error_message or "",
                 "traceback": o.traceback or ""}
    return {"id": o.id, "status": o.status, "stdout": o.stdout, "stderr": o.stderr,
            "result": o.result, "error": error, "text": o.text, "duration": o.duration,
            "truncated": o.truncated, "timed_out": o.timed_out, "restarted": o.restarted,
            "restart_reason": o.restart_reason, "images": image_ids}


def _file_dict(f: FileRow) -> dict[str, Any]:
    return {"name": f.name, "size": f.size, "source": f.source, "updated_at": f.updated_at}


class Store(ChatFeatures):
    """The chat app's database (search, undo, settings and branches: ``store_chat.py``)."""

    def __init__(self, url: str | Path | None = None, *, echo: bool = False) -> None:
        self.url = normalize_db_url(url)
        kwargs: dict[str, Any] = {"echo": echo, "future": True}
        if self.url.startswith("sqlite"):
            path = self.url.split("sqlite:///", 1)[-1]
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        else:
            kwargs["pool_pre_ping"] = True
            kwargs["pool_size"] = 10
            kwargs["max_overflow"] = 20
        self.engine: Engine = create_engine(self.url, **kwargs)
        if self.url.startswith("sqlite"):
            event.listen(self.engine, "connect", sqlite_pragmas)
        migrate(self.engine)  # creates the tables, or upgrades an older database
        self.has_fts = self.is_sqlite and "messages_fts" in inspect(self.engine).get_table_names()
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return self.url.startswith("sqlite")

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._sessions() as s, s.begin():
            yield s

    # conversations -------------------------------------------------------------------

    def create_conversation(self, title: str = "New chat", model: str = "",
                            settings: dict[str, Any] | None = None) -> dict[str, Any]:
        with self.session() as s:
            c = Conversation(id=secrets.token_hex(16), title=title[:200], model=model,
                             share_token=secrets.token_urlsafe(24), next_seq=1,
                             agent_messages="[]", pinned=False, branch=0,
                             settings=json.dumps(settings or {}))
            s.add(c)
            s.flush()
            return _conversation_dict(c)

    def list_conversations(self, limit: int = 200) -> list[dict[str, Any]]:
        with self.session() as s:
            rows = s.scalars(select(Conversation).where(Conversation.deleted_at.is_(None))
                             .order_by(Conversation.pinned.desc(),
                                       Conversation.updated_at.desc()).limit(limit))
            return [_conversation_dict(c) for c in rows]

    def get_conversation(self, conversation_id: str, *,
                         include_deleted: bool = False) -> dict[str, Any]:
        """The conversation; one deleted (in its undo window) is NotFound unless asked."""
        with self.session() as s:
            c = s.get(Conversation, conversation_id)
            if c is None or (c.deleted_at is not None and not include_deleted):
                raise NotFound(conversation_id)
            return _conversation_dict(c)

    def conversation_by_share_token(self, token: str) -> dict[str, Any]:
        with self.session() as s:
            c = s.scalar(select(Conversation).where(Conversation.share_token == token,
                                                    Conversation.deleted_at.is_(None)))
            if c is None:
                raise NotFound(token)
            return _conversation_dict(c)

    def update_conversation(self, conversation_id: str, *, title: str | None = None,
                            model: str | None = None, pinned: bool | None = None,
                            settings: dict[str, Any] | None = None) -> dict[str, Any]:
        """Rename, switch model, pin, or merge ``settings`` (a None value removes a key).

        Pinning alone keeps ``updated_at``: it should not reorder the list by recency.
        """
        with self.session() as s:
            c = s.get(Conversation, conversation_id)
            if c is None or c.deleted_at is not None:
                raise NotFound(conversation_id)
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
            return _conversation_dict(c)

    def delete_conversation(self, conversation_id: str) -> None:
        with self.session() as s:
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

    def save_agent_messages(self, conversation_id: str, messages: list[dict[str, Any]], *,
                            open_code: int | None = None, s: Session | None = None) -> None:
        """Save the model's messages as a snapshot of the timeline made so far.

        The snapshot records ``seq``, the timeline position it covers (every item made
        before it, in the same transaction), and ``open_code``: a code action whose
        observation the model has not seen yet. After a crash the items past ``seq`` are
        what the model still has to be shown (see ``server/resume.py``).
        """
        if s is None:
            with self.session() as s2:
                return self.save_agent_messages(conversation_id, messages,
                                                 open_code=open_code, s=s2)
        seq = s.scalar(select(Conversation.next_seq).where(Conversation.id == conversation_id))
        if seq is None:
            raise NotFound(conversation_id)
        payload = {"messages": messages, "seq": seq, "open_code": open_code}
        s.execute(update(Conversation).where(Conversation.id == conversation_id)
                  .values(agent_messages=json.dumps(payload, default=str), updated_at=now()))

    def agent_snapshot(self, conversation_id: str) -> dict[str, Any]:
        """``{"messages", "seq", "open_code"}`` (``seq`` None: saved before snapshots)."""
        with self.session() as s:
            raw = s.scalar(select(Conversation.agent_messages)
                           .where(Conversation.id == conversation_id))
            if raw is None:
                raise NotFound(conversation_id)
            data = json.loads(raw or "[]")
        if isinstance(data, list):  # the format before per-turn snapshots
            return {"messages": data, "seq": None, "open_code": None}
        return {"messages": list(data.get("messages") or []), "seq": data.get("seq"),
                "open_code": data.get("open_code")}

    def agent_messages(self, conversation_id: str) -> list[dict[str, Any]]:
        """The model's messages as last saved (without what happened since)."""
        return self.agent_snapshot(conversation_id)["messages"]

    def has_code_actions(self, conversation_id: str) -> bool:
        with self.session() as s:
            count = s.scalar(select(func.count(CodeAction.id))
                             .where(CodeAction.conversation_id == conversation_id))
            return bool(count)

    # timeline items --------------------------------------------------------------------

    def _next_seq(self, s: Session, conversation_id: str) -> tuple[int, int]:
        """The next timeline position and the branch shown (where new items go)."""
        # the UPDATE takes the row's write lock first, so concurrent writers serialize
        result = s.execute(update(Conversation).where(Conversation.id == conversation_id)
                           .values(next_seq=Conversation.next_seq + 1, updated_at=now()))
        if _rowcount(result) == 0:
            raise NotFound(conversation_id)
        row = s.execute(select(Conversation.next_seq, Conversation.branch)
                        .where(Conversation.id == conversation_id)).first()
        if row is None:  # pragma: no cover - the UPDATE above found the row
            raise NotFound(conversation_id)
        return row[0] - 1, row[1] or 0

    def add_message(self, conversation_id: str, role: str, kind: str, content: str = "",
                    *, turn: int | None = None, status: str = "done",
                    s: Session | None = None) -> dict[str, Any]:
        if s is None:
            with self.session() as s2:
                return self.add_message(conversation_id, role, kind, content, turn=turn,
                                        status=status, s=s2)
        seq, branch = self._next_seq(s, conversation_id)
        m = Message(conversation_id=conversation_id, seq=seq, branch=branch, role=role,
                    kind=kind, turn=turn, content=content, status=status, created_at=now())
        s.add(m)
        s.flush()
        return _message_dict(m)

    def set_message_kind(self, message_id: int, kind: str, *,
                         s: Session | None = None) -> None:
        """Change a message's kind (a streamed chat reply that turned out to be the answer)."""
        if s is None:
            with self.session() as s2:
                return self.set_message_kind(message_id, kind, s=s2)
        s.execute(update(Message).where(Message.id == message_id).values(kind=kind))

    def append_message_text(self, message_id: int, text: str, *,
                            s: Session | None = None) -> None:
        if s is None:
            with self.session() as s2:
                return self.append_message_text(message_id, text, s=s2)
        s.execute(update(Message).where(Message.id == message_id)
                  .values(content=Message.content + text))

    def finish_message(self, message_id: int, *, content: str | None = None,
                       s: Session | None = None) -> None:
        if s is None:
            with self.session() as s2:
                return self.finish_message(message_id, content=content, s=s2)
        values: dict[str, Any] = {"status": "done"}
        if content is not None:
            values["content"] = content
        s.execute(update(Message).where(Message.id == message_id).values(**values))

    def add_code_action(self, conversation_id: str, code: str, *, turn: int | None = None,
                        message_id: int | None = None,
                        s: Session | None = None) -> tuple[dict[str, Any], int]:
        """Store a code action with an empty running observation; returns (item, obs id)."""
        if s is None:
            with self.session() as s2:
                return self.add_code_action(conversation_id, code, turn=turn,
                                            message_id=message_id, s=s2)
        seq, branch = self._next_seq(s, conversation_id)
        a = CodeAction(conversation_id=conversation_id, seq=seq, branch=branch, turn=turn,
                       code=code, message_id=message_id, created_at=now())
        s.add(a)
        s.flush()
        o = ObservationRow(code_action_id=a.id, status="running", stdout="", stderr="",
                           text="", created_at=now())
        s.add(o)
        s.flush()
        return self._code_dict(a, o, []), o.id

    @staticmethod
    def _code_dict(a: CodeAction, o: ObservationRow | None,
                   image_ids: list[int]) -> dict[str, Any]:
        return {"type": "code", "id": a.id, "seq": a.seq, "turn": a.turn, "code": a.code,
                "message_id": a.message_id, "created_at": a.created_at,
                "branch": a.branch or 0,
                "observation": _observation_dict(o, image_ids) if o else None}

    def append_output(self, observation_id: int, stream: str, text: str, *,
                      s: Session | None = None) -> None:
        if s is None:
            with self.session() as s2:
                return self.append_output(observation_id, stream, text, s=s2)
        column = ObservationRow.stderr if stream == "stderr" else ObservationRow.stdout
        s.execute(update(ObservationRow).where(ObservationRow.id == observation_id)
                  .values({column: column + text}))

    def finish_observation(self, observation_id: int, conversation_id: str, *, text: str,
                           observation: Any | None = None,
                           s: Session | None = None) -> dict[str, Any]:
        """Record the final observation (a runtime Observation, or None for tool calls)."""
        if s is None:
            with self.session() as s2:
                return self.finish_observation(observation_id, conversation_id, text=text,
                                               observation=observation, s=s2)
        o = s.get(ObservationRow, observation_id)
        if o is None:
            raise NotFound(str(observation_id))
        o.status = "done"
        o.text = text
        image_ids: list[int] = []
        if observation is not None:
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
            for i, png in enumerate(observation.images or []):
                img = Image(observation_id=o.id, conversation_id=conversation_id,
                            position=i, png=png)
                s.add(img)
                s.flush()
                image_ids.append(img.id)
        return _observation_dict(o, image_ids)

    def close_dangling(self, conversation_id: str | None = None) -> int:
        """Mark items left 'streaming'/'running' by a crash or restart as done."""
        with self.session() as s:
            q1 = update(Message).where(Message.status == "streaming")
            if conversation_id:
                q1 = q1.where(Message.conversation_id == conversation_id)
            n = _rowcount(s.execute(q1.values(status="done")))
            q2 = update(ObservationRow).where(ObservationRow.status == "running")
            if conversation_id:
                ids = select(CodeAction.id).where(CodeAction.conversation_id == conversation_id)
                q2 = q2.where(ObservationRow.code_action_id.in_(ids))
            n += _rowcount(s.execute(q2.values(status="done")))
            return n

    def timeline(self, conversation_id: str, branch: int | None = None
                 ) -> list[dict[str, Any]]:
        """The messages and code actions (with observations) of a branch's view, in order.

        ``branch`` None: the branch shown. A branch sees its own items and, from each
        ancestor, the items before the point where its line forked (``Branch.fork_seq``).
        """
        with self.session() as s:
            c = s.get(Conversation, conversation_id)
            if c is None:
                raise NotFound(conversation_id)
            chain = self._chain(s, conversation_id, c.branch if branch is None else branch)
            items: list[dict[str, Any]] = [
                _message_dict(m) for m in s.scalars(
                    select(Message).where(Message.conversation_id == conversation_id,
                                          _visible(Message, chain)))]
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
                       _visible(CodeAction, chain)))
            for a, o in rows:
                items.append(self._code_dict(a, o, images.get(o.id, []) if o else []))
            items.sort(key=lambda item: item["seq"])
            return items

    @staticmethod
    def _chain(s: Session, conversation_id: str, branch: int) -> list[tuple[int, int | None]]:
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

    def get_image(self, conversation_id: str, image_id: int) -> bytes:
        with self.session() as s:
            png = s.scalar(select(Image.png).where(Image.id == image_id,
                                                   Image.conversation_id == conversation_id))
            if png is None:
                raise NotFound(str(image_id))
            return png

    # files -------------------------------------------------------------------------------

    def upsert_file(self, conversation_id: str, name: str, size: int,
                    source: str = "upload") -> dict[str, Any]:
        with self.session() as s:
            f = s.scalar(select(FileRow).where(FileRow.conversation_id == conversation_id,
                                               FileRow.name == name))
            if f is None:
                f = FileRow(conversation_id=conversation_id, name=name, size=size,
                            source=source, created_at=now(), updated_at=now())
                s.add(f)
            else:
                f.size = size
                f.updated_at = now()
            s.flush()
            return _file_dict(f)

    def sync_files(self, conversation_id: str, found: dict[str, int]) -> list[dict[str, Any]]:
        """Make the files table match ``found`` (name -> size) from a workspace scan.

        New names are recorded as written by the agent; names no longer on disk go.
        """
        with self.session() as s:
            rows = {f.name: f for f in s.scalars(
                select(FileRow).where(FileRow.conversation_id == conversation_id))}
            for name, f in rows.items():
                if name not in found:
                    s.delete(f)
                elif f.size != found[name]:
                    f.size = found[name]
                    f.updated_at = now()
            for name, size in found.items():
                if name not in rows:
                    s.add(FileRow(conversation_id=conversation_id, name=name, size=size,
                                  source="agent", created_at=now(), updated_at=now()))
            s.flush()
            return [_file_dict(f) for f in sorted(
                s.scalars(select(FileRow).where(FileRow.conversation_id == conversation_id)),
                key=lambda f: f.name)]

    def list_files(self, conversation_id: str) -> list[dict[str, Any]]:
        with self.session() as s:
            rows = s.scalars(select(FileRow).where(FileRow.conversation_id == conversation_id)
                             .order_by(FileRow.name))
            return [_file_dict(f) for f in rows]

    # added for the OpenAI-compatible endpoint ----------------------------------------

    def ensure_conversation(self, conversation_id: str, title: str = "New chat",
                            model: str = "") -> tuple[dict[str, Any], bool]:
        """The conversation with this id, created if missing; ``(row, created)``.

        For ids chosen by the caller (an OpenAI client's conversation key, hashed): two
        requests racing to create it both get the one row.
        """
        from sqlalchemy.exc import IntegrityError

        try:
            return self.get_conversation(conversation_id), False
        except NotFound:
            pass
        try:
            with self.session() as s:
                c = Conversation(id=conversation_id, title=title[:200], model=model,
                                 share_token=secrets.token_urlsafe(24), next_seq=1,
                                 agent_messages="[]")
                s.add(c)
                s.flush()
                return _conversation_dict(c), True
        except IntegrityError:  # created by a concurrent request
            return self.get_conversation(conversation_id), False
