"""Tests for codeact.server.migrations: a database made by the schema before versions
(version 1, written out below as it was) upgrades in place on SQLite and PostgreSQL
without losing a row, and the upgraded database works like a new one."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import (
    Boolean,
    Column,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    inspect,
    text,
)
from test_server_store import _fresh_pg_db, postgres_url  # noqa: F401 (a fixture)

from codeact.server import migrations
from codeact.server.schema import normalize_db_url
from codeact.server.store import Store


def v1_metadata() -> MetaData:
    """The tables exactly as version 1 created them (before ``schema_version``)."""
    md = MetaData()
    Table("conversations", md, Column("id", String(32), primary_key=True),
          Column("title", String(200)), Column("model", String(200)),
          Column("share_token", String(64), unique=True, index=True),
          Column("created_at", Float), Column("updated_at", Float, index=True),
          Column("next_seq", Integer), Column("agent_messages", Text))
    Table("messages", md, Column("id", Integer, primary_key=True, autoincrement=True),
          Column("conversation_id", ForeignKey("conversations.id", ondelete="CASCADE"),
                 index=True),
          Column("seq", Integer), Column("role", String(16)), Column("kind", String(16)),
          Column("turn", Integer, nullable=True), Column("content", Text),
          Column("status", String(16)), Column("created_at", Float))
    Table("code_actions", md, Column("id", Integer, primary_key=True, autoincrement=True),
          Column("conversation_id", ForeignKey("conversations.id", ondelete="CASCADE"),
                 index=True),
          Column("message_id", ForeignKey("messages.id", ondelete="SET NULL"),
                 nullable=True),
          Column("seq", Integer), Column("turn", Integer, nullable=True),
          Column("code", Text), Column("created_at", Float))
    Table("observations", md, Column("id", Integer, primary_key=True, autoincrement=True),
          Column("code_action_id", ForeignKey("code_actions.id", ondelete="CASCADE"),
                 unique=True, index=True),
          Column("status", String(16)), Column("stdout", Text), Column("stderr", Text),
          Column("result", Text, nullable=True), Column("error_name", String(200)),
          Column("error_message", Text), Column("traceback", Text), Column("text", Text),
          Column("duration", Float), Column("truncated", Boolean),
          Column("timed_out", Boolean), Column("restarted", Boolean),
          Column("restart_reason", Text), Column("created_at", Float))
    Table("images", md, Column("id", Integer, primary_key=True, autoincrement=True),
          Column("observation_id", ForeignKey("observations.id", ondelete="CASCADE")),
          Column("conversation_id", ForeignKey("conversations.id", ondelete="CASCADE")),
          Column("position", Integer), Column("png", LargeBinary))
    Table("files", md, Column("id", Integer, primary_key=True, autoincrement=True),
          Column("conversation_id", ForeignKey("conversations.id", ondelete="CASCADE")),
          Column("name", String(500)), Column("size", Integer), Column("source", String(16)),
          Column("created_at", Float), Column("updated_at", Float))
    return md


CID = "a" * 32


def fill_v1(url: str) -> dict[str, int]:
    """Create the version-1 tables and one conversation with a row in each table."""
    engine = create_engine(normalize_db_url(url))
    md = v1_metadata()
    md.create_all(engine)
    t = md.tables
    with engine.begin() as conn:
        conn.execute(t["conversations"].insert().values(
            id=CID, title="old chat", model="m", share_token="s" * 32, created_at=1.0,
            updated_at=2.0, next_seq=4,
            agent_messages='{"messages": [{"role": "user", "content": "hi"}], "seq": 4, '
                           '"open_code": null}'))
        conn.execute(t["messages"].insert().values(
            conversation_id=CID, seq=1, role="user", kind="text",
            content="compute the zebra numbers", status="done", created_at=1.0))
        conn.execute(t["code_actions"].insert().values(
            conversation_id=CID, message_id=1, seq=2, turn=1, code="print(1)",
            created_at=1.0))
        conn.execute(t["observations"].insert().values(
            code_action_id=1, status="done", stdout="1\n", stderr="", text="1",
            duration=0.1, truncated=False, timed_out=False, restarted=False,
            created_at=1.0))
        conn.execute(t["images"].insert().values(observation_id=1, conversation_id=CID,
                                                 position=0, png=b"\x89PNG x"))
        conn.execute(t["messages"].insert().values(
            conversation_id=CID, seq=3, role="assistant", kind="answer", turn=1,
            content="the answer is 1", status="done", created_at=1.0))
        conn.execute(t["files"].insert().values(conversation_id=CID, name="a.csv", size=3,
                                                source="upload", created_at=1.0,
                                                updated_at=1.0))
    counts = {}
    with engine.connect() as conn:
        for name in t:
            counts[name] = conn.execute(text(f"SELECT count(*) FROM {name}")).scalar()
    engine.dispose()
    return counts


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
    else:
        base = request.getfixturevalue("postgres_url")
        yield _fresh_pg_db(base, f"m_{os.getpid()}_{abs(hash(tmp_path)) % 10**8}")


def test_a_version_1_database_upgrades_without_loss(url: str) -> None:
    before = fill_v1(url)
    store = Store(url)
    try:
        with store.engine.connect() as conn:
            assert migrations.current_version(conn) == migrations.LATEST
            for name, n in before.items():  # every old row is still there
                assert conn.execute(text(f"SELECT count(*) FROM {name}")).scalar() == n
            columns = {c["name"] for c in inspect(conn).get_columns("conversations")}
            assert {"pinned", "deleted_at", "settings", "branch"} <= columns
        conv = store.get_conversation(CID)
        assert (conv["title"], conv["pinned"], conv["settings"], conv["branch"]) == (
            "old chat", False, {}, 0)
        items = store.timeline(CID)
        assert [i["seq"] for i in items] == [1, 2, 3]
        assert items[1]["observation"]["stdout"] == "1\n" and items[1]["branch"] == 0
        assert store.get_image(CID, 1) == b"\x89PNG x"
        assert store.agent_messages(CID) == [{"role": "user", "content": "hi"}]
        assert [f["name"] for f in store.list_files(CID)] == ["a.csv"]
        # the old rows are searchable, and new rows work with the new columns
        assert [c["id"] for c in store.search("zebra")] == [CID]
        store.update_conversation(CID, pinned=True, settings={"temperature": 0.5})
        m = store.add_message(CID, "user", "text", "a new giraffe message")
        assert m["seq"] == 4 and [c["id"] for c in store.search("giraffe")] == [CID]
    finally:
        store.close()
    again = Store(url)  # opening an upgraded database again changes nothing
    try:
        assert again.get_conversation(CID)["pinned"] is True
        with again.engine.connect() as conn:
            assert migrations.current_version(conn) == migrations.LATEST
    finally:
        again.close()


def test_a_new_database_starts_at_the_latest_version(url: str) -> None:
    engine = create_engine(normalize_db_url(url))
    try:
        assert migrations.migrate(engine) == (0, migrations.LATEST)
        assert migrations.migrate(engine) == (migrations.LATEST, migrations.LATEST)
    finally:
        engine.dispose()


def test_a_failed_step_leaves_the_version_alone(url: str,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    fill_v1(url)

    def broken(conn: object) -> None:
        raise RuntimeError("step failed")

    monkeypatch.setitem(migrations.STEPS, migrations.LATEST, broken)
    engine = create_engine(normalize_db_url(url))
    try:
        with pytest.raises(RuntimeError):
            migrations.migrate(engine)
        with engine.connect() as conn:
            assert migrations.current_version(conn) == 1
    finally:
        engine.dispose()
    monkeypatch.undo()
    store = Store(url)  # and the real step still upgrades it afterwards
    try:
        assert store.get_conversation(CID)["title"] == "old chat"
    finally:
        store.close()
