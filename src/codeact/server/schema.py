"""The chat app's tables (SQLAlchemy ORM) and how a database URL is chosen.

Only the schema and the engine set-up live here; every query is a method of
:class:`codeact.server.store.Store`. SQLite by default (a file under the user data
directory) or PostgreSQL by URL (``postgresql://...``, driven by psycopg 3). Every item of
a conversation carries a ``seq`` (its place in the conversation's timeline) so the UI can
replay it in order.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import platformdirs
from sqlalchemy import Boolean, Float, ForeignKey, Integer, LargeBinary, String, Text, false
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = ["DEFAULT_DB_NAME", "AppSetting", "Base", "Branch", "CodeAction", "Conversation",
           "FileRow", "Image", "Message", "ObservationRow", "SchemaVersion", "default_data_dir",
           "default_db_url", "normalize_db_url", "now", "sqlite_pragmas"]

DEFAULT_DB_NAME = "server.db"


def default_data_dir() -> Path:
    """Where the SQLite file and the conversation workspaces live by default."""
    return Path(platformdirs.user_data_dir("codeact"))


def default_db_url() -> str:
    """The default SQLite file, under :func:`default_data_dir`."""
    return f"sqlite:///{default_data_dir() / DEFAULT_DB_NAME}"


def normalize_db_url(db: str | Path | None) -> str:
    """Accept a URL, a plain file path, or None (the default SQLite file).

    ``postgresql://`` and ``postgres://`` URLs are routed to psycopg 3.
    """
    if db is None or str(db) == "":
        return default_db_url()
    text = str(db)
    if text.startswith("postgres://"):
        text = "postgresql://" + text[len("postgres://"):]
    if text.startswith("postgresql://"):
        return "postgresql+psycopg://" + text[len("postgresql://"):]
    if "://" not in text:
        return f"sqlite:///{Path(text).expanduser().resolve()}"
    return text


def now() -> float:
    """Timestamps are Unix seconds (floats), the same on SQLite and PostgreSQL."""
    return time.time()


class Base(DeclarativeBase):
    """The declarative base of the chat app's tables."""


class Conversation(Base):
    __tablename__ = "conversations"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    title: Mapped[str] = mapped_column(String(200), default="New chat")
    model: Mapped[str] = mapped_column(String(200), default="")
    share_token: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    created_at: Mapped[float] = mapped_column(Float, default=now)
    updated_at: Mapped[float] = mapped_column(Float, default=now, index=True)
    next_seq: Mapped[int] = mapped_column(Integer, default=1)
    # the agent's OpenAI-style history, restored with Agent.load_messages after a restart
    agent_messages: Mapped[str] = mapped_column(Text, default="[]")
    # schema version 2 (added by ``migrations.py`` to older databases: each has a server
    # default so ALTER TABLE ... ADD COLUMN fills the existing rows)
    pinned: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    deleted_at: Mapped[float | None] = mapped_column(Float, nullable=True)  # undo window
    settings: Mapped[str] = mapped_column(Text, default="{}", server_default="{}")
    branch: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # shown


class Message(Base):
    """A user message, the model's text for one turn, a final answer, an error or a notice."""

    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    role: Mapped[str] = mapped_column(String(16))  # user | assistant | system
    kind: Mapped[str] = mapped_column(String(16))  # text | answer | error | notice
    turn: Mapped[int | None] = mapped_column(Integer, nullable=True)
    content: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="done")  # streaming | done
    created_at: Mapped[float] = mapped_column(Float, default=now)
    branch: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class CodeAction(Base):
    __tablename__ = "code_actions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    message_id: Mapped[int | None] = mapped_column(
        ForeignKey("messages.id", ondelete="SET NULL"), nullable=True)
    seq: Mapped[int] = mapped_column(Integer)
    turn: Mapped[int | None] = mapped_column(Integer, nullable=True)
    code: Mapped[str] = mapped_column(Text)
    created_at: Mapped[float] = mapped_column(Float, default=now)
    branch: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class ObservationRow(Base):
    __tablename__ = "observations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    code_action_id: Mapped[int] = mapped_column(
        ForeignKey("code_actions.id", ondelete="CASCADE"), unique=True, index=True)
    status: Mapped[str] = mapped_column(String(16), default="running")  # running | done
    stdout: Mapped[str] = mapped_column(Text, default="")
    stderr: Mapped[str] = mapped_column(Text, default="")
    result: Mapped[str | None] = mapped_column(Text, nullable=True)
    error_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    error_message: Mapped[str | None] = mapped_column(Text, nullable=True)
    traceback: Mapped[str | None] = mapped_column(Text, nullable=True)
    text: Mapped[str] = mapped_column(Text, default="")  # what the model was shown
    duration: Mapped[float] = mapped_column(Float, default=0.0)
    truncated: Mapped[bool] = mapped_column(Boolean, default=False)
    timed_out: Mapped[bool] = mapped_column(Boolean, default=False)
    restarted: Mapped[bool] = mapped_column(Boolean, default=False)
    restart_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[float] = mapped_column(Float, default=now)


class Image(Base):
    __tablename__ = "images"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    observation_id: Mapped[int] = mapped_column(
        ForeignKey("observations.id", ondelete="CASCADE"), index=True)
    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    png: Mapped[bytes] = mapped_column(LargeBinary)


class FileRow(Base):
    """A file in a conversation's workspace (its bytes live on disk in the workspace)."""

    __tablename__ = "files"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(500))
    size: Mapped[int] = mapped_column(Integer, default=0)
    source: Mapped[str] = mapped_column(String(16), default="upload")  # upload | agent
    created_at: Mapped[float] = mapped_column(Float, default=now)
    updated_at: Mapped[float] = mapped_column(Float, default=now)


class Branch(Base):
    """A line of a conversation: branch 0 is the original; editing a user message or
    regenerating an answer starts a new one that keeps the items before ``fork_seq``
    (of its parent's view) and leaves the parent's later items in place to switch back to.
    """

    __tablename__ = "branches"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    parent: Mapped[int | None] = mapped_column(Integer, nullable=True)
    anchor_seq: Mapped[int | None] = mapped_column(Integer, nullable=True)  # the user msg
    fork_seq: Mapped[int | None] = mapped_column(Integer, nullable=True)
    kind: Mapped[str] = mapped_column(String(16), default="root")  # root|edit|regenerate
    # the model's messages of this branch while another one is shown
    agent_messages: Mapped[str] = mapped_column(Text, default="[]")
    created_at: Mapped[float] = mapped_column(Float, default=now)


class AppSetting(Base):
    """Server-wide settings as JSON values (``defaults``: a new conversation's settings)."""

    __tablename__ = "app_settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text, default="{}")


class SchemaVersion(Base):
    """One row: the schema version this database has been migrated to."""

    __tablename__ = "schema_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(Integer)


def sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """Set on every new SQLite connection: WAL, foreign keys, a generous busy timeout."""
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()
