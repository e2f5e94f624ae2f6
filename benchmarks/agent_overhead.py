"""Framework overhead per agent turn, excluding the model.

Runs the real loop with the scripted backend (instant replies) against a real sandboxed
kernel, so what is measured is everything codeact itself does per turn: prompt assembly,
parsing, the sandboxed execution of a trivial cell, observation rendering, events.
Target: under 20 ms per turn (p50), sandboxed execution included.

    python benchmarks/agent_overhead.py [--turns 200] [--sandbox bwrap|none]
"""

from __future__ import annotations

import argparse
import statistics
import time

from rich.progress import track

from codeact.agent import Agent
from codeact.events import ObservationEvent, TurnStarted
from codeact.llm.scripted import ScriptedLLM
from codeact.runtime import Session


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=200)
    parser.add_argument("--sandbox", default="bwrap")
    args = parser.parse_args()

    session = Session(sandbox=args.sandbox)
    session.start()
    # a different trivial cell each turn: the same one again would be stopped as a repeat
    llm = ScriptedLLM(lambda messages: f"<execute>x = {len(messages)} + 1\nx</execute>",
                      chunk_size=16)
    agent = Agent(llm, session=session, max_turns=args.turns)
    per_turn: list[float] = []
    exec_only: list[float] = []
    started = None
    try:
        events = agent.stream("benchmark")
        for event in track(events, description="turns", total=args.turns * 6):
            if isinstance(event, TurnStarted):
                started = time.perf_counter()
            elif isinstance(event, ObservationEvent) and started is not None:
                per_turn.append(time.perf_counter() - started)
                if event.observation is not None:
                    exec_only.append(event.observation.duration)
    finally:
        session.close()
    per_turn.sort()
    exec_only.sort()

    def pct(values: list[float], q: float) -> float:
        return values[min(len(values) - 1, int(q * len(values)))] * 1000

    print(f"turns measured: {len(per_turn)} (sandbox={args.sandbox})")
    print(f"framework time per turn incl. execution: p50 {pct(per_turn, 0.5):.1f} ms, "
          f"p95 {pct(per_turn, 0.95):.1f} ms (target p50 < 20 ms)")
    print(f"of which kernel execution:               p50 {pct(exec_only, 0.5):.1f} ms")
    print(f"mean per turn: {statistics.mean(per_turn) * 1000:.1f} ms")


if __name__ == "__main__":
    main()
