"""Export kept trajectories in the published CodeActInstruct schema, and read them back.

One record per trajectory::

    {"id": "{task_type}/{task_name}/{task_id}/{model}/{setting}",
     "conversations": [{"role": "system" | "user" | "assistant", "content": "..."}],
     "metadata": {...}}

as in the published dataset (observations are user turns; a ``/`` in the model name
becomes ``__``), plus a ``metadata`` object with the same keys in every record
(:data:`METADATA_KEYS`), so the file loads as a typed Hugging Face dataset. Formats:
``jsonl``; ``hf`` (``datasets`` ``save_to_disk`` directory); ``parquet``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from codeact.data.filters import Item, has_recovery
from codeact.data.prompt import from_messages

FORMATS = ("jsonl", "hf", "parquet")
METADATA_KEYS = ("source", "source_type", "family", "kind", "task", "task_id", "seed",
                 "split", "difficulty", "sample", "teacher", "temperature", "max_turns",
                 "action_format", "prompt_name", "prompt_sha256", "assistant_turns",
                 "teacher_tokens", "repaired", "recovered", "answer")


def model_slug(model: str) -> str:
    """The model part of an id: ``/`` becomes ``__`` (as in the published ids)."""
    return str(model).replace("/", "__")


def setting_of(action_format: str, max_turns: Any, sample: Any,
               temperature: Any = None) -> str:
    """``code-max5-s0``: format, turn limit (left out when unknown), sampling temperature
    (``-t0.7``; left out when unknown or greedy), sample index. The temperature keeps apart
    the runs of two collections of one task seed at other temperatures, pooled."""
    limit = f"-max{max_turns}" if max_turns not in (None, "") else ""
    temp = _float_or_none(temperature)
    heat = f"-t{temp:g}" if temp else ""
    return f"{action_format}{limit}{heat}-s{sample}"


def teacher_tokens(record: dict[str, Any]) -> int:
    """The whole conversation's length as the teacher counted it: the last model call's
    prompt plus its reply (its chat template included)."""
    turns = (record.get("trajectory") or {}).get("turns") or []
    if not turns:
        return 0
    last = turns[-1]
    return int(last.get("prompt_tokens") or 0) + int(last.get("completion_tokens") or 0)


def to_published(item: Item, run: dict[str, Any] | None = None) -> dict[str, Any]:
    """One kept trajectory as a published-schema record. ``run``: the collection's
    settings (``temperature``, ``max_turns``) from its manifest."""
    run = run or {}
    rec = item.record
    meta = dict(rec.get("task_metadata") or {})
    traj = rec.get("trajectory") or {}
    fmt = rec.get("format") or traj.get("action_format") or "code"
    name = str(rec.get("task") or "")
    base = str(meta.get("base_task") or name.split("@")[0])
    parts = base.split("/")
    family = str(meta.get("family") or (parts[0] if parts else "task"))
    kind = str(meta.get("kind") or (parts[1] if len(parts) > 2 else family))
    task_id = str(meta.get("task_id") or parts[-1])
    sample = meta.get("sample", 0)
    model = str(rec.get("model") or traj.get("model") or "unknown")
    max_turns = run.get("max_turns", "")
    record_id = "/".join([family, kind, task_id, model_slug(model),
                          setting_of(fmt, max_turns, sample, run.get("temperature"))])
    conversations = [{"role": str(m.get("role")), "content": str(m.get("content") or "")}
                     for m in item.messages]
    metadata = {
        "source": str(meta.get("source") or family),
        "source_type": str(meta.get("source_type") or "generated"),
        "family": family,
        "kind": kind,
        "task": base,
        "task_id": task_id,
        "seed": _int_or_none(meta.get("seed")),
        "split": str(meta.get("split") or "train"),
        "difficulty": _int_or_none(meta.get("difficulty")),
        "sample": _int_or_none(sample),
        "teacher": model,
        "temperature": _float_or_none(run.get("temperature")),
        "max_turns": _int_or_none(max_turns),
        "action_format": fmt,
        **from_messages(fmt, item.messages),
        "assistant_turns": item.assistant_turns,
        "teacher_tokens": teacher_tokens(rec),
        "repaired": item.repaired,
        "recovered": has_recovery(item),
        "answer": str(rec.get("answer") or ""),
    }
    return {"id": record_id, "conversations": conversations, "metadata": metadata}


def _int_or_none(value: Any) -> int | None:
    try:
        return None if value is None or value == "" else int(value)
    except (TypeError, ValueError):
        return None


def _float_or_none(value: Any) -> float | None:
    try:
        return None if value is None or value == "" else float(value)
    except (TypeError, ValueError):
        return None


def normalize_metadata(meta: dict[str, Any] | None) -> dict[str, Any]:
    """Every :data:`METADATA_KEYS` key present (None where unknown), nothing else."""
    meta = meta or {}
    return {k: meta.get(k) for k in METADATA_KEYS}


def write_jsonl(records: Iterable[dict[str, Any]], path: str | Path) -> int:
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    with p.open("w", encoding="utf-8") as fh:
        for rec in records:
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
            n += 1
    return n


def read_jsonl(path: str | Path) -> list[dict[str, Any]]:
    """Records of a JSONL file; a clear error names a bad line."""
    out = []
    with Path(path).open(encoding="utf-8") as fh:
        for i, line in enumerate(fh):
            if not line.strip():
                continue
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}: line {i + 1} is not JSON: {exc.msg}") from None
    return out


def to_dataset(records: Sequence[dict[str, Any]]) -> Any:
    """A ``datasets.Dataset`` of published records (metadata normalised)."""
    try:
        from datasets import Dataset
    except ImportError:
        raise ImportError("Hugging Face export needs: pip install 'codeact[data]'") from None
    rows = [{"id": r["id"], "conversations": r["conversations"],
             "metadata": normalize_metadata(r.get("metadata"))} for r in records]
    return Dataset.from_list(rows)


def write(records: Sequence[dict[str, Any]], out_dir: str | Path,
          formats: Sequence[str] = ("jsonl",)) -> dict[str, str]:
    """Write ``records`` under ``out_dir`` in each format; {format: path}."""
    bad = [f for f in formats if f not in FORMATS]
    if bad:
        raise ValueError(f"unknown export format(s) {bad}; choose from {', '.join(FORMATS)}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {}
    if "jsonl" in formats:
        write_jsonl(records, out / "data.jsonl")
        paths["jsonl"] = str(out / "data.jsonl")
    if "hf" in formats or "parquet" in formats:
        ds = to_dataset(records)
        if "hf" in formats:
            ds.save_to_disk(str(out / "hf"))
            paths["hf"] = str(out / "hf")
        if "parquet" in formats:
            ds.to_parquet(str(out / "data.parquet"))
            paths["parquet"] = str(out / "data.parquet")
    return paths


def load(path: str | Path) -> list[dict[str, Any]]:
    """Published records from a JSONL file, a ``save_to_disk`` directory or Parquet."""
    p = Path(path)
    if p.is_dir() or p.suffix == ".parquet":
        try:
            from datasets import Dataset, load_from_disk
        except ImportError:
            raise ImportError("reading datasets needs: pip install 'codeact[data]'") from None
        ds = Dataset.from_parquet(str(p)) if p.suffix == ".parquet" else load_from_disk(str(p))
        if not isinstance(ds, Dataset):  # a DatasetDict (several splits) or a stream
            raise ValueError(f"{p} holds {type(ds).__name__}, not one dataset of records")
        return list(ds.to_list())
    return read_jsonl(p)
