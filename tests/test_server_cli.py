"""Tests for codeact.server.cli (and ``serve``): the command, and persistence across a real
server restart (a new process) on SQLite and on PostgreSQL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import nbformat
import pytest
from test_server_app import Client, free_port
from test_server_store import _fresh_pg_db, postgres_url  # noqa: F401  (fixture)
from typer.testing import CliRunner

from codeact.server.cli import app

TESTS = Path(__file__).parent


def test_help_lists_the_options() -> None:
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    for option in ("--host", "--port", "--db", "--token", "--model", "--max-sessions"):
        assert option in result.output


def test_a_short_token_beyond_localhost_stops_before_anything_starts() -> None:
    result = CliRunner().invoke(app, ["--host", "0.0.0.0", "--token", "short"])
    assert result.exit_code == 2
    assert "at least 16 characters" in " ".join(result.output.replace("│", " ").split())


class ServerProcess:
    """``python -m codeact.server.cli`` in a subprocess, with the scripted model."""

    def __init__(self, db: str, data_dir: Path, *extra: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            [str(TESTS), os.environ.get("PYTHONPATH", "")])}
        self.log = open(data_dir.parent / f"server-{self.port}.log", "w")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "codeact.server.cli", "--port", str(self.port),
             "--db", db, "--data-dir", str(data_dir), "--model", "scripted",
             "--llm-factory", "test_server_app:scripted_factory", "--pool-size", "0",
             "--log-level", "warning", *extra],
            env=env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 120  # a loaded machine starts it slowly
        while True:
            try:
                if httpx.get(f"{self.url}/api/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.proc.kill()  # not left running after the test
                self.proc.wait(30)
                self.log.close()
                raise RuntimeError("server did not start: " + Path(self.log.name).read_text())
            time.sleep(0.2)

    def stop(self, sig: int = signal.SIGTERM) -> None:
        self.proc.send_signal(sig)
        self.proc.wait(60)
        self.log.close()


@pytest.fixture()
def servers() -> Iterator[list[ServerProcess]]:
    started: list[ServerProcess] = []
    yield started
    for s in started:
        if s.proc.poll() is None:
            s.stop(signal.SIGKILL)


def check_restart(db: str, tmp_path: Path, servers: list[ServerProcess],
                  sig: int) -> None:
    data = tmp_path / "data"
    first = ServerProcess(db, data)
    servers.append(first)
    c = Client(first.url)
    conv = c.new()
    cid = conv["id"]
    r = c.http.post(f"/api/conversations/{cid}/files",
                    files={"file": ("in.txt", b"uploaded", "text/plain")})
    assert r.status_code == 201
    c.chat(cid, "plot it")
    c.chat(cid, "run: n = 7\nopen('made.txt', 'w').write('by agent')")
    before = c.get(cid)
    c.close()
    first.stop(sig)  # SIGKILL: a crash, no shutdown code runs

    second = ServerProcess(db, data)
    servers.append(second)
    c = Client(second.url)
    listed = [x["id"] for x in c.http.get("/api/conversations").json()["conversations"]]
    assert cid in listed
    after = c.get(cid)
    assert after["items"] == before["items"]
    image = next(i for i in after["items"] if i["type"] == "code")["observation"]["images"][0]
    assert c.http.get(f"/api/conversations/{cid}/images/{image}").content[:4] == b"\x89PNG"
    assert c.http.get(f"/api/conversations/{cid}/files/in.txt").content == b"uploaded"
    assert c.http.get(f"/api/conversations/{cid}/files/made.txt").content == b"by agent"
    assert c.http.get(f"/api/share/{conv['share_token']}").status_code == 200
    # the conversation goes on in a new kernel: variables lost (and said so), files kept
    c.chat(cid, "run: print(open('made.txt').read(), 'n' in globals())")
    items = c.get(cid)["items"]
    new = items[len(before["items"]):]
    assert new[0]["kind"] == "notice" and "variables were lost" in new[0]["content"]
    assert items[-1]["content"] == "Result: **by agent False**"
    c.close()
    second.stop()


def test_restart_loses_nothing_sqlite(tmp_path: Path, servers: list[ServerProcess]) -> None:
    check_restart(f"sqlite:///{tmp_path / 'chat.db'}", tmp_path, servers, signal.SIGKILL)


def test_restart_loses_nothing_postgresql(tmp_path: Path, servers: list[ServerProcess],
                                          postgres_url: str) -> None:  # noqa: F811
    db = _fresh_pg_db(postgres_url, f"restart_{os.getpid()}")
    check_restart(db, tmp_path, servers, signal.SIGKILL)


def test_token_is_generated_and_printed_beyond_localhost(tmp_path: Path,
                                                         servers: list[ServerProcess]) -> None:
    # binding beyond loopback requires a token: one is generated and printed once; the
    # test only ever talks to 127.0.0.1
    data = tmp_path / "data"
    data.mkdir()
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(TESTS)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "codeact.server.cli", "--host", "0.0.0.0", "--port", str(port),
         "--db", f"sqlite:///{tmp_path / 'x.db'}", "--data-dir", str(data), "--model",
         "scripted", "--llm-factory", "test_server_app:scripted_factory", "--pool-size", "0"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        token = None
        assert proc.stdout is not None
        for line in proc.stdout:
            if "access token (shown once):" in line:
                token = line.rsplit(":", 1)[1].strip()
            if "Uvicorn running" in line or "Application startup complete" in line:
                break
        assert token and len(token) >= 24
        url = f"http://127.0.0.1:{port}"
        assert httpx.get(f"{url}/api/conversations").status_code == 401
        ok = httpx.get(f"{url}/api/conversations", headers={"Authorization": f"Bearer {token}"})
        assert ok.status_code == 200
        login = httpx.get(f"{url}/?token={token}", follow_redirects=False)
        assert login.status_code in (302, 303)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)
    # the access log shows the login request, not the token ("shown once" stays true)
    access_log = proc.stdout.read()
    assert "GET /?token=[redacted]" in access_log and token not in access_log


def test_help_lists_the_kernel_and_mcp_options() -> None:
    result = CliRunner().invoke(app, ["--help"])
    for option in ("--mcp", "--kernel-env", "--packages"):
        assert option in result.output


def test_serve_mcp_tools_are_callable_from_a_conversations_kernel(
        tmp_path: Path, servers: list[ServerProcess]) -> None:
    from mcp_helpers import STDIO_SPEC

    server = ServerProcess(f"sqlite:///{tmp_path / 'chat.db'}", tmp_path / "data",
                           "--mcp", STDIO_SPEC, "--packages", "deny")
    servers.append(server)
    c = Client(server.url)
    cid = c.new()["id"]
    c.chat(cid, "run: print(add(2, 3))")
    assert c.get(cid)["items"][-1]["content"] == "Result: **5**"
    other = c.new()["id"]  # loaded once, given to every conversation
    c.chat(other, "run: print(whoami())")
    pid = int(c.get(other)["items"][-1]["content"].strip("Result: *"))
    nb = nbformat.reads(c.http.get(f"/api/conversations/{cid}/notebook").text, as_version=4)
    note = next(cell.source for cell in nb.cells if "Host tools" in cell.source)
    assert "`add(a: int, b: int)" in note
    c.close()
    os.kill(pid, 0)  # the stdio MCP server runs while the app does
    server.stop()
    deadline = time.monotonic() + 20
    while True:  # and is stopped at shutdown
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        assert time.monotonic() < deadline, "the MCP server outlived codeact serve"
        time.sleep(0.1)


def test_serve_rejects_a_bad_packages_setting_or_mcp_server(tmp_path: Path) -> None:
    base = ["--db", f"sqlite:///{tmp_path / 'x.db'}", "--data-dir", str(tmp_path / "d"),
            "--llm-factory", "test_server_app:scripted_factory"]
    bad = CliRunner().invoke(app, [*base, "--packages", "maybe"])
    assert bad.exit_code == 2 and "packages must be allow, deny or ask" in bad.output
    bad = CliRunner().invoke(app, [*base, "--mcp", f"{sys.executable} -c 'raise SystemExit(3)'"])
    assert bad.exit_code == 2 and "Traceback" not in bad.output


def test_serve_refuses_an_unsandboxed_gateway_kernelspec_before_it_serves(
        tmp_path: Path, gateway) -> None:
    base = ["--db", f"sqlite:///{tmp_path / 'x.db'}", "--data-dir", str(tmp_path / "d"),
            "--llm-factory", "test_server_app:scripted_factory", "--runtime", gateway.url,
            "--runtime-token", gateway.token]
    bad = CliRunner().invoke(app, [*base, "--runtime-kernel", "python3"])
    out = " ".join(bad.output.replace("│", " ").split())  # the error box's lines, joined
    assert bad.exit_code == 2 and "Traceback" not in bad.output, bad.output
    assert "kernelspec 'python3'" in out and "is not sandboxed" in out
