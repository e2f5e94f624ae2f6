"""The dataset card: a README.md next to the exported data.

Says what is in the data (counts by source, marked generated / jsonl / hf-dataset /
imported; by kind; by turns), token statistics with the teacher's tokenizer, the filters
and what each removed, decontamination, the teacher, its settings, the seed and prompt.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from codeact.data.stats import Stats


def _table(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |",
             "|" + "|".join("---" if i == 0 else "---:" for i in range(len(header))) + "|"]
    lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)


def _families(st: Stats) -> list[str]:
    """What each generator family in the data is, and its held-out kinds (never in a
    training split), as a table and a blank line; nothing when no family is present."""
    from codeact.data import generators

    rows = []
    for name in st.by_source:
        if name in generators.names():
            gen = generators.get(name)
            rows.append([name, gen.description, ", ".join(gen.heldout_kinds) or "-"])
    if not rows:
        return []
    return [_table(["family", "tasks", "held out (never trained on)"], rows), ""]


def _levels(value: Any) -> str:
    """The collection's --difficulty setting in words."""
    if value in (None, ""):
        return "all levels (1-3), drawn per task"
    if isinstance(value, list | tuple):
        return f"levels {', '.join(map(str, value))}, drawn per task"
    return str(value)


def prompts_in(records: Sequence[dict[str, Any]]) -> dict[str, str]:
    """Each system prompt the records were made with, by name: its SHA-256, or each one
    with its count when the prompt changed during a collection (resumed at another
    commit: it lists the installed packages and tools, which can change)."""
    seen: dict[str, dict[str, int]] = {}
    for rec in records:
        meta = rec.get("metadata") or {}
        if meta.get("prompt_name"):
            shas = seen.setdefault(str(meta["prompt_name"]), {})
            sha = str(meta.get("prompt_sha256") or "")
            shas[sha] = shas.get(sha, 0) + 1
    return {name: next(iter(shas)) if len(shas) == 1 else
            ", ".join(f"{sha} ({n} record{'' if n == 1 else 's'})" for sha, n in
                      sorted(shas.items(), key=lambda kv: -kv[1]))
            for name, shas in seen.items()}


def _settings(run: dict[str, Any]) -> list[list[Any]]:
    """One collection's settings as ``[name, value]`` rows."""
    return [
        ["teacher", run.get("teacher", "?")],
        ["sources", ", ".join(run.get("sources") or []) or "?"],
        ["seed", run.get("seed", "?")],
        ["split", run.get("split", "?")],
        ["tasks asked for (--n)", run.get("n", "?")],
        ["samples per task", run.get("samples", "?")],
        ["temperature", run.get("temperature", "?")],
        ["resample (retries of a repeated action)", run.get("resample", "?")],
        ["difficulty", _levels(run.get("difficulty"))],
        ["max turns", run.get("max_turns", "?")],
        ["action format", run.get("action_format", "code")],
    ]


def _funnel(report: dict[str, Any]) -> list[str]:
    if not report.get("funnel"):
        return []
    return [f"Collected runs: {report.get('total', '?')}.", "",
            _table(["after rule", "remaining"],
                   [[f["rule"], f["remaining"]] for f in report["funnel"]]), ""]


def _decontamination(run: dict[str, Any]) -> list[str]:
    dec = run.get("decontamination") or {}
    if not dec:
        return []
    checked = ", ".join(f"{k} ({v} tasks)" for k, v in (dec.get("suites") or {}).items())
    out = [f"Suites checked: {checked or 'none'}."]
    if dec.get("skipped"):
        out += [f"Suites that could not load (not checked): {', '.join(dec['skipped'])}."]
    return out + [f"Tasks dropped before collection: {len(dec.get('hits') or [])}."]


def render(st: Stats, *, run: dict[str, Any] | None = None,
           report: dict[str, Any] | None = None, filters: dict[str, Any] | None = None,
           prompts: dict[str, str] | None = None, files: dict[str, str] | None = None,
           title: str = "codeact trajectories",
           sample_of: tuple[int, str] | None = None,
           collections: Sequence[tuple[str, dict[str, Any], dict[str, Any]]] = ()) -> str:
    """The card's Markdown text. ``sample_of``: (kept trajectories, file) when the
    records are a sample of a bigger dataset (``codeact data sample``). ``collections``:
    ``(name, run, report)`` of each collection the records come from, when there are
    several (their settings side by side, a filter funnel and decontamination each);
    ``run`` and ``report`` are then ignored."""
    several = len(collections) > 1
    types: dict[str, str] = {}  # source -> generated / jsonl / ..., the collections' last
    for one in [run or {}, *(r for _, r, _ in collections)]:
        types.update(one.get("source_types") or {})
    if collections and not several:
        run, report = collections[0][1], collections[0][2]
    run = run or {}
    report = report or {}
    if several:
        names = [name for name, _, _ in collections]
        per_run = [_settings(r) for _, r, _ in collections]
        settings = _table(["setting", *names], [[row[0], *(rows[i][1] for rows in per_run)]
                                                for i, row in enumerate(per_run[0])])
    else:
        settings = _table(["setting", "value"], _settings(run))
    prompt_row = "; ".join(f"{k}: {v}" for k, v in (prompts or {}).items()) or "?"
    tok = st.summary(st.tokens)
    turns = st.summary(st.turns)
    size = "n<1K" if st.records < 1000 else ("1K<n<10K" if st.records < 10_000
                                             else "10K<n<100K")
    out = [
        "---",
        f"pretty_name: {title}",
        "tags: [codeact, agents, code-actions, multi-turn, synthetic]",
        f"size_categories: [{size}]",
        "---",
        f"# {title}",
        "",
        f"{st.records} multi-turn trajectories of a CodeAct agent (actions are Python in "
        "`<execute>`, answers by `final_answer(...)` in code or in `<solution>`, observations "
        "are user turns), in the "
        "CodeActInstruct schema: `{\"id\", \"conversations\": [{\"role\", \"content\"}], "
        "\"metadata\"}`. Made with `codeact collect` / `codeact data export`.",
        "",
        *([f"This is a sample ({st.records} of the {sample_of[0]} kept trajectories of "
           f"`{sample_of[1]}`), picked by `codeact data sample`: every source and kind in "
           "turn, trajectories that fix a failed cell first. The settings, filters and "
           "decontamination below are those of the whole "
           f"{'collections' if several else 'collection'}.", ""]
          if sample_of else []),
        "## Teacher and settings",
        "",
        settings,
        "",
        f"Prompt (name: sha256): {prompt_row}.",
        "",
        "## Contents",
        "",
        _table(["source", "type", "records"], [
            [s, types.get(s, ""), n] for s, n in st.by_source.items()]),
        "",
        *_families(st),
        _table(["kind", "records"], [[k, n] for k, n in st.by_kind.items()]),
        "",
        _table(["assistant turns", "records"], [[t, n] for t, n in st.by_turns.items()]),
        "",
        _table(["difficulty", "records"], [[t, n] for t, n in st.by_difficulty.items()]),
        "",
        f"Tokens (message contents, chat template not included), counted with "
        f"`{st.tokenizer}`: {st.total_tokens} in all; per trajectory mean {tok['mean']}, "
        f"median {tok['median']}, p90 {tok['p90']}, max {tok['max']}. Assistant turns per "
        f"trajectory: mean {turns['mean']}, median {turns['median']}, max {turns['max']}.",
        "",
        f"Trajectories that debug themselves (a code cell failed and a later cell ran "
        f"cleanly): {st.recovered} of {st.records}.",
        "",
        "## Filters",
        "",
    ]
    if filters:
        out += [_table(["filter", "setting"], [[k, v] for k, v in filters.items()]), ""]
    parts = collections if several else [("", run, report)]
    for name, _, one_report in parts:
        out += [f"### {name}", ""] if several else []
        out += _funnel(one_report)
        if one_report.get("repaired"):
            out += [f"Trajectories repaired (invalid turns cut out): "
                    f"{one_report['repaired']}.", ""]
    out += ["## Decontamination", "",
            "Tasks whose instruction shares a 13-gram (lower-cased, whitespace collapsed) "
            "with any instruction of an evaluation suite are dropped."]
    for name, one_run, one_report in parts:
        lines = _decontamination(one_run) + [
            f"Trajectories dropped at export: "
            f"{len(one_report.get('decontamination') or [])}."]
        out += ["", f"{name}: " + " ".join(lines) if several else "\n".join(lines)]
    out += ["", "See `decontamination.json` for each dropped task and the shared n-gram.",
            ""]
    if files:
        out += ["## Files", "", _table(["format", "path"], [[k, v] for k, v in files.items()]),
                ""]
    out += ["## Load", "", "```python", "from datasets import load_dataset",
            "ds = load_dataset(\"json\", data_files=\"data.jsonl\", split=\"train\")",
            "```", ""]
    return "\n".join(out)
