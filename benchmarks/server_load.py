"""Load on the chat server: N concurrent conversations, each doing T turns.

The server runs in this process under uvicorn on 127.0.0.1 (a free port) with a scripted
model and real sandboxed kernels (one per conversation, from the runtime's warm pool).
Each turn posts a message whose scripted reply runs a small code cell and then answers,
and reads the SSE stream to the end. Reports p50/p99 turn latency (POST to ``done``),
errors, and the peak resident memory of the server process plus its kernels.

    python benchmarks/server_load.py                 # 10 and 50 conversations, 5 turns
    python benchmarks/server_load.py --sizes 5 --turns 2
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
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
    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak = 0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            self.peak = max(self.peak, tree_rss(os.getpid()))
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 50])
    parser.add_argument("--turns", type=int, default=5)
    parser.add_argument("--pool-size", type=int, default=4)
    parser.add_argument("--db", default=None, help="database URL (default: a temp SQLite)")
    args = parser.parse_args()

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
