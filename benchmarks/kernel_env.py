"""Figures for the kernel environment and host installs: `python benchmarks/kernel_env.py`.

Prints which environment kernels use; a cold sandboxed kernel start with it (p50 of n);
the idle session's memory; `%pip install six` through the host in a fresh session (p50 of
n: resolve, download, install, import); and with --create, the time and size of creating
the environment from the lock in a temporary directory.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from runtime import mem_kib

from codeact.runtime import Session
from codeact.runtime import kernel_env as ke


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("-n", type=int, default=5, help="samples per figure")
    ap.add_argument("--package", default="six", help="the small wheel to install")
    ap.add_argument("--create", action="store_true", help="also time creating the env")
    args = ap.parse_args()
    if args.create:
        with tempfile.TemporaryDirectory() as tmp:
            t = time.perf_counter()
            env = ke.create(Path(tmp) / "kernel-env")
            took = time.perf_counter() - t
            size = ke.size_bytes(Path(env.path or tmp)) / 1e6
            print(f"{'create the kernel environment':34} {took:8.1f} s    {size:8.0f} MB")
    env = ke.resolve(None)
    print(f"kernel environment: {env.describe()}")
    cold = []
    for _ in range(args.n):
        t = time.perf_counter()
        s = Session().start()
        cold.append(time.perf_counter() - t)
        if len(cold) == args.n:
            time.sleep(1.0)
            rss = mem_kib(s.kernel_pid(), "VmRSS") / 1024
            pss = mem_kib(s.kernel_pid(), "Pss") / 1024
        s.close()
    print(f"{'cold sandboxed kernel start':34} p50 {statistics.median(cold) * 1000:8.0f} ms"
          f"   (n={args.n}, target < 1000 ms)")
    print(f"{'idle session memory':34} RSS {rss:8.1f} MiB   PSS {pss:8.1f} MiB"
          "   (target < 80 MB)")
    pip = []
    for _ in range(args.n):
        with Session() as s:
            t = time.perf_counter()
            out = s.execute(f"%pip install {args.package}", timeout=300).stdout
            ok = s.execute(f"import {args.package}").ok
            pip.append(time.perf_counter() - t)
            if not (ok and "done:" in out):
                print(f"install failed: {out.strip()}")
                return 1
    print(f"{'%pip install ' + args.package + ' (host)':34} p50 "
          f"{statistics.median(pip) * 1000:8.0f} ms   (n={args.n}; "
          f"min {min(pip) * 1000:.0f}, max {max(pip) * 1000:.0f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
