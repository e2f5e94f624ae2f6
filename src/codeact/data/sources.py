"""Where collection tasks come from: generator families, or extra task files.

``--source`` takes a comma-separated list of

- a registered generator family (``math``, ``files``, ``coding``, ``tools``, ``frames``,
  ``apis``) or ``all``;
- a JSONL file of ``{"instruction", "expected"}`` lines, with optional ``"checker"`` (a
  name from :mod:`codeact.data.checkers`), ``"id"`` and ``"files"`` ({path: text});
- a local Hugging Face ``datasets`` dataset (a directory written by ``save_to_disk``, or
  ``hf-disk:DIR``) with the same columns.

Extra sources are marked ``source_type`` ``jsonl`` / ``hf-dataset`` in each record and in
the data card. Their tasks are taken in file order (the seed does not reshuffle them).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codeact.bench.task import Task
from codeact.data import generators
from codeact.data.checkers import make_checker
from codeact.errors import CodeactError


class SourceError(CodeactError, ValueError):
    """A source could not be read; the message says which and why."""


def _task_from_row(row: dict[str, Any], *, source: str, source_type: str, index: int) -> Task:
    if not isinstance(row, dict) or not str(row.get("instruction") or "").strip():
        raise SourceError(f"{source}: item {index + 1} has no 'instruction'")
    if "expected" not in row:
        raise SourceError(f"{source}: item {index + 1} has no 'expected'")
    expected = row["expected"]
    try:
        checker = make_checker(row.get("checker"), expected)
    except ValueError as exc:
        raise SourceError(f"{source}: item {index + 1}: {exc}") from None
    task_id = str(row.get("id") or index)
    stem = Path(source).stem or "extra"
    files = row.get("files") or None
    if files is not None and not isinstance(files, dict):
        raise SourceError(f"{source}: item {index + 1}: 'files' must map paths to text")
    return Task(name=f"{stem}/{task_id}", instruction=str(row["instruction"]),
                domain=stem, expected=expected, checker=checker, files=files,
                metadata={"source": Path(source).name, "source_path": source,
                          "source_type": source_type, "family": stem,
                          "kind": str(row.get("kind") or source_type), "task_id": task_id,
                          "seed": None, "index": index, "difficulty": None,
                          "split": "train", "unseen_kind": False,
                          "checker": row.get("checker") or "match"})


def load_jsonl_tasks(path: str | Path) -> list[Task]:
    p = Path(path)
    tasks = []
    with p.open(encoding="utf-8") as fh:
        for i, line in enumerate(fh):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise SourceError(f"{p}: line {i + 1} is not JSON: {exc.msg}") from None
            tasks.append(_task_from_row(row, source=str(p), source_type="jsonl",
                                        index=len(tasks)))
    return tasks


def load_hf_tasks(path: str | Path) -> list[Task]:
    try:
        from datasets import Dataset, DatasetDict, load_from_disk
    except ImportError:
        raise SourceError("a datasets source needs: pip install 'codeact[data]'") from None
    try:
        ds: Any = load_from_disk(str(path))
    except Exception as exc:
        raise SourceError(f"cannot load the dataset at {path}: {exc}") from None
    if isinstance(ds, DatasetDict):
        ds = ds["train"] if "train" in ds else next(iter(ds.values()))
    assert isinstance(ds, Dataset)
    rows = ds.to_list()
    return [_task_from_row(r, source=str(path), source_type="hf-dataset", index=i)
            for i, r in enumerate(rows)]


def check_source(name: str) -> None:
    """Raise :class:`SourceError` unless ``name`` is a generator, a file or a dataset."""
    if name in generators.names():
        return
    path = Path(name.removeprefix("hf-disk:"))
    if name.startswith("hf-disk:") and not path.is_dir():
        raise SourceError(f"no dataset directory at {path}")
    if not path.exists():
        raise SourceError(f"unknown source {name!r}: not a generator "
                          f"({', '.join(generators.names())}), a .jsonl file or a "
                          "datasets directory")


@dataclass
class SourceSpec:
    """A picklable recipe for a collection's tasks (the Ray backend rebuilds them)."""

    sources: list[str]
    n: int
    seed: int
    split: str = "train"
    difficulty: generators.Difficulty = None
    samples: int = 1

    def base_tasks(self) -> list[Task]:
        """The tasks before sampling: generator families interleaved, then extra
        sources in order, the whole list cut to ``n``."""
        fams = []
        extra: list[Task] = []
        for name in self.sources:
            if name.startswith("hf-disk:"):
                extra += load_hf_tasks(name.removeprefix("hf-disk:"))
            elif name.endswith(".jsonl") or (Path(name).is_file() and name not in
                                               generators.names()):
                extra += load_jsonl_tasks(name)
            elif Path(name).is_dir():
                extra += load_hf_tasks(name)
            else:
                fams.append(generators.get(name))
        if fams and extra:  # share n between generated and extra tasks, extra first
            tasks = extra[:self.n]
            tasks += generators.interleave(fams, self.n - len(tasks), self.seed,
                                           split=self.split, difficulty=self.difficulty)
        elif fams:
            tasks = generators.interleave(fams, self.n, self.seed, split=self.split,
                                          difficulty=self.difficulty)
        else:
            tasks = extra[:self.n]
        return tasks

    def __call__(self) -> list[Task]:
        """The tasks to run: each base task ``samples`` times (``name@k``)."""
        return with_samples(self.base_tasks(), self.samples)


def with_samples(tasks: list[Task], samples: int) -> list[Task]:
    """K copies of each task named ``NAME@k`` (k from 0), sharing its checker and tools.
    Each copy's agent samples with its own seed (``agent_seed``): backends that honour a
    seed (llama.cpp, vLLM, OpenAI) would otherwise draw the same run K times."""
    import dataclasses

    out = []
    for t in tasks:
        for k in range(samples):
            meta = {**t.metadata, "sample": k, "base_task": t.name, "agent_seed": 7919 * k}
            out.append(dataclasses.replace(t, name=f"{t.name}@{k}", metadata=meta))
    return out
