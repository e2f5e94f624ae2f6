"""Reports from results files: numbers, a rich table, Markdown, a PNG chart, comparisons.

Columns: solved/runs, success rate, and per-run averages of turns, total tokens and wall
seconds. Every figure is computed over the latest record of each (task, format) in the file.
Runs that crashed or ended in an LLM/runtime error count as failures (and are shown in
the ``errors`` column), so a success rate is always out of all attempted runs.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codeact.actions import format_names
from codeact.bench.results import ablate_label, load_results
from codeact.trajectory import StopReason


@dataclass
class Stats:
    """Aggregates over a group of runs."""

    n: int = 0
    successes: int = 0
    errors: int = 0
    timeouts: int = 0
    at_limit: int = 0  # ended at the turn limit
    stuck: int = 0  # ended by stuck detection
    resampled: int = 0  # turns whose first reply repeated an action and was resampled
    by_agent: int = 0  # answers the agent submitted for the model (not its own call)
    turns: float = 0.0  # sums until finalised, then averages
    tokens: float = 0.0
    wall: float = 0.0

    def add(self, rec: dict[str, Any]) -> None:
        self.n += 1
        self.successes += bool(rec.get("success"))
        self.errors += rec.get("status") in ("error", "crashed")
        self.timeouts += bool(rec.get("timed_out"))
        self.at_limit += rec.get("stop_reason") == StopReason.MAX_TURNS
        self.stuck += rec.get("stop_reason") == StopReason.STUCK
        self.resampled += int(rec.get("resampled_turns") or 0)
        self.by_agent += bool(rec.get("submitted_by_agent"))
        self.turns += float(rec.get("turns") or 0)
        self.tokens += float(rec.get("total_tokens") or 0)
        self.wall += float(rec.get("wall_seconds") or 0)

    @property
    def success_rate(self) -> float:
        return self.successes / self.n if self.n else 0.0

    @property
    def interval(self) -> tuple[float, float]:
        """95% Wilson interval of the success rate."""
        return wilson_interval(self.successes, self.n)

    @property
    def avg_turns(self) -> float:
        return self.turns / self.n if self.n else 0.0

    @property
    def avg_tokens(self) -> float:
        return self.tokens / self.n if self.n else 0.0

    @property
    def avg_wall(self) -> float:
        return self.wall / self.n if self.n else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {"n": self.n, "successes": self.successes, "success_rate": self.success_rate,
                "avg_turns": self.avg_turns, "avg_tokens": self.avg_tokens,
                "avg_wall_seconds": self.avg_wall, "errors": self.errors,
                "timeouts": self.timeouts, "at_limit": self.at_limit, "stuck": self.stuck,
                "resampled_turns": self.resampled, "submitted_by_agent": self.by_agent,
                "success_ci95": list(self.interval)}


def wilson_interval(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval (95% by default): sound at small n and at 0% or 100%."""
    if n <= 0:
        return (0.0, 0.0)
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * ((p * (1 - p) / n + z * z / (4 * n * n)) ** 0.5) / denom
    # exact bounds at 0% and 100%: rounding would put 1.0 just outside (0.9999999999999999)
    return (0.0 if successes == 0 else max(0.0, centre - half),
            1.0 if successes == n else min(1.0, centre + half))


def _format_key(fmt: str) -> tuple[int, str]:
    """Formats in registration order (code, json, text, then any others), then by name."""
    order = format_names()
    base = fmt.split(" ", 1)[0]
    return (order.index(base) if base in order else len(order), fmt)


def group_label(rec: dict[str, Any], several_prompts: set[str]) -> str:
    """The format, plus the prompt variant and hash when a file holds several prompts for
    that format: ``code [default 1a2b3c]``, plus the ablations of an ablated run (its own
    row, never mixed with the full agent's): ``code -collapse``, ``code +hint:self_check``."""
    fmt = str(rec.get("format"))
    if fmt in several_prompts:
        name = Path(str(rec.get("prompt") or "?")).stem
        fmt = f"{fmt} [{name} {str(rec.get('prompt_sha') or '')[:6]}]".replace(" ]", "]")
    changes = [c if c.startswith("+") else f"-{c}" for c in ablate_label(rec).split(",") if c]
    return " ".join([fmt, *changes])


@dataclass
class Summary:
    """Per-format and per-(domain, format) statistics of one results file."""

    by_format: dict[str, Stats]
    by_domain: dict[tuple[str, str], Stats]
    models: list[str]

    @property
    def formats(self) -> list[str]:
        return sorted(self.by_format, key=_format_key)

    @property
    def domains(self) -> list[str]:
        return sorted({d for d, _ in self.by_domain})


def summarize(records: Iterable[dict[str, Any]]) -> Summary:
    """Statistics per format (per format and prompt when a file holds several prompts)."""
    records = list(records)
    prompts: dict[str, set[str]] = {}
    for rec in records:
        prompts.setdefault(str(rec.get("format")), set()).add(str(rec.get("prompt_sha") or ""))
    several = {fmt for fmt, shas in prompts.items() if len(shas) > 1}
    by_format: dict[str, Stats] = {}
    by_domain: dict[tuple[str, str], Stats] = {}
    models: list[str] = []
    for rec in records:
        fmt = group_label(rec, several)
        dom = str(rec.get("domain") or "general")
        by_format.setdefault(fmt, Stats()).add(rec)
        by_domain.setdefault((dom, fmt), Stats()).add(rec)
        model = rec.get("model")
        if model and model not in models:
            models.append(model)
    return Summary(by_format, by_domain, models)


def summarize_file(path: str | Path) -> Summary:
    return summarize(load_results(path))


def _rows(summary: Summary) -> list[tuple[str, str, Stats]]:
    rows = [("all", fmt, summary.by_format[fmt]) for fmt in summary.formats]
    for dom in summary.domains:
        for fmt in summary.formats:
            st = summary.by_domain.get((dom, fmt))
            if st is not None:
                rows.append((dom, fmt, st))
    return rows


HEADERS = ("domain", "format", "solved", "success", "95% CI", "turns", "tokens", "wall s",
           "limit", "stuck", "resampled", "by agent", "err")


def _cells(dom: str, fmt: str, st: Stats) -> list[str]:
    lo, hi = st.interval
    return [dom, fmt, f"{st.successes}/{st.n}", f"{100 * st.success_rate:.1f}%",
            f"{100 * lo:.0f}-{100 * hi:.0f}", f"{st.avg_turns:.2f}", f"{st.avg_tokens:.0f}",
            f"{st.avg_wall:.1f}", str(st.at_limit), str(st.stuck), str(st.resampled),
            str(st.by_agent), str(st.errors)]


def rich_table(summary: Summary, title: str = "Benchmark results"):
    from rich.markup import escape
    from rich.table import Table

    models = ", ".join(summary.models) or "?"
    table = Table(title=f"{title} — {models}")
    for h in HEADERS:
        table.add_column(h, justify="left" if h in ("domain", "format") else "right",
                         no_wrap=True, min_width=len(h))
    last = None
    for dom, fmt, st in _rows(summary):
        if last is not None and dom != last:
            table.add_section()
        # "code [v0 6a7ef6]" would otherwise be read as Rich markup and vanish
        table.add_row(*(escape(cell) for cell in _cells(dom, fmt, st)))
        last = dom
    return table


def markdown(summary: Summary, title: str = "Benchmark results") -> str:
    models = ", ".join(summary.models) or "?"
    lines = [f"# {title}", "", f"Model: {models}", "",
             "| " + " | ".join(HEADERS) + " |",
             "|" + "|".join(["---", "---"] + ["---:"] * (len(HEADERS) - 2)) + "|"]
    for dom, fmt, st in _rows(summary):
        lines.append("| " + " | ".join(_cells(dom, fmt, st)) + " |")
    if "humaneval" in summary.domains:
        lines += ["", "For `humaneval`, success is pass@1 (one sample per problem)."]
    return "\n".join(lines) + "\n"


def plot(summary: Summary, path: str | Path, title: str = "Benchmark results") -> Path:
    """A PNG with two bar charts: success rate and average turns, by format (and by
    domain when there are several domains)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    formats = summary.formats
    domains = summary.domains
    groups = ["all"] + (domains if len(domains) > 1 else [])
    fig, axes = plt.subplots(1, 2, figsize=(max(8, 1.6 * len(groups) + 4), 4.2))
    width = 0.8 / max(1, len(formats))
    for ax, metric, label in ((axes[0], "success_rate", "success rate (%)"),
                              (axes[1], "avg_turns", "average turns")):
        for i, fmt in enumerate(formats):
            values = []
            for g in groups:
                st = summary.by_format[fmt] if g == "all" else summary.by_domain.get((g, fmt))
                v = getattr(st, metric) if st is not None else 0.0
                values.append(100 * v if metric == "success_rate" else v)
            xs = [j + (i - (len(formats) - 1) / 2) * width for j in range(len(groups))]
            bars = ax.bar(xs, values, width, label=fmt)
            ax.bar_label(bars, fmt="%.0f" if metric == "success_rate" else "%.1f",
                         fontsize=7)
        ax.set_xticks(range(len(groups)), groups, rotation=30 if len(groups) > 3 else 0)
        ax.set_ylabel(label)
        if metric == "success_rate":
            ax.set_ylim(0, 105)
        ax.legend(title="format", fontsize=8)
    models = ", ".join(summary.models) or "?"
    fig.suptitle(f"{title} — {models}")
    fig.tight_layout()
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out


@dataclass
class CompareRow:
    group: str
    format: str
    a: Stats | None
    b: Stats | None
    common: int  # tasks present in both
    a_common: float  # success rate on common tasks
    b_common: float

    @property
    def delta(self) -> float:
        return self.b_common - self.a_common


def compare(records_a: Sequence[dict[str, Any]], records_b: Sequence[dict[str, Any]]
            ) -> list[CompareRow]:
    """Per format (overall, then per domain): each side's stats and the success rates on
    the tasks both files ran, so a partial run compares fairly."""
    sa, sb = summarize(records_a), summarize(records_b)
    ka = {(r["task"], r["format"]): r for r in records_a}
    kb = {(r["task"], r["format"]): r for r in records_b}
    common = set(ka) & set(kb)
    formats = sorted(set(sa.by_format) | set(sb.by_format), key=_format_key)
    domains = sorted({d for d, _ in sa.by_domain} | {d for d, _ in sb.by_domain})
    rows = []
    for group in ["all", *domains] if len(domains) > 1 else ["all"]:
        for fmt in formats:
            keys = [k for k in common if k[1] == fmt and
                    (group == "all" or (ka[k].get("domain") or "general") == group)]
            if group == "all":
                a, b = sa.by_format.get(fmt), sb.by_format.get(fmt)
            else:
                a, b = sa.by_domain.get((group, fmt)), sb.by_domain.get((group, fmt))
            if a is None and b is None:
                continue
            n = len(keys)
            rate_a = sum(bool(ka[k].get("success")) for k in keys) / n if n else 0.0
            rate_b = sum(bool(kb[k].get("success")) for k in keys) / n if n else 0.0
            rows.append(CompareRow(group, fmt, a, b, n, rate_a, rate_b))
    return rows


COMPARE_HEADERS = ("domain", "format", "runs A", "runs B", "common", "succ A", "succ B",
                   "Δ succ", "turns A", "turns B")


def _compare_cells(row: CompareRow) -> list[str]:
    def turns(st: Stats | None) -> str:
        return f"{st.avg_turns:.2f}" if st else "-"

    return [row.group, row.format, str(row.a.n if row.a else 0), str(row.b.n if row.b else 0),
            str(row.common), f"{100 * row.a_common:.1f}%", f"{100 * row.b_common:.1f}%",
            f"{100 * row.delta:+.1f}", turns(row.a), turns(row.b)]


def compare_table(rows: list[CompareRow], name_a: str, name_b: str):
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=escape(f"A = {name_a}   B = {name_b}   (success on tasks both ran)"))
    for h in COMPARE_HEADERS:
        table.add_column(h, justify="left" if h in ("domain", "format") else "right")
    for row in rows:
        table.add_row(*(escape(cell) for cell in _compare_cells(row)))
    return table


def compare_markdown(rows: list[CompareRow], name_a: str, name_b: str) -> str:
    lines = [f"A = `{name_a}`, B = `{name_b}` (success rates on the tasks both ran)", "",
             "| " + " | ".join(COMPARE_HEADERS) + " |",
             "|" + "|".join(["---", "---"] + ["---:"] * (len(COMPARE_HEADERS) - 2)) + "|"]
    for row in rows:
        lines.append("| " + " | ".join(_compare_cells(row)) + " |")
    return "\n".join(lines) + "\n"
