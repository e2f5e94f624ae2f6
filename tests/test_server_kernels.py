"""Tests for codeact.server.kernels: real sandboxed kernels handed out per conversation,
on this machine and on real Jupyter Kernel Gateways (the ``runtime`` parameter; and a
gateway killed with SIGKILL mid-run under a live server)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from gateway_helpers import runtime_config, start_gateway

from codeact.server.errors import Busy
from codeact.server.kernels import KernelProvider


async def test_files_go_in_come_back_and_the_cap_is_busy(tmp_path: Path, runtime: str,
                                                          request: pytest.FixtureRequest
                                                          ) -> None:
    kernels = KernelProvider(max_sessions=1, pool_size=0,
                             sandbox=runtime_config(runtime, request))
    await kernels.start()
    persistent = tmp_path / "ws"
    (persistent / "data").mkdir(parents=True)
    (persistent / "data" / "in.txt").write_text("hello")
    try:
        session = await kernels.acquire("a" * 32, persistent)
        assert kernels.live_count == 1
        obs = await asyncio.to_thread(
            session.execute, "print(open('data/in.txt').read())\n"
                             "open('out.txt', 'w').write('made in the sandbox')")
        assert obs.ok and obs.stdout.strip() == "hello"
        with pytest.raises(Busy):  # one kernel at most
            await kernels.acquire("b" * 32, tmp_path / "other")
        await asyncio.to_thread(kernels.sync, session, persistent)
        assert (persistent / "out.txt").read_text() == "made in the sandbox"
        await asyncio.to_thread(session.execute, "import os; os.remove('out.txt')")
        await kernels.release("a" * 32, session, persistent)  # mirrors once more
        assert not (persistent / "out.txt").exists()
        assert (persistent / "data" / "in.txt").read_text() == "hello"
        assert kernels.live_count == 0
    finally:
        await kernels.close()


def _follow(client, cid: str, seen: list) -> None:
    """Append the conversation's SSE events to ``seen`` as they arrive, until ``done``."""
    import json

    with client.http.stream("GET", f"/api/conversations/{cid}/events", timeout=120) as r:
        for line in r.iter_lines():
            if line.startswith("data:"):
                seen.append(json.loads(line[5:]))
                if seen[-1]["type"] in ("done", "idle"):
                    return


def test_a_gateway_killed_mid_run_loses_nothing_acknowledged(tmp_path: Path) -> None:
    """Two gateways under a live server: the one running a conversation's cell is killed
    with SIGKILL; the run ends at once with one clear line, the conversation keeps every
    message and file, and the next message runs on the other gateway."""
    import threading
    import time

    from gateway_helpers import remote_config
    from test_server_app import Client, ThreadServer, make_app

    a = start_gateway(tmp_path / "a")
    b = start_gateway(tmp_path / "b", token=a.token)
    try:
        app = make_app(tmp_path, sandbox=remote_config(a, b), pool_size=0)
        with ThreadServer(app) as srv:
            c = Client(srv.url)
            cid = c.new()["id"]
            c.chat(cid, "run: n = 7\nopen('kept.txt', 'w').write('written before')\nprint(n)")
            gws = {g.url: g for g in (a, b)}
            used = [g for g in gws if any(k["id"] for k in gws[g].kernels())]
            assert len(used) == 1
            victim, other = gws[used[0]], gws[({a.url, b.url} - {used[0]}).pop()]
            assert c.send(cid, "sleep").status_code == 202
            seen: list[dict] = []
            reader = threading.Thread(target=_follow, args=(c, cid, seen))
            reader.start()
            deadline = time.monotonic() + 60
            while not any("tick" in str(e) for e in seen) and time.monotonic() < deadline:
                time.sleep(0.05)  # until the cell's output is streaming
            victim.kill()
            killed = time.monotonic()
            reader.join(60)
            assert time.monotonic() - killed < 10  # the run ended at once, no hang
            errors = [e for e in seen if e.get("type") == "item"
                      and e["item"].get("kind") == "error"]
            assert errors, seen[-3:]
            text = errors[-1]["item"]["content"]
            assert "\n" not in text.strip() and victim.url in text
            events = c.chat(cid, "run: print(open('kept.txt').read(), 'n' in dir())")
            assert any("written before False" in str(e) for e in events), events[-3:]
            notices = [i["content"] for i in c.get(cid)["items"] if i.get("kind") == "notice"]
            assert notices and "lost kernel gateway" in notices[-1]  # the user is told
            assert [k["id"] for k in other.kernels()]  # the conversation moved
            items = c.get(cid)["items"]
            said = [i["content"] for i in items if i.get("role") == "user"]
            assert len(said) == 3 and said[1] == "sleep"
            assert said[2].startswith("run: print(open")
            streamed = [e["text"] for e in seen if e.get("type") == "output"]
            lines = [ln for t in streamed for ln in t.splitlines() if ln.strip()]
            assert lines and all(ln in str(items) for ln in lines)  # every line kept
            # (line by line: under load two ticks arrive as one chunk, and str() of the
            # stored items escapes the newline between them)
            c.close()
    finally:
        a.stop()
        b.stop()
