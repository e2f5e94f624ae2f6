"""Store fixtures for the server tests: SQLite files in tmp_path and a throwaway PostgreSQL.

``postgres_url`` starts a real PostgreSQL (Debian's ``postgresql`` package: initdb +
pg_ctl from /usr/lib/postgresql/*/bin) on a free 127.0.0.1 port in a temporary
directory, as the ``postgres`` (or ``nobody``) user when the tests run as root, and skips
with a clear reason only when the binaries are missing; ``open_store`` opens a
:class:`Store` on each backend in turn. Not collected by pytest (no ``test_`` prefix): a
test module imports ``postgres_url`` and defines its ``store`` fixture with them.
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

from codeact.server.store import Store

_CLUSTER: list[str] = []  # the URL of the running cluster, once started


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
def postgres_url() -> Iterator[str]:
    """A running throwaway PostgreSQL; yields a URL to a fresh database per session.

    One cluster per test process: each module that imports this fixture has its own
    session-scoped copy, and the first one starts the cluster the others reuse.
    """
    if _CLUSTER:
        yield _CLUSTER[0]
        return
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
        _CLUSTER.append(f"postgresql://codeact@127.0.0.1:{port}/codeact_test")
        yield _CLUSTER[0]
    finally:
        _CLUSTER.clear()
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


BACKENDS = ["sqlite", "postgresql"]


def open_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A fresh store on the backend of ``request.param`` (one of ``BACKENDS``): a SQLite
    file in tmp_path, or a new database on the ``postgres_url`` cluster. For a module's
    ``store`` fixture: ``yield from open_store(request, tmp_path)``."""
    if request.param == "sqlite":
        s = Store(tmp_path / "x.db")
    else:
        url = request.getfixturevalue("postgres_url")
        s = Store(_fresh_pg_db(url, f"t_{os.getpid()}_{abs(hash(tmp_path)) % 10**8}"))
    yield s
    s.close()
