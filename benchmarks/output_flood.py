"""Flood a sandboxed session's stdout at 1, 10, 50 and 200 MB and print what survives.

For each size: characters kept, truncation marker present, `1+1` afterwards, the variable
set before the first flood still there, and how long the flooding cell took.

    python benchmarks/output_flood.py
"""

from __future__ import annotations

import time

from rich.console import Console
from rich.table import Table

from codeact.runtime import Session


def main() -> None:
    table = Table(title="output flood, one sandboxed session")
    for col in ("size", "chars kept", "marker", "1+1 after", "variable kept", "seconds"):
        table.add_column(col)
    with Session() as session:
        session.execute("keep = 42")
        for mb in (1, 10, 50, 200):
            t0 = time.perf_counter()
            obs = session.execute(f"print('x' * {mb}_000_000)", timeout=120)
            took = time.perf_counter() - t0
            after = session.execute("1+1").result
            kept = session.execute("keep").result == "42"
            table.add_row(f"{mb} MB", f"{len(obs.stdout):,}",
                          str("characters dropped" in obs.stdout), str(after), str(kept),
                          f"{took:.2f}")
    Console().print(table)


if __name__ == "__main__":
    main()
