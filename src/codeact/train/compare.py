"""``codeact train compare BASE TUNED``: both models on the same held-out agent tasks and
on a general check without tools, side by side with 95% confidence intervals.

Agent tasks: the generator families' held-out split (held-out seeds over every kind,
including the kinds never used for training) plus any bench suites (``builtin-quick`` by
default), run through the bench runner (results files resume). Per model: success rate,
valid-action rate (replies that parse as a code action or an answer) and average turns.
General check: plain questions with known answers (arithmetic generated from a seed, and
a shipped list of knowledge questions), asked without tools or a system prompt.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codeact.bench.report import wilson_interval
from codeact.errors import CodeactError
from codeact.train.general_check import GENERAL_FILE, general_items, run_general

VALID_ACTIONS = ("code", "code+solution", "code+final_answer", "tool_call", "solution")


@dataclass
class Rate:
    """k successes out of n, with a Wilson 95% interval."""

    k: int
    n: int

    @property
    def value(self) -> float:
        return self.k / self.n if self.n else 0.0

    @property
    def interval(self) -> tuple[float, float]:
        return wilson(self.k, self.n)

    def cell(self) -> str:
        lo, hi = self.interval
        return f"{100 * self.value:.1f}% [{100 * lo:.1f}, {100 * hi:.1f}] ({self.k}/{self.n})"

    def as_dict(self) -> dict[str, Any]:
        lo, hi = self.interval
        return {"k": self.k, "n": self.n, "rate": self.value, "ci95": [lo, hi]}


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval (sound at 0% and 100%); no runs at all leave the whole range
    open, where the bench report shows (0, 0)."""
    return (0.0, 1.0) if n == 0 else wilson_interval(k, n, z)


def diff_interval(a: Rate, b: Rate, z: float = 1.96) -> tuple[float, float, float]:
    """b − a with Newcombe's interval (from the two Wilson intervals)."""
    la, ua = a.interval
    lb, ub = b.interval
    d = b.value - a.value
    lo = d - z * math.sqrt((b.value - lb) ** 2 / z ** 2 + (ua - a.value) ** 2 / z ** 2)
    hi = d + z * math.sqrt((ub - b.value) ** 2 / z ** 2 + (a.value - la) ** 2 / z ** 2)
    return d, lo, hi


# --------------------------------------------------------------------------- agent tasks


def heldout_tasks(n: int, seed: int | None = None) -> list[Any]:
    """``n`` tasks from the held-out split of every generator family, spread evenly."""
    from codeact.data import generators

    seed = generators.HELDOUT_SEEDS.start if seed is None else seed
    families = [generators.get(name) for name in generators.names()]
    return generators.interleave(families, n, seed, split="heldout")


def agent_stats(records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Success rate, valid-action rate (over model turns) and average turns."""
    turns_total = valid = 0
    for rec in records:
        traj = rec.get("trajectory") or {}
        for turn in traj.get("turns", []):
            turns_total += 1
            valid += turn.get("action") in VALID_ACTIONS
    n = len(records)
    return {
        "success": Rate(sum(bool(r.get("success")) for r in records), n),
        "valid_actions": Rate(valid, turns_total),
        "avg_turns": sum(r.get("turns", 0) for r in records) / n if n else 0.0,
        "errors": sum(r.get("status") in ("error", "crashed") for r in records),
    }


@dataclass
class CompareConfig:
    """Options of ``codeact train compare``."""

    out: Path
    n_heldout: int = 100
    suites: tuple[str, ...] = ("builtin-quick",)
    n_arithmetic: int = 30
    max_turns: int = 5
    max_new_tokens: int = 512
    exec_timeout: float = 30.0
    sandbox: str = "bwrap"
    heldout_seed: int | None = None
    progress: bool = True


class SettingsMismatch(CodeactError, ValueError):
    """An --out directory holds runs made with other settings or another model file."""


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def model_fingerprint(spec: str) -> dict[str, Any]:
    """What identifies a model's weights: the SHA-256 of a file's bytes (of each file, for a
    checkpoint directory), so the same weights written again (a base re-exported on another
    machine, a copy elsewhere) resume their stored runs, and a retrained file never does;
    a spec that is no path (a registry name) stands for itself."""
    path = Path(spec).expanduser()
    if path.is_file():
        return {"sha256": _file_sha256(path), "size": path.stat().st_size}
    if path.is_dir():
        return {"files": {f.name: _file_sha256(f) for f in sorted(path.iterdir())
                          if f.is_file()}}
    return {"spec": spec}


# Parts of the package a compared run does not go through: changing them must not make
# stored runs of an unchanged agent look stale.
_NOT_IN_A_RUN = ("server", "notebook", "mcp", "cli", "train")
_RUN_FILES = (".py", ".md", ".txt", ".json", ".jsonl", ".yaml", ".j2")


def agent_code_fingerprint(root: Path | None = None) -> str:
    """A digest of the code and prompts an agent run goes through (agent loop, hints,
    prompts, runtime, backends, tasks and graders): base runs stored at one commit and tuned
    runs at another would compare two agents, not two models. The general check and its
    questions are included; training code, this module's tables, the server and the CLI
    are not."""
    root = root or Path(__file__).resolve().parent.parent
    digest = hashlib.sha256()
    train = Path(__file__).resolve().parent
    own = {train / "general_check.py", train / "prompts" / GENERAL_FILE}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if (not path.is_file() or path.suffix not in _RUN_FILES or "__pycache__" in rel.parts
                or (rel.parts[0] in _NOT_IN_A_RUN and path.resolve() not in own)):
            continue
        digest.update(rel.as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def _where(spec: str) -> str:
    path = Path(spec).expanduser()
    return str(path.resolve()) if path.exists() else spec


# Recorded for a reader, not compared: where the model file lay when its runs were made.
_INFORMATION_ONLY = ("model_path",)


def run_settings(cfg: CompareConfig, model_spec: str) -> dict[str, Any]:
    """The settings a model's stored runs depend on (task count and suites do not: extra
    tasks are simply run, fewer are filtered), the agent's own code among them."""
    return {"model": model_fingerprint(model_spec), "model_path": _where(model_spec),
            "max_turns": cfg.max_turns,
            "max_new_tokens": cfg.max_new_tokens, "exec_timeout": cfg.exec_timeout,
            "sandbox": cfg.sandbox, "agent_code": agent_code_fingerprint()}


def claim_results(out: Path, label: str, settings: dict[str, Any]) -> None:
    """Record ``settings`` beside ``label``'s results, or refuse to resume runs that were
    made with different ones (reusing them would mix two experiments silently)."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{label}.settings.json"
    stored: dict[str, Any] | None = None
    if path.is_file():
        try:
            stored = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            stored = None
    has_runs = any((out / f"{label}.{kind}.jsonl").is_file() for kind in ("tasks", "general"))
    changed = sorted(k for k in set(stored or {}) | set(settings)
                     if k not in _INFORMATION_ONLY and (stored or {}).get(k) != settings.get(k))
    if stored is not None and changed and has_runs:
        raise SettingsMismatch(
            f"{out} already holds {label} runs made with other settings ({', '.join(changed)}"
            f" changed; see {path}); pass another --out, or delete {out} to start again")
    if stored is None and has_runs:
        raise SettingsMismatch(
            f"{out} holds {label} runs without a record of their settings; pass another "
            f"--out, or delete {out} to start again")
    path.write_text(json.dumps(settings, indent=1) + "\n", encoding="utf-8")


def run_model(label: str, llm: Any, cfg: CompareConfig, tasks: list[Any],
              model_spec: str | None = None) -> dict[str, Any]:
    """Agent tasks and the general check for one model; results files live in cfg.out
    and resume when the model and its settings are the ones they were made with."""
    from codeact.bench.results import load_results
    from codeact.bench.runner import RunConfig, run_suite

    out = cfg.out
    claim_results(out, label, run_settings(cfg, model_spec or getattr(llm, "name", label)))
    results = out / f"{label}.tasks.jsonl"
    run_cfg = RunConfig(formats=["code"], max_turns=cfg.max_turns, sandbox=cfg.sandbox,
                        exec_timeout=cfg.exec_timeout, max_new_tokens=cfg.max_new_tokens,
                        suite="train-compare")
    run_suite(tasks, llm, run_cfg, results, progress=cfg.progress)
    names = {t.name for t in tasks}
    records = [r for r in load_results(results) if r.get("task") in names]
    general_file = out / f"{label}.general.jsonl"
    items = general_items(cfg.n_arithmetic)
    if general_file.is_file() and len(general_file.read_text().splitlines()) == len(items):
        general = [json.loads(x) for x in general_file.read_text().splitlines()]
    else:
        general = run_general(llm, items)
        general_file.write_text("".join(json.dumps(g) + "\n" for g in general))
    by_name = {t.name: t for t in tasks}
    split = {name: t.metadata.get("split") for name, t in by_name.items()}
    heldout = [r for r in records if split.get(r["task"]) == "heldout"]
    suites = [r for r in records if split.get(r["task"]) != "heldout"]
    unseen = [r for r in heldout if by_name[r["task"]].metadata.get("unseen_kind")]
    suite_of = {name: t.metadata.get(SUITE_KEY) for name, t in by_name.items()}
    per_suite = {spec: agent_stats([r for r in suites if suite_of.get(r["task"]) == spec])
                 for spec in dict.fromkeys(v for v in suite_of.values() if v)}
    return {
        "model": getattr(llm, "name", label),
        "heldout": agent_stats(heldout),
        "unseen_kinds": agent_stats(unseen),
        "suites": agent_stats(suites),
        "per_suite": per_suite,
        "all_tasks": agent_stats(records),
        "general": Rate(sum(g["correct"] for g in general), len(general)),
    }


def load_tasks(cfg: CompareConfig) -> list[Any]:
    from codeact.bench.suites import load_suite

    tasks = heldout_tasks(cfg.n_heldout, cfg.heldout_seed) if cfg.n_heldout else []
    for spec in cfg.suites:
        for task in load_suite(spec):
            task.metadata[SUITE_KEY] = spec  # each suite is also reported on its own
            tasks.append(task)
    if not tasks:
        raise ValueError("no tasks to compare on (--heldout 0 and no --suite)")
    return tasks


SUITE_KEY = "compare_suite"
ROWS = (
    ("held-out tasks: success", "heldout", "success"),
    ("held-out tasks: valid actions", "heldout", "valid_actions"),
    ("held-out tasks: avg turns", "heldout", "avg_turns"),
    ("  unseen kinds: success", "unseen_kinds", "success"),
    ("suites: success", "suites", "success"),
    ("suites: valid actions", "suites", "valid_actions"),
    ("suites: avg turns", "suites", "avg_turns"),
    ("general check (no tools)", "general", None),
)


def metrics(base: dict[str, Any]) -> list[tuple[str, str | tuple[str, str], str | None]]:
    """The table's rows as (label, group, key): :data:`ROWS`, with each suite's success
    after the suites' rows when there are several (``builtin-quick`` and
    ``thirdparty-quick`` have a target each)."""
    suites = list(base.get("per_suite") or {})
    extra = [(f"  {spec}: success", ("per_suite", spec), "success") for spec in suites] \
        if len(suites) > 1 else []
    out: list[tuple[str, str | tuple[str, str], str | None]] = []
    for row in ROWS:
        out.append(row)
        if row[1:] == ("suites", "success"):
            out += extra
    return out


def _value(res: dict[str, Any], group: str | tuple[str, str], key: str | None) -> Any:
    part = res[group[0]].get(group[1], {}) if isinstance(group, tuple) else res[group]
    return part if key is None else part.get(key, Rate(0, 0))


def table_rows(base: dict[str, Any], tuned: dict[str, Any]) -> list[list[str]]:
    """Rows of (metric, base, tuned, difference with its interval)."""
    rows = []
    for label, group, key in metrics(base):
        a, b = _value(base, group, key), _value(tuned, group, key)
        if isinstance(a, Rate):
            if a.n == 0 and b.n == 0:
                continue
            d, lo, hi = diff_interval(a, b)
            rows.append([label, a.cell(), b.cell(),
                         f"{100 * d:+.1f} [{100 * lo:+.1f}, {100 * hi:+.1f}]"])
        else:
            rows.append([label, f"{a:.2f}", f"{b:.2f}", f"{b - a:+.2f}"])
    return rows


def side_rows(res: dict[str, Any]) -> list[list[str]]:
    """Rows of (metric, value) for one model: what ``--only`` prints before the other
    side has run."""
    rows = []
    for label, group, key in metrics(res):
        if not _value(res, group, key if key != "avg_turns" else "success").n:
            continue  # a group without runs (no --suite, say)
        value = _value(res, group, key)
        rows.append([label, value.cell() if isinstance(value, Rate) else f"{value:.2f}"])
    return rows


def markdown(rows: list[list[str]], base_name: str, tuned_name: str) -> str:
    head = f"| metric | {base_name} | {tuned_name} | difference (points, 95% CI) |"
    lines = [head, "|---|---|---|---|"] + ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def plot(base: dict[str, Any], tuned: dict[str, Any], path: Path, names: tuple[str, str]
         ) -> Path:
    """Grouped bars of the rates with their 95% intervals."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = [(label.strip(), group, key) for label, group, key in metrics(base)
             if key != "avg_turns"]
    shown = [m for m in shown if _rate(base, m).n or _rate(tuned, m).n]
    fig, ax = plt.subplots(figsize=(max(6, 1.3 * len(shown)), 4), dpi=120)
    width = 0.38
    for j, (res, name) in enumerate(((base, names[0]), (tuned, names[1]))):
        rates = [_rate(res, m) for m in shown]
        xs = [i + (j - 0.5) * width for i in range(len(shown))]
        vals = [100 * r.value for r in rates]
        errs = [[max(0.0, 100 * (r.value - r.interval[0])) for r in rates],
                [max(0.0, 100 * (r.interval[1] - r.value)) for r in rates]]
        ax.bar(xs, vals, width, yerr=errs, capsize=3, label=name)
    ax.set_xticks(range(len(shown)))
    ax.set_xticklabels([m[0] for m in shown], rotation=20, ha="right", fontsize=8)
    ax.set_ylabel("% (95% CI)")
    ax.set_ylim(0, 105)
    ax.legend()
    ax.set_title("codeact train compare")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def _rate(res: dict[str, Any], metric: tuple[str, str | tuple[str, str], str | None]
          ) -> Rate:
    _, group, key = metric
    return _value(res, group, key)


def to_json(res: dict[str, Any]) -> dict[str, Any]:
    def conv(v: Any) -> Any:
        if isinstance(v, Rate):
            return v.as_dict()
        if isinstance(v, dict):
            return {k: conv(x) for k, x in v.items()}
        return v

    return conv(res)
