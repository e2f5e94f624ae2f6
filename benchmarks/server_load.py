"""Load on the chat server: N concurrent conversations, each doing T turns.

The server runs in this process under uvicorn on 127.0.0.1 (a free port) with a scripted
model and real sandboxed kernels (one per conversation, from the runtime's warm pool).
Each turn posts a message whose scripted reply runs a small code cell and then answers,
and reads the SSE stream to the end. Reports p50/p99 turn latency (POST to ``done``),
errors, and the peak resident memory of the server process plus its kernels.

    python benchmarks/server_load.py                 # 10 and 50 conversations, 5 turns
    python benchmarks/server_load.py --sizes 5 --turns 2

``--kill-restart``: the server runs as ``codeact serve`` in a subprocess; once about half
the turns are done it is killed with SIGKILL mid-run, restarted on the same database,
and every conversation carries on. Afterwards every acknowledged thing (a message
answered 202, every SSE event a client received) is checked against the database, and
a last "recall" turn checks that the model sees everything the user saw.

    python benchmarks/server_load.py --kill-restart --sizes 50 --turns 4
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from codeact.llm.scripted import ScriptedLLM
from codeact.server.app import create_app


def reply(messages: list[dict[str, Any]]) -> str:
    last = str(messages[-1]["content"])
    if last.startswith("Observation:"):
        lines = last.splitlines()
        return f"<solution>{lines[1] if len(lines) > 1 else ''}</solution>"
    turn = last.rsplit(" ", 1)[-1]
    return ("Computing.\n<execute>\n"
            f"total = globals().get('total', 0) + {turn}\n"
            "print('total', total)\n</execute>")


def factory(spec: str) -> ScriptedLLM:
    return ScriptedLLM(reply, chunk_size=4, name=spec)


RECALL = "recall"


def slow_reply(messages: list[dict[str, Any]]) -> str:
    """Like ``reply``, with a cell that prints, sleeps, then prints (so a kill lands
    mid-output); ``recall`` answers with everything the model sees (base64 JSON)."""
    last = str(messages[-1]["content"])
    if last.endswith(RECALL):
        seen = [{"role": m["role"], "content": str(m["content"])} for m in messages[1:-1]]
        blob = base64.b64encode(json.dumps(seen).encode()).decode()
        return f"<solution>{blob}</solution>"
    if last.startswith("Observation:"):
        return reply(messages)
    turn = last.rsplit(" ", 1)[-1]
    return ("Computing slowly.\n<execute>\nimport time\n"
            f"print('start {turn}', flush=True)\ntime.sleep(1.0)\n"
            f"total = globals().get('total', 0) + {turn}\n"
            "print('total', total)\n</execute>")


def slow_factory(spec: str) -> ScriptedLLM:
    return ScriptedLLM(slow_reply, chunk_size=4, name=spec)


def tree_rss(pid: int) -> int:
    """Resident memory (bytes) of ``pid`` and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    page = os.sysconf("SC_PAGE_SIZE")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            ppid = int(fields[1])
            with open(f"/proc/{entry}/statm") as fh:
                rss[int(entry)] = int(fh.read().split()[1]) * page
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    total, stack = 0, [pid]
    while stack:
        p = stack.pop()
        total += rss.get(p, 0)
        stack.extend(children.get(p, []))
    return total


class Sampler(threading.Thread):
    def __init__(self, pid: Any = os.getpid) -> None:
        super().__init__(daemon=True)
        self.peak = 0
        self.stop = threading.Event()
        self.pid = pid

    def run(self) -> None:
        while not self.stop.is_set():
            self.peak = max(self.peak, tree_rss(self.pid()))
            self.stop.wait(0.25)


async def conversation(client: httpx.AsyncClient, turns: int, latencies: list[float],
                       errors: list[str], later: list[float]) -> None:
    r = await client.post("/api/conversations", json={})
    cid = r.json()["id"]
    for t in range(1, turns + 1):
        start = time.perf_counter()
        try:
            r = await client.post(f"/api/conversations/{cid}/messages",
                                  json={"content": f"add {t}"})
            if r.status_code != 202:
                errors.append(f"{r.status_code}: {r.text[:80]}")
                continue
            run_id = r.json()["run_id"]
            done = None
            async with client.stream("GET", f"/api/conversations/{cid}/events",
                                     params={"run_id": run_id}) as s:
                async for line in s.aiter_lines():
                    if line.startswith("data:"):
                        ev = json.loads(line[5:])
                        if ev["type"] in ("done", "idle"):
                            done = ev
                            break
            if done is None or done.get("stop_reason") != "solution":
                errors.append(f"turn ended with {done}")
                continue
            latencies.append(time.perf_counter() - start)
            if t > 1:  # the first turn also starts the conversation's kernel
                later.append(latencies[-1])
        except Exception as exc:  # count it, keep going
            errors.append(f"{type(exc).__name__}: {exc}")
    # the answer of the last turn holds the running total: check the kernel kept state
    items = (await client.get(f"/api/conversations/{cid}")).json()["items"]
    want = f"total {turns * (turns + 1) // 2}"
    if not items or items[-1]["content"] != want:
        errors.append(f"state lost: last answer {items[-1]['content'] if items else None!r}")


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[k]


async def load(url: str, n: int, turns: int) -> dict[str, Any]:
    latencies: list[float] = []
    errors: list[str] = []
    later: list[float] = []
    limits = httpx.Limits(max_connections=2 * n + 10, max_keepalive_connections=2 * n + 10)
    async with httpx.AsyncClient(base_url=url, timeout=300, limits=limits) as client:
        start = time.perf_counter()
        await asyncio.gather(*(conversation(client, turns, latencies, errors, later)
                               for _ in range(n)))
        wall = time.perf_counter() - start
        # close the kernels between sizes: delete what we made
        for c in (await client.get("/api/conversations")).json()["conversations"]:
            await client.delete(f"/api/conversations/{c['id']}")
    return {"conversations": n, "turns": turns, "ok_turns": len(latencies),
            "errors": len(errors), "error_samples": errors[:3],
            "p50_s": percentile(latencies, 50), "p99_s": percentile(latencies, 99),
            "later_p50_s": percentile(later, 50), "later_p99_s": percentile(later, 99),
            "mean_s": statistics.fmean(latencies) if latencies else float("nan"),
            "wall_s": wall}


# -- --kill-restart ----------------------------------------------------------------------
class ServerProcess:
    """``codeact serve`` in a subprocess that can be killed -9 and started again."""

    def __init__(self, db: str, data_dir: Path, max_sessions: int, pool_size: int) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.argv = [sys.executable, "-m", "codeact.server.cli", "--port", str(self.port),
                     "--db", db, "--data-dir", str(data_dir), "--model", "scripted",
                     "--max-sessions", str(max_sessions), "--pool-size", str(pool_size),
                     "--llm-factory", "server_load:slow_factory", "--log-level", "warning"]
        here = str(Path(__file__).resolve().parent)
        self.env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            [here, os.environ.get("PYTHONPATH", "")])}
        self.log_path = data_dir.parent / "server.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.up = asyncio.Event()
        self.kills = 0

    def pid(self) -> int:
        return self.proc.pid if self.proc is not None else os.getpid()

    async def start(self) -> None:
        log = open(self.log_path, "ab")  # noqa: SIM115 - the child keeps it
        self.proc = subprocess.Popen(self.argv, env=self.env, stdout=log,
                                     stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + 120
        async with httpx.AsyncClient(timeout=2) as c:
            while True:
                try:
                    if (await c.get(f"{self.url}/api/health")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the server did not start: see {self.log_path}")
                await asyncio.sleep(0.1)
        self.up.set()

    async def kill_and_restart(self) -> float:
        """SIGKILL (no cleanup at all), then start again; returns the outage in s."""
        assert self.proc is not None
        t0 = time.perf_counter()
        self.up.clear()
        os.kill(self.proc.pid, signal.SIGKILL)
        await asyncio.to_thread(self.proc.wait)
        self.kills += 1
        await self.start()
        return time.perf_counter() - t0

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class KillRun:
    """Shared state of a --kill-restart run."""

    def __init__(self, server: ServerProcess, kill_after: int) -> None:
        self.server = server
        self.kill_after = kill_after
        self.turns_done = 0
        self.kill_now = asyncio.Event()
        self.latencies: list[float] = []
        self.later: list[float] = []  # turns 2+ (the first also starts a kernel)
        self.errors: list[str] = []
        self.cut_turns = 0
        self.lost: list[str] = []  # acknowledged things missing after the restart
        self.unseen: list[str] = []  # things the user saw that the model does not see
        self.outage_s = 0.0
        self.conversations: list[Conversation] = []
        self.in_cell: set[str] = set()  # conversations whose cell has printed, not ended
        self.in_cell_at_kill = 0


class Conversation:
    def __init__(self) -> None:
        self.cid = ""
        self.acked: list[dict[str, Any]] = []  # user items answered 202
        self.events: list[dict[str, Any]] = []  # every SSE event received
        self.before_recall = 0  # events before the recall turn (what the model can know)


async def _post(client: httpx.AsyncClient, kr: KillRun, url: str,
                body: dict[str, Any]) -> httpx.Response:
    """POST until the server answers (a request lost in the kill was never acked)."""
    while True:
        await kr.server.up.wait()
        try:
            r = await client.post(url, json=body)
        except httpx.TransportError:
            await asyncio.sleep(0.2)
            continue
        if r.status_code == 503:  # kernel cap or shutting down: not acked, retry
            await asyncio.sleep(1.0)
            continue
        return r


async def _follow(client: httpx.AsyncClient, kr: KillRun, conv: Conversation, cid: str,
                  run_id: str) -> dict[str, Any] | None:
    try:
        async with client.stream("GET", f"/api/conversations/{cid}/events",
                                 params={"run_id": run_id}) as s:
            async for line in s.aiter_lines():
                if line.startswith("data:"):
                    ev = json.loads(line[5:])
                    conv.events.append(ev)
                    if ev["type"] == "output":
                        kr.in_cell.add(cid)
                    elif ev["type"] in ("observation", "done"):
                        kr.in_cell.discard(cid)
                    if ev["type"] in ("done", "idle"):
                        return ev
    finally:
        kr.in_cell.discard(cid)
    return None


async def kill_conversation(client: httpx.AsyncClient, kr: KillRun, turns: int) -> None:
    conv = Conversation()
    kr.conversations.append(conv)
    r = await _post(client, kr, "/api/conversations", {})
    conv.cid = cid = r.json()["id"]
    for t in [*range(1, turns + 1), RECALL]:
        content = f"add {t}" if t != RECALL else RECALL
        if t == RECALL:
            conv.before_recall = len(conv.events)
        start = time.perf_counter()  # POST (kernel start included) to done, as above
        r = await _post(client, kr, f"/api/conversations/{cid}/messages", {"content": content})
        if r.status_code != 202:
            kr.errors.append(f"{r.status_code}: {r.text[:80]}")
            continue
        conv.acked += [i for i in r.json()["items"] if i.get("role") == "user"]
        try:
            done = await _follow(client, kr, conv, cid, r.json()["run_id"])
        except httpx.TransportError:  # the server was killed under this turn
            kr.cut_turns += 1
            done = None
        else:
            if done is None or done.get("stop_reason") != "solution":
                kr.errors.append(f"turn ended with {done}")
            else:
                kr.latencies.append(time.perf_counter() - start)
                if t != 1:
                    kr.later.append(kr.latencies[-1])
        if t != RECALL:
            kr.turns_done += 1
            if kr.turns_done >= kr.kill_after:
                kr.kill_now.set()


def check_acknowledged(kr: KillRun, conv: Conversation, items: list[dict[str, Any]]) -> None:
    """Every acked message and every received event must be in the database."""
    messages = {i["id"]: i for i in items if i["type"] == "message"}
    codes = {i["id"]: i for i in items if i["type"] == "code"}
    where = conv.cid[:8]
    for u in conv.acked:
        if messages.get(u["id"], {}).get("content") != u["content"]:
            kr.lost.append(f"{where}: acked user message {u['content']!r} missing")
    for ev in conv.events:
        kind = ev["type"]
        if kind == "item":
            it = ev["item"]
            table = codes if it["type"] == "code" else messages
            if it["id"] not in table:
                kr.lost.append(f"{where}: item {it['type']} {it['id']} missing")
        elif kind == "text":
            got = messages.get(ev["message_id"], {}).get("content", "")
            if got[ev["offset"]:ev["offset"] + len(ev["text"])] != ev["text"]:
                kr.lost.append(f"{where}: text of message {ev['message_id']} at "
                               f"{ev['offset']} missing")
        elif kind == "output":
            obs = (codes.get(ev["code_action_id"]) or {}).get("observation") or {}
            got = obs.get(ev["stream"], "")
            if got[ev["offset"]:ev["offset"] + len(ev["text"])] != ev["text"]:
                kr.lost.append(f"{where}: output of code {ev['code_action_id']} at "
                               f"{ev['offset']} missing")
        elif kind == "observation":
            obs = (codes.get(ev["code_action_id"]) or {}).get("observation") or {}
            if obs.get("text") != ev["observation"]["text"]:
                kr.lost.append(f"{where}: observation of code {ev['code_action_id']} differs")


def check_model_view(kr: KillRun, conv: Conversation, items: list[dict[str, Any]]) -> None:
    """The recall answer lists the model's messages: the user's view must be in them."""
    where = conv.cid[:8]
    answers = [i for i in items if i["type"] == "message" and i["role"] == "assistant"
               and i["kind"] == "answer"]
    try:
        seen = json.loads(base64.b64decode(answers[-1]["content"]))
    except (IndexError, ValueError):
        kr.unseen.append(f"{where}: no recall answer")
        return
    users = "\n".join(m["content"] for m in seen if m["role"] == "user")
    assistants = "\n".join(m["content"] for m in seen if m["role"] == "assistant")
    for u in conv.acked:
        if u["content"] != RECALL and u["content"] not in users:
            kr.unseen.append(f"{where}: the model does not see {u['content']!r}")
    texts: dict[int, str] = {}
    for ev in conv.events[:conv.before_recall]:
        if ev["type"] == "item" and ev["item"]["type"] == "message" and \
                ev["item"]["role"] == "assistant":
            texts[ev["item"]["id"]] = ev["item"]["content"]
        elif ev["type"] == "text" and ev["message_id"] in texts:
            texts[ev["message_id"]] += ev["text"]
        elif ev["type"] == "output" and ev["text"].strip() and \
                ev["text"].strip() not in users:
            kr.unseen.append(f"{where}: the model does not see output {ev['text']!r}")
    for mid, text in texts.items():
        if text.strip() and text.strip() not in assistants:
            kr.unseen.append(f"{where}: the model does not see reply {mid}: {text[:60]!r}")


async def kill_load(server: ServerProcess, n: int, turns: int) -> KillRun:
    kr = KillRun(server, kill_after=max(1, n * turns // 2))
    limits = httpx.Limits(max_connections=2 * n + 10, max_keepalive_connections=2 * n + 10)

    async def killer() -> None:
        await kr.kill_now.wait()
        # kill while as many conversations as possible are mid-cell (output shown, no
        # observation yet): the hardest moment to lose nothing
        deadline = time.monotonic() + 10
        while len(kr.in_cell) < max(1, n // 2) and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        kr.in_cell_at_kill = len(kr.in_cell)
        kr.outage_s = await server.kill_and_restart()

    async with httpx.AsyncClient(base_url=server.url, timeout=300, limits=limits) as client:
        kill_task = asyncio.create_task(killer())
        await asyncio.gather(*(kill_conversation(client, kr, turns) for _ in range(n)))
        if not kill_task.done():  # fewer turns than expected: kill at the end anyway
            kr.kill_now.set()
        await kill_task
        await server.up.wait()
        for conv in kr.conversations:
            items = (await client.get(f"/api/conversations/{conv.cid}")).json()["items"]
            check_acknowledged(kr, conv, items)
            check_model_view(kr, conv, items)
    return kr


def main_kill(args: argparse.Namespace) -> int:
    tmp = Path(tempfile.mkdtemp(prefix="codeact-kill-"))
    n = max(args.sizes)
    server = ServerProcess(args.db or f"sqlite:///{tmp / 'load.db'}", tmp / "data", n,
                           args.pool_size)

    async def go() -> tuple[KillRun, int]:
        await server.start()
        sampler = Sampler(server.pid)
        sampler.start()
        try:
            return await kill_load(server, n, args.turns), sampler.peak
        finally:
            sampler.stop.set()
            sampler.join()

    print(f"codeact serve in a subprocess (--max-sessions {n}), {os.cpu_count()} CPUs, "
          f"scripted model, bwrap sandboxes, pool {args.pool_size}; SIGKILL once mid-run")
    try:
        t0 = time.perf_counter()
        kr, peak = asyncio.run(go())
        wall = time.perf_counter() - t0
    finally:
        server.stop()
    lat = kr.latencies
    print(f"conversations {n}, turns {n * (args.turns + 1)} (incl. a recall turn each), "
          f"ok {len(lat)}, cut by the kill {kr.cut_turns} ({kr.in_cell_at_kill} mid-cell), "
          f"errors {len(kr.errors)}")
    print(f"turn latency p50 {percentile(lat, 50):.3f} s, p99 {percentile(lat, 99):.3f} s "
          f"(turns 2+: p50 {percentile(kr.later, 50):.3f} s, "
          f"p99 {percentile(kr.later, 99):.3f} s); "
          f"wall {wall:.1f} s; kills {server.kills}, restart outage {kr.outage_s:.1f} s; "
          f"peak RSS of the server and its kernels {peak / 2**20:.0f} MiB")
    print(f"lost after the kill: {len(kr.lost)} acknowledged things "
          f"(messages answered 202 + SSE events received: "
          f"{sum(len(c.acked) + len(c.events) for c in kr.conversations)} checked); "
          f"model misses {len(kr.unseen)} things the user saw")
    for line in (kr.errors[:3] + kr.lost[:5] + kr.unseen[:5]):
        print("   ", line)
    bad = kr.lost or kr.unseen or kr.errors or server.kills != 1
    return 1 if bad else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 50])
    parser.add_argument("--turns", type=int, default=5)
    parser.add_argument("--pool-size", type=int, default=4)
    parser.add_argument("--db", default=None, help="database URL (default: a temp SQLite)")
    parser.add_argument("--kill-restart", action="store_true",
                        help="run the server in a subprocess, SIGKILL it once mid-run, "
                             "restart it and check nothing acknowledged was lost "
                             "(uses the largest --sizes; --max-sessions is that size)")
    parser.add_argument("--max-sessions", type=int, default=None,
                        help="with --kill-restart: the number of conversations")
    args = parser.parse_args()
    if args.max_sessions:
        args.sizes = [args.max_sessions]
    if args.kill_restart:
        raise SystemExit(main_kill(args))

    tmp = Path(tempfile.mkdtemp(prefix="codeact-load-"))
    app = create_app(db=args.db or f"sqlite:///{tmp / 'load.db'}", data_dir=tmp / "data",
                     models=["scripted"], llm_factory=factory,
                     max_sessions=max(args.sizes), pool_size=args.pool_size)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    url = f"http://127.0.0.1:{port}"
    print(f"server on {url}, {os.cpu_count()} CPUs, scripted model, bwrap sandboxes, "
          f"pool {args.pool_size}")
    print(f"{'conv':>5} {'turns':>6} {'ok':>5} {'err':>4} {'p50 s':>7} {'p99 s':>7} "
          f"{'mean s':>7} {'wall s':>7} {'peak RSS MiB':>13}   (turns 2+: p50 / p99 s)")
    try:
        for n in args.sizes:
            sampler = Sampler()
            sampler.start()
            result = asyncio.run(load(url, n, args.turns))
            sampler.stop.set()
            sampler.join()
            print(f"{n:>5} {n * args.turns:>6} {result['ok_turns']:>5} {result['errors']:>4} "
                  f"{result['p50_s']:>7.3f} {result['p99_s']:>7.3f} {result['mean_s']:>7.3f} "
                  f"{result['wall_s']:>7.1f} {sampler.peak / 2**20:>13.0f}   "
                  f"{result['later_p50_s']:.3f} / {result['later_p99_s']:.3f}", flush=True)
            for e in result["error_samples"]:
                print("   error:", e)
    finally:
        server.should_exit = True
        thread.join(120)


if __name__ == "__main__":
    main()
