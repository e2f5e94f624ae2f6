"""The results file: one JSON line per finished (task, format) run, and resume.

A line is written only when a run finishes (success, failure or a caught crash), flushed
and fsynced, so a killed run leaves at most one truncated last line. On resume that line
is cut off, finished runs (``status == "done"``) are skipped, and runs that ended in a
harness crash or an LLM/runtime error are run again. Later lines for the same
(task, format, model, prompt hash, ablations) supersede earlier ones.

Fields of a line (``schema`` 1)::

    schema, suite, task, domain, format, model, status ("done" | "error" | "crashed"),
    success, score, answer, expected, check_detail, turns, prompt_tokens,
    completion_tokens, total_tokens, wall_seconds, stop_reason, timed_out, error,
    finished_at, prompt (variant name), prompt_sha (12 hex digits of the prompt's SHA-256),
    ablate (what the run changed in the agent, sorted: mechanisms switched off,
    ``no_hint:NAME`` and ``+hint:NAME``; empty or absent: the default agent),
    trajectory (Trajectory.to_dict(), or null after a crash)
"""

from __future__ import annotations

import gzip
import json
import os
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

SCHEMA = 1


def key_of(record: dict[str, Any]) -> tuple[str, str, str, str, str]:
    """(task, format, model, prompt hash, ablations): runs that differ in any of them are
    different runs, so two models, two prompts or an ablation and the full agent can share
    one results file."""
    return (str(record.get("task")), str(record.get("format")), str(record.get("model") or ""),
            str(record.get("prompt_sha") or ""), ablate_label(record))


def ablate_label(record: dict[str, Any]) -> str:
    """The record's ablations as one comma-separated string ("": none, as in records
    written before ablations existed)."""
    return ",".join(sorted(str(a) for a in record.get("ablate") or ()))


def read_records(path: str | Path) -> list[dict[str, Any]]:
    """Every parseable line of a results file (a truncated or corrupt line is skipped);
    a ``.gz`` file is read compressed (results kept in the repository are)."""
    p = Path(path)
    if not p.exists():
        return []
    records = []
    opener = gzip.open if p.suffix == ".gz" else open
    with opener(p, "rt", encoding="utf-8", errors="replace") as fh:
        for line in fh:
            line = line.strip()
            if not line:
                continue
            try:
                data = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(data, dict) and "task" in data and "format" in data:
                records.append(data)
    return records


def latest(records: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The last record for each (task, format, model, prompt, ablations), in first-seen
    order."""
    by_key: dict[tuple[str, str, str, str, str], dict[str, Any]] = {}
    for rec in records:
        k = key_of(rec)
        by_key.pop(k, None)
        by_key[k] = rec
    return list(by_key.values())


def load_results(path: str | Path) -> list[dict[str, Any]]:
    """The effective results of a file: the latest record per (task, format, model,
    prompt)."""
    return latest(read_records(path))


def finished_keys(path: str | Path, *, model: str | None = None,
                  prompt_sha: str | None = None,
                  ablate: Iterable[str] | None = None) -> set[tuple[str, str]]:
    """(task, format) pairs that need no rerun for this model, prompt and ablations
    (None: any)."""
    want = None if ablate is None else ",".join(sorted(ablate))
    out = set()
    for r in load_results(path):
        if r.get("status") != "done":
            continue
        if model is not None and str(r.get("model") or "") != model:
            continue
        if prompt_sha is not None and r.get("format") == "code" and \
                str(r.get("prompt_sha") or "") != prompt_sha:
            continue
        if want is not None and ablate_label(r) != want:
            continue
        out.add((str(r.get("task")), str(r.get("format"))))
    return out


def repair_tail(path: str | Path) -> bool:
    """Cut a truncated last line (no trailing newline) off the file; True if one was cut."""
    p = Path(path)
    if not p.exists() or p.stat().st_size == 0:
        return False
    with p.open("rb+") as fh:
        fh.seek(0, os.SEEK_END)
        size = fh.tell()
        fh.seek(size - 1)
        if fh.read(1) == b"\n":
            return False
        # find the last newline
        pos = size - 1
        chunk = 4096
        cut = 0
        while pos > 0:
            start = max(0, pos - chunk)
            fh.seek(start)
            data = fh.read(pos - start)
            idx = data.rfind(b"\n")
            if idx >= 0:
                cut = start + idx + 1
                break
            pos = start
        fh.truncate(cut)
    return True


class ResultsWriter:
    """Appends records as JSON lines, thread-safe, one flushed and fsynced line each."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if self.path.parent and not self.path.parent.exists():
            self.path.parent.mkdir(parents=True, exist_ok=True)
        repair_tail(self.path)
        self._lock = threading.Lock()
        self._fh = self.path.open("a", encoding="utf-8")

    def write(self, record: dict[str, Any]) -> None:
        record.setdefault("schema", SCHEMA)
        line = json.dumps(record, ensure_ascii=False, default=str)
        with self._lock:
            self._fh.write(line + "\n")
            self._fh.flush()
            os.fsync(self._fh.fileno())

    def close(self) -> None:
        with self._lock:
            self._fh.close()

    def __enter__(self) -> ResultsWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
