"""Tests for codeact.server.store on SQLite and on a throwaway PostgreSQL cluster.

The ``postgres_url`` fixture starts a real PostgreSQL (Debian's ``postgresql`` package:
initdb + pg_ctl from /usr/lib/postgresql/*/bin) on a free 127.0.0.1 port in a temporary
directory, as the ``postgres`` (or ``nobody``) user when the tests run as root, and skips
with a clear reason only when the binaries are missing.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from codeact.runtime.observation import ExecutionError, Observation
from codeact.server.store import NotFound, Store, normalize_db_url


def _pg_bindir() -> Path | None:
    for candidate in [os.environ.get("PG_BINDIR", ""),
                      *sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)]:
        if candidate and (Path(candidate) / "initdb").exists():
            return Path(candidate)
    found = shutil.which("initdb")
    return Path(found).resolve().parent if found else None


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def postgres_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A running throwaway PostgreSQL; yields a URL to a fresh database per session."""
    bindir = _pg_bindir()
    if bindir is None:
        pytest.skip("PostgreSQL binaries not found: `apt-get install -y postgresql` "
                    "(initdb/pg_ctl under /usr/lib/postgresql/*/bin) to run this test")
    # not under pytest's tmp dir: that is private to the (root) user running the tests
    base = Path(tempfile.mkdtemp(prefix="codeact-pg-"))
    data, sock = base / "data", base / "sock"
    sock.mkdir()
    preexec = None
    if os.geteuid() == 0:  # initdb refuses root: run the cluster as an unprivileged user
        try:
            user = pwd.getpwnam("postgres")
        except KeyError:
            user = pwd.getpwnam("nobody")
        os.chmod(base, 0o755)
        for p in (base, sock):
            os.chown(p, user.pw_uid, user.pw_gid)

        def preexec() -> None:
            os.setgid(user.pw_gid)
            os.setuid(user.pw_uid)
    port = _free_port()
    env = {**os.environ, "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"}

    def run(*argv: str) -> None:
        done = subprocess.run(argv, capture_output=True, text=True, preexec_fn=preexec,
                              env=env, cwd=base, timeout=120)
        if done.returncode != 0:
            log = (base / "log").read_text() if (base / "log").exists() else ""
            raise RuntimeError(f"{argv[0]} failed: {done.stderr}{done.stdout}{log}")

    run(str(bindir / "initdb"), "-D", str(data), "-U", "codeact", "--auth=trust",
        "-E", "UTF8", "--no-sync")
    run(str(bindir / "pg_ctl"), "-D", str(data), "-l", str(base / "log"), "-w", "-t", "60",
        "-o", f"-p {port} -k {sock} -c listen_addresses=127.0.0.1 -c fsync=off", "start")
    try:
        import psycopg

        with psycopg.connect(f"host=127.0.0.1 port={port} user=codeact dbname=postgres",
                             autocommit=True) as conn:
            conn.execute("CREATE DATABASE codeact_test")
        yield f"postgresql://codeact@127.0.0.1:{port}/codeact_test"
    finally:
        subprocess.run([str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w",
                        "stop"], capture_output=True, preexec_fn=preexec, env=env, cwd=base,
                       timeout=60)
        shutil.rmtree(base, ignore_errors=True)


def _fresh_pg_db(url: str, name: str) -> str:
    import psycopg

    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return url.rsplit("/", 1)[0] + "/" + name


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        s = Store(tmp_path / "x.db")
    else:
        url = request.getfixturevalue("postgres_url")
        s = Store(_fresh_pg_db(url, f"t_{os.getpid()}_{abs(hash(tmp_path)) % 10**8}"))
    yield s
    s.close()


def test_normalize_db_url(tmp_path: Path) -> None:
    assert normalize_db_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalize_db_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalize_db_url(tmp_path / "a.db") == f"sqlite:///{tmp_path / 'a.db'}"
    assert normalize_db_url("sqlite:///x.db") == "sqlite:///x.db"
    assert normalize_db_url(None).endswith("codeact/server.db")


def test_conversation_crud_and_share_token(store: Store) -> None:
    a = store.create_conversation("First", "m1")
    b = store.create_conversation(model="m2")
    assert len(a["id"]) == 32 and a["share_token"] != b["share_token"]
    assert len(a["share_token"]) >= 32
    assert store.conversation_by_share_token(a["share_token"])["id"] == a["id"]
    store.update_conversation(a["id"], title="Renamed", model="m3")
    got = store.get_conversation(a["id"])
    assert (got["title"], got["model"]) == ("Renamed", "m3")
    assert [c["id"] for c in store.list_conversations()] == [a["id"], b["id"]]
    store.delete_conversation(b["id"])
    with pytest.raises(NotFound):
        store.get_conversation(b["id"])
    with pytest.raises(NotFound):
        store.conversation_by_share_token("nope")


def test_timeline_orders_messages_code_and_observations(store: Store) -> None:
    cid = store.create_conversation()["id"]
    store.add_message(cid, "user", "text", "plot it")
    msg = store.add_message(cid, "assistant", "text", "Sure", turn=1, status="streaming")
    store.append_message_text(msg["id"], " thing ✓ 😀")
    store.finish_message(msg["id"])
    item, obs_id = store.add_code_action(cid, "print(1)", turn=1, message_id=msg["id"])
    store.append_output(obs_id, "stdout", "1\n")
    store.append_output(obs_id, "stderr", "warn\n")
    obs = Observation(stdout="1\n", stderr="warn\n", images=[b"\x89PNG fake"],
                      error=ExecutionError("ValueError", "bad", "Traceback..."), duration=0.5)
    done = store.finish_observation(obs_id, cid, text="1\nValueError: bad", observation=obs)
    assert done["status"] == "done" and len(done["images"]) == 1
    store.add_message(cid, "assistant", "answer", "**1**", turn=2)
    items = store.timeline(cid)
    assert [i["seq"] for i in items] == [1, 2, 3, 4]
    assert items[1]["content"] == "Sure thing ✓ 😀" and items[1]["status"] == "done"
    code = items[2]
    assert code["code"] == "print(1)" and code["message_id"] == msg["id"]
    o = code["observation"]
    assert (o["stdout"], o["stderr"], o["error"]["name"]) == ("1\n", "warn\n", "ValueError")
    assert store.get_image(cid, o["images"][0]) == b"\x89PNG fake"
    other = store.create_conversation()["id"]
    with pytest.raises(NotFound):  # images are per conversation
        store.get_image(other, o["images"][0])
    assert store.has_code_actions(cid) and not store.has_code_actions(other)
    store.delete_conversation(cid)
    with pytest.raises(NotFound):
        store.timeline(cid)


def test_close_dangling_marks_interrupted_items_done(store: Store) -> None:
    cid = store.create_conversation()["id"]
    msg = store.add_message(cid, "assistant", "text", "half", status="streaming")
    _, obs_id = store.add_code_action(cid, "while True: pass", message_id=msg["id"])
    assert store.close_dangling() == 2
    items = store.timeline(cid)
    assert items[0]["status"] == "done" and items[1]["observation"]["status"] == "done"


def test_agent_messages_and_files(store: Store) -> None:
    cid = store.create_conversation()["id"]
    assert store.agent_messages(cid) == []
    history = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]
    store.save_agent_messages(cid, history)
    assert store.agent_messages(cid) == history
    store.upsert_file(cid, "a.csv", 10)
    store.upsert_file(cid, "a.csv", 12)
    files = store.sync_files(cid, {"a.csv": 12, "out/b.txt": 3})
    assert [(f["name"], f["size"], f["source"]) for f in files] == [
        ("a.csv", 12, "upload"), ("out/b.txt", 3, "agent")]
    assert [f["name"] for f in store.sync_files(cid, {"out/b.txt": 3})] == ["out/b.txt"]


def test_concurrent_writers_get_distinct_seqs(store: Store) -> None:
    import threading

    cid = store.create_conversation()["id"]

    def write() -> None:
        for _ in range(10):
            store.add_message(cid, "user", "text", "x")

    threads = [threading.Thread(target=write) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seqs = [i["seq"] for i in store.timeline(cid)]
    assert sorted(seqs) == list(range(1, 41))


def test_data_survives_reopening(tmp_path: Path) -> None:
    s = Store(tmp_path / "r.db")
    cid = s.create_conversation("keep")["id"]
    s.add_message(cid, "user", "text", "remember me")
    s.close()
    s2 = Store(f"sqlite:///{tmp_path / 'r.db'}")
    assert s2.timeline(cid)[0]["content"] == "remember me"
    s2.close()


def test_set_message_kind(store: Store) -> None:
    cid = store.create_conversation()["id"]
    msg = store.add_message(cid, "assistant", "text", "42", status="streaming")
    with store.session() as s:  # inside a caller's transaction, as the recorder does
        store.set_message_kind(msg["id"], "answer", s=s)
    store.finish_message(msg["id"])
    [item] = store.timeline(cid)
    assert (item["kind"], item["status"]) == ("answer", "done")


def test_delete_removes_every_row_of_the_conversation(store: Store) -> None:
    from sqlalchemy import func, select

    from codeact.server.store import CodeAction, FileRow, Image, Message, ObservationRow

    keep, gone = store.create_conversation()["id"], store.create_conversation()["id"]
    for cid in (keep, gone):
        store.add_message(cid, "user", "text", "hi")
        _, obs_id = store.add_code_action(cid, "plot()")
        store.finish_observation(obs_id, cid, text="",
                                 observation=Observation(images=[b"\x89PNG a", b"\x89PNG b"]))
        store.upsert_file(cid, "a.txt", 1)
    store.delete_conversation(gone)
    with store.session() as s:
        counts = {t.__tablename__: s.scalar(select(func.count()).select_from(t))
                  for t in (Message, CodeAction, ObservationRow, Image, FileRow)}
    assert counts == {"messages": 1, "code_actions": 1, "observations": 1, "images": 2,
                      "files": 1}
    assert len(store.timeline(keep)) == 2
