"""Kernels on a Jupyter Kernel Gateway vs on this machine: `python benchmarks/gateway.py`.

Starts real ``jupyter kernelgateway`` processes on 127.0.0.1 (the ``gateway`` extra) and
prints p50/p95 of:

* executing ``1+1`` in a local (bubblewrap) kernel and in a kernel on a gateway;
* one host tool call: local kernel over the unix socket, local kernel over comm messages
  (the same kernel-side client, switched to comm: the measurement behind keeping the
  socket for local kernels), gateway kernel over comm messages;
* a cold session start (``Session().start()``) and a warm one (``SessionManager.acquire``
  from a full pool), local and on the gateway.

``--server``: the chat server (in this process, scripted model) with its kernels on two
gateways; N conversations (default 50) take T turns each (a cell that prints, sleeps
1 s, prints); once half the turns are done the gateway holding the most kernels is killed
with SIGKILL. Reports turn latency, the turns the outage cut short (their run ends with an
error naming the gateway), errors after that, acknowledged items missing from the database
(target 0: ``server_load.check_acknowledged``), and the outage: from the kill until each
affected conversation has its next answer (a new kernel on the other gateway).

    python benchmarks/gateway.py                     # micro figures
    python benchmarks/gateway.py --server --conversations 50 --turns 4
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from codeact.runtime import SandboxConfig, Session, SessionManager
from codeact.runtime._loop import run_sync


def pct(xs: list[float], p: float) -> float:
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, round(p / 100 * (len(xs) - 1))))]


def show(name: str, xs: list[float]) -> None:
    print(f"{name:44} p50 {pct(xs, 50) * 1000:8.1f} ms   p95 {pct(xs, 95) * 1000:8.1f} ms"
          f"   (n={len(xs)})", flush=True)


class Gateway:
    """``jupyter kernelgateway`` on a free 127.0.0.1 port, in its own process group."""

    def __init__(self, tmp: Path, token: str) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self.url, self.token = f"http://127.0.0.1:{port}", token
        tmp.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
        with open(tmp / "gateway.log", "wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "kernel_gateway", "--KernelGatewayApp.ip=127.0.0.1",
                 f"--KernelGatewayApp.port={port}", f"--KernelGatewayApp.auth_token={token}",
                 "--JupyterWebsocketPersonality.list_kernels=True"],
                stdout=log, stderr=subprocess.STDOUT, cwd=tmp, env=env,
                start_new_session=True)
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{self.url}/api", timeout=1,
                             headers={"Authorization": f"token {token}"}).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the gateway did not start: see {tmp / 'gateway.log'}")
            time.sleep(0.1)

    def kernels(self) -> int:
        r = httpx.get(f"{self.url}/api/kernels", timeout=5,
                      headers={"Authorization": f"token {self.token}"})
        return len(r.json())

    def kill(self) -> None:
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()


def remote(*gws: Gateway) -> SandboxConfig:
    return SandboxConfig(backend="gateway", gateway_urls=tuple(g.url for g in gws),
                         gateway_token=gws[0].token)


def echo(x: int) -> int:
    """Return x (a host tool)."""
    return x


def comm_on_local(session: Session) -> None:
    """Switch a started local session's tool bridge to comm messages (for measuring)."""
    from codeact.runtime.comm_bridge import CommBridge
    from codeact.runtime.kernel_code import setup_code, tools_code

    k = session._kernel
    assert k is not None

    async def switch() -> None:
        bridge = CommBridge(k.client, session.tools)
        await bridge.start()
        await k.client.run_silent(setup_code(session.output_limit, None)
                                  + tools_code(session.tools), 30.0)

    run_sync(switch())


def timed(fn: Any, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def micro(gw: Gateway, n: int, starts: int) -> None:
    local_cfg, gw_cfg = SandboxConfig(), remote(gw)
    with Session(local_cfg, tools=[echo]) as loc, Session(gw_cfg, tools=[echo]) as rem:
        for s in (loc, rem):
            assert s.execute("echo(1) + 1").result == "2"
        show("execute 1+1, local kernel", timed(lambda: loc.execute("1+1"), n))
        show("execute 1+1, gateway kernel", timed(lambda: rem.execute("1+1"), n))
        cell = "import time\nt = time.perf_counter()\nfor _ in range(200): echo(1)\n" \
               "(time.perf_counter() - t) / 200"
        per_call: dict[str, list[float]] = {}
        for name, s in (("tool call, local kernel, unix socket", loc),
                        ("tool call, gateway kernel, comm", rem)):
            per_call[name] = [float(s.execute(cell).result or "nan") for _ in range(5)]
        comm_on_local(loc)
        per_call["tool call, local kernel, comm"] = [
            float(loc.execute(cell).result or "nan") for _ in range(5)]
        for name in ("tool call, local kernel, unix socket", "tool call, local kernel, comm",
                     "tool call, gateway kernel, comm"):
            show(name + " (200 calls/cell)", per_call[name])
    for name, cfg in (("cold start, local", local_cfg), ("cold start, gateway", gw_cfg)):
        def cold(cfg: SandboxConfig = cfg) -> None:
            with Session(cfg) as s:
                s.execute("1+1")
        show(name + " (start + 1+1 + close)", timed(cold, starts))
    for name, cfg in (("warm acquire, local", local_cfg), ("warm acquire, gateway", gw_cfg)):
        async def warm(cfg: SandboxConfig = cfg) -> list[float]:
            out = []
            async with SessionManager(cfg, pool_size=2, idle_timeout=None) as mgr:
                for _ in range(starts):
                    await mgr.wait_pool()
                    t0 = time.perf_counter()
                    s = await mgr.acquire()
                    await s.aexecute("1+1")
                    out.append(time.perf_counter() - t0)
                    await mgr.release(s)
            return out
        show(name + " (pool + 1+1)", asyncio.run(warm()))


# -- --server ---------------------------------------------------------------------------
async def server_run(gws: list[Gateway], n: int, turns: int, tmp: Path) -> dict[str, Any]:
    import uvicorn

    here = str(Path(__file__).resolve().parent)
    sys.path.insert(0, here)
    from server_load import Conversation, check_acknowledged, slow_factory

    from codeact.server.app import create_app

    app = create_app(db=f"sqlite:///{tmp / 'chat.db'}", data_dir=tmp / "data",
                     models=["scripted"], llm_factory=slow_factory, max_sessions=n + 5,
                     pool_size=4, sandbox=remote(*gws), agent_options={"exec_timeout": 120})
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="warning"))
    serving = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.05)
    url = f"http://127.0.0.1:{port}"

    done_turns = 0
    kill_at = n * turns // 3  # early enough that cut conversations have turns left
    killed = asyncio.Event()
    kill_time = 0.0
    latencies: list[float] = []
    cut: list[str] = []  # turns the outage ended with an error (expected)
    errors: list[str] = []  # anything else that went wrong
    recovery: list[float] = []  # kill -> next answer, per conversation the kill hit
    convs: list[Conversation] = []
    in_cell: set[str] = set()
    lost_kernels = [0]

    async def one(client: httpx.AsyncClient) -> None:
        nonlocal done_turns
        conv = Conversation()
        convs.append(conv)
        conv.cid = cid = (await client.post("/api/conversations", json={})).json()["id"]
        hit = False
        for t in range(1, turns + 1):
            t0 = time.perf_counter()
            r = await client.post(f"/api/conversations/{cid}/messages",
                                  json={"content": f"add {t}"})
            if r.status_code != 202:
                errors.append(f"{r.status_code}: {r.text[:100]}")
                continue
            conv.acked += [i for i in r.json()["items"] if i.get("role") == "user"]
            end = None
            async with client.stream("GET", f"/api/conversations/{cid}/events",
                                     params={"run_id": r.json()["run_id"]}) as st:
                async for line in st.aiter_lines():
                    if line.startswith("data:"):
                        ev = json.loads(line[5:])
                        conv.events.append(ev)
                        if ev["type"] == "output":
                            in_cell.add(cid)
                        elif ev["type"] == "observation":
                            in_cell.discard(cid)
                        if ev["type"] in ("done", "idle"):
                            end = ev
                            break
            in_cell.discard(cid)
            if end is not None and end.get("stop_reason") == "solution":
                latencies.append(time.perf_counter() - t0)
                if hit:
                    recovery.append(time.perf_counter() - kill_time)
                    hit = False
            elif killed.is_set() and "gateway" in json.dumps(conv.events[-6:]):
                cut.append(cid)
                hit = True
            else:
                errors.append(f"turn ended with {end}")
            done_turns += 1

    async def killer() -> None:
        nonlocal kill_time
        while done_turns < kill_at:
            await asyncio.sleep(0.05)
        deadline = time.monotonic() + 5  # kill while cells run
        while len(in_cell) < max(1, n // 10) and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        victim = max(gws, key=lambda g: g.kernels())
        lost_kernels[0] = victim.kernels()
        print(f"killing {victim.url} ({lost_kernels[0]} kernels; {len(in_cell)} cells "
              "running on both gateways)", flush=True)
        kill_time = time.perf_counter()
        victim.kill()
        killed.set()

    limits = httpx.Limits(max_connections=3 * n + 10, max_keepalive_connections=3 * n + 10)
    t0 = time.perf_counter()
    async with httpx.AsyncClient(base_url=url, timeout=300, limits=limits) as client:
        k = asyncio.create_task(killer())
        await asyncio.gather(*(one(client) for _ in range(n)))
        wall = time.perf_counter() - t0
        k.cancel()

        class Lost:
            lost: list[str] = []

        for conv in convs:
            items = (await client.get(f"/api/conversations/{conv.cid}")).json()["items"]
            check_acknowledged(Lost, conv, items)  # type: ignore[arg-type]
    server.should_exit = True
    await serving
    return {"conversations": n, "turns": turns, "kernels_on_killed_gateway": lost_kernels[0],
            "ok_turns": len(latencies),
            "cut_by_outage": len(cut), "errors": len(errors), "error_samples": errors[:3],
            "lost_items": len(Lost.lost), "lost_samples": Lost.lost[:3],
            "turn_p50_s": pct(latencies, 50), "turn_p99_s": pct(latencies, 99),
            "outage_p50_s": pct(recovery, 50), "outage_max_s": max(recovery, default=0.0),
            "wall_s": wall}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-n", type=int, default=100, help="executes / calls measured")
    ap.add_argument("--starts", type=int, default=8, help="cold and warm starts measured")
    ap.add_argument("--server", action="store_true", help="the two-gateway server run")
    ap.add_argument("--conversations", type=int, default=50)
    ap.add_argument("--turns", type=int, default=4)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="codeact-gw-bench-"))
    token = secrets.token_hex(8)
    gws = [Gateway(tmp / "a", token)]
    try:
        if args.server:
            gws.append(Gateway(tmp / "b", token))
            out = asyncio.run(server_run(gws, args.conversations, args.turns, tmp))
            print(json.dumps(out, indent=2))
        else:
            micro(gws[0], args.n, args.starts)
    finally:
        for g in gws:
            g.stop()


if __name__ == "__main__":
    main()
