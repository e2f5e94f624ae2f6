"""Speed and memory of codeact.runtime: `python benchmarks/runtime.py [--sessions 50]`.

Prints p50/p95 for a cold sandboxed kernel start, a warm acquire from the pool, executing
`1+1`, one tool-bridge call, the RSS of an idle session, then starts N concurrent
sessions and reports their total memory and whether all of them answered.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time

from codeact.runtime import SandboxConfig, Session, SessionManager


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    k = min(len(xs) - 1, max(0, round(p / 100 * (len(xs) - 1))))
    return xs[k]


def show(name: str, xs: list[float], unit: str = "ms", scale: float = 1000.0,
         target: str = "") -> None:
    print(f"{name:34} p50 {pct(xs, 50) * scale:8.1f} {unit}   p95 {pct(xs, 95) * scale:8.1f} {unit}"
          f"   (n={len(xs)}{', target ' + target if target else ''})")


def tree_pids(root: int) -> list[int]:
    """root and all its descendants (from /proc)."""
    children: dict[int, list[int]] = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(d))
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += children.get(p, [])
    return out


def mem_kib(pid: int, field: str) -> int:
    """Sum of a memory figure over a process tree: VmRSS, or Pss (from smaps_rollup)."""
    total = 0
    for p in tree_pids(pid):
        path = f"/proc/{p}/status" if field == "VmRSS" else f"/proc/{p}/smaps_rollup"
        try:
            with open(path) as f:
                for line in f:
                    if line.startswith(field + ":"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


def bench_single(n: int) -> None:
    cold = []
    for _ in range(n):
        t = time.perf_counter()
        s = Session().start()
        cold.append(time.perf_counter() - t)
        s.close()
    show("cold sandboxed kernel start", cold, target="<= 1000 ms")

    def tool_echo(x: int) -> int:
        """Echo."""
        return x

    with Session(tools=[tool_echo]) as s:
        ex = []
        for _ in range(max(n * 5, 100)):
            t = time.perf_counter()
            assert s.execute("1+1").result == "2"
            ex.append(time.perf_counter() - t)
        show("execute 1+1", ex, target="<= 15 ms p50")
        obs = s.execute("import time\nts = []\nfor i in range(200):\n"
                        "    t = time.perf_counter(); tool_echo(i); "
                        "ts.append(time.perf_counter() - t)\nts")
        calls = [float(x) for x in obs.result.strip("[]").split(",")]
        show("tool-bridge call (inside kernel)", calls, target="<= 5 ms p50")
        time.sleep(1.0)
        rss = mem_kib(s.kernel_pid(), "VmRSS")
        pss = mem_kib(s.kernel_pid(), "Pss")
        print(f"{'idle session memory':34} RSS {rss / 1024:8.1f} MiB   PSS {pss / 1024:8.1f} MiB"
              "   (target <= 80 MB)")


async def bench_pool(n: int) -> None:
    async with SessionManager(pool_size=2, max_sessions=n + 5, idle_timeout=None) as mgr:
        warm = []
        for _ in range(n):
            await mgr.wait_pool()
            t = time.perf_counter()
            s = await mgr.acquire()
            warm.append(time.perf_counter() - t)
            await mgr.release(s)
        show("warm acquire from the pool", warm, target="<= 50 ms")


async def bench_many(n: int) -> None:
    t = time.perf_counter()
    mgr = SessionManager(pool_size=0, max_sessions=n, idle_timeout=None)
    try:
        sem = asyncio.Semaphore(8)  # start 8 at a time: 2 cores

        async def one():
            async with sem:
                return await mgr.acquire()

        sessions = await asyncio.gather(*(one() for _ in range(n)))
        started = time.perf_counter() - t
        outs = await asyncio.gather(*(s.aexecute(f"{i} + 1") for i, s in enumerate(sessions)))
        ok = sum(o.result == str(i + 1) for i, o in enumerate(outs))
        await asyncio.sleep(1.0)
        rss = sum(mem_kib(s.kernel_pid(), "VmRSS") for s in sessions)
        pss = sum(mem_kib(s.kernel_pid(), "Pss") for s in sessions)
        alive = sum(s.alive for s in sessions)
        print(f"{n} concurrent sessions: started in {started:.1f} s; {ok}/{n} answered, "
              f"{alive}/{n} alive; total RSS {rss / 1024:.0f} MiB, PSS {pss / 1024:.0f} MiB "
              f"({pss / 1024 / n:.1f} MiB each)")
    finally:
        await mgr.aclose()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("-n", type=int, default=20, help="samples for start/acquire timings")
    ap.add_argument("--sessions", type=int, default=50, help="concurrent sessions")
    args = ap.parse_args()
    cfg = SandboxConfig()
    print(f"codeact.runtime benchmark: python {sys.version.split()[0]}, {os.cpu_count()} CPUs, "
          f"sandbox={cfg.backend}, memory limit {cfg.memory_mb} MiB/process")
    bench_single(args.n)
    asyncio.run(bench_pool(args.n))
    if args.sessions:
        asyncio.run(bench_many(args.sessions))
    return 0


if __name__ == "__main__":
    sys.exit(main())
