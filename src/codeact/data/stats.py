"""Statistics of a dataset: counts by source and kind, turns, tokens; a table and a
histogram PNG. Works on published records (``codeact data export``/``import`` output) and
on raw collection files (their kept-or-not records are converted first)."""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Stats:
    records: int = 0
    by_source: dict[str, int] = field(default_factory=dict)
    by_source_type: dict[str, int] = field(default_factory=dict)
    by_kind: dict[str, int] = field(default_factory=dict)
    by_turns: dict[int, int] = field(default_factory=dict)
    by_difficulty: dict[str, int] = field(default_factory=dict)
    turns: list[int] = field(default_factory=list)
    tokens: list[int] = field(default_factory=list)
    tokenizer: str = ""
    recovered: int = 0  # trajectories with a failed cell followed by a successful one

    @property
    def total_tokens(self) -> int:
        return sum(self.tokens)

    def summary(self, values: Sequence[int]) -> dict[str, float]:
        if not values:
            return {"mean": 0, "median": 0, "min": 0, "max": 0, "p90": 0}
        ordered = sorted(values)
        return {"mean": round(statistics.fmean(ordered), 1),
                "median": statistics.median(ordered), "min": ordered[0],
                "max": ordered[-1], "p90": ordered[min(len(ordered) - 1,
                                                       int(0.9 * len(ordered)))]}


def assistant_turns(record: dict[str, Any]) -> int:
    return sum(1 for m in record.get("conversations") or [] if m.get("role") == "assistant")


def compute(records: Sequence[dict[str, Any]], count: Callable[[str], int] | None = None,
            tokenizer: str = "") -> Stats:
    """Statistics of published records; ``count`` counts one text's tokens (content
    only; default: four characters a token)."""
    from codeact.data.tokens import approx_counter

    if count is None:
        approx = approx_counter()
        count, tokenizer = approx.count, approx.name
    st = Stats(tokenizer=tokenizer)
    src: Counter[str] = Counter()
    stype: Counter[str] = Counter()
    kinds: Counter[str] = Counter()
    levels: Counter[str] = Counter()
    for rec in records:
        meta = rec.get("metadata") or {}
        st.records += 1
        src[str(meta.get("source") or "unknown")] += 1
        stype[str(meta.get("source_type") or "unknown")] += 1
        kinds[f"{meta.get('family') or '?'}/{meta.get('kind') or '?'}"] += 1
        st.recovered += bool(meta.get("recovered"))
        levels[str(meta.get("difficulty") or "-")] += 1
        n = assistant_turns(rec)
        st.turns.append(n)
        st.tokens.append(sum(count(str(m.get("content") or ""))
                             for m in rec.get("conversations") or []))
    st.by_source, st.by_source_type = dict(src.most_common()), dict(stype.most_common())
    st.by_kind = dict(sorted(kinds.items()))
    st.by_turns = dict(sorted(Counter(st.turns).items()))
    st.by_difficulty = dict(sorted(levels.items()))
    return st


def rich_tables(st: Stats) -> list[Any]:
    from rich.table import Table

    head = Table(title=f"{st.records} trajectories, {st.total_tokens} tokens "
                       f"({st.tokenizer}); {st.recovered} fix a failed cell")
    head.add_column("")
    for col in ("mean", "median", "p90", "min", "max"):
        head.add_column(col, justify="right")
    for label, values in (("assistant turns", st.turns), ("tokens", st.tokens)):
        s = st.summary(values)
        head.add_row(label, *(str(s[c]) for c in ("mean", "median", "p90", "min", "max")))
    by = Table(title="by source and kind")
    by.add_column("source / kind")
    by.add_column("records", justify="right")
    for name, n in st.by_source.items():
        by.add_row(f"[bold]{name}[/bold]", str(n))
    for name, n in st.by_kind.items():
        by.add_row(f"  {name}", str(n))
    turns = Table(title="by assistant turns")
    turns.add_column("turns", justify="right")
    turns.add_column("records", justify="right")
    for t, n in st.by_turns.items():
        turns.add_row(str(t), str(n))
    return [head, by, turns]


def plot(st: Stats, path: str | Path, title: str = "dataset") -> Path:
    """Histograms of assistant turns and tokens per trajectory, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4))
    if st.turns:
        lo, hi = min(st.turns), max(st.turns)
        a.hist(st.turns, bins=[x - 0.5 for x in range(lo, hi + 2)], color="#4c72b0")
    a.set_xlabel("assistant turns")
    a.set_ylabel("trajectories")
    b.hist(st.tokens or [0], bins=30, color="#dd8452")
    b.set_xlabel(f"tokens ({st.tokenizer})")
    fig.suptitle(f"{title}: {st.records} trajectories")
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out
