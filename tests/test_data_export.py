"""Published-schema records and the round trip through Hugging Face datasets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from codeact.data import export
from codeact.data.filters import Item

MSGS = [{"role": "system", "content": "sys"}, {"role": "user", "content": "task?"},
        {"role": "assistant", "content": "<execute>\nprint(1)\n</execute>"},
        {"role": "user", "content": "Observation:\n1\nYou have 4 turns left."},
        {"role": "assistant", "content": "<solution>1</solution>"}]


def raw(name: str = "math/units/s1-3@2", model: str = "Qwen/Qwen2.5-7B") -> dict:
    base, _, sample = name.partition("@")
    task_id = base.split("/")[-1]
    return {"task": name, "format": "code", "model": model, "success": True, "answer": "1",
            "task_metadata": {"source": "math", "source_type": "generated", "family": "math",
                              "kind": "units", "task_id": task_id, "seed": 1, "split": "train",
                              "difficulty": 2, "sample": int(sample), "base_task": base},
            "trajectory": {"messages": MSGS, "turns": [
                {"action": "code", "exec_ok": True, "prompt_tokens": 100,
                 "completion_tokens": 10},
                {"action": "solution", "prompt_tokens": 130, "completion_tokens": 5}]}}


def test_published_id_and_metadata() -> None:
    rec = export.to_published(Item.from_record(raw()), {"max_turns": 5, "temperature": 0.7})
    assert rec["id"] == "math/units/s1-3/Qwen__Qwen2.5-7B/code-max5-t0.7-s2"
    # greedy runs, or a run whose temperature is unknown, say none
    for run in ({"max_turns": 5, "temperature": 0.0}, {"max_turns": 5}):
        assert export.to_published(Item.from_record(raw()), run)["id"].endswith("code-max5-s2")
    assert rec["conversations"] == MSGS
    meta = rec["metadata"]
    assert set(meta) == set(export.METADATA_KEYS)
    assert meta["teacher"] == "Qwen/Qwen2.5-7B" and meta["temperature"] == 0.7
    assert meta["teacher_tokens"] == 135 and meta["assistant_turns"] == 2
    assert meta["task"] == "math/units/s1-3" and meta["sample"] == 2


def _records(n: int = 3) -> list[dict]:
    return [export.to_published(Item.from_record(raw(f"math/units/s1-{i}@0")))
            for i in range(n)]


@pytest.mark.parametrize("fmt,path", [("jsonl", "data.jsonl"), ("hf", "hf"),
                                      ("parquet", "data.parquet")])
def test_round_trip(tmp_path: Path, fmt: str, path: str) -> None:
    records = _records()
    files = export.write(records, tmp_path, (fmt,))
    assert files[fmt] == str(tmp_path / path)
    back = export.load(tmp_path / path)
    assert back == [{**r, "metadata": export.normalize_metadata(r["metadata"])}
                    for r in records]


def test_jsonl_loads_with_datasets(tmp_path: Path) -> None:
    from datasets import load_dataset

    export.write(_records(), tmp_path, ("jsonl",))
    ds = load_dataset("json", data_files=str(tmp_path / "data.jsonl"), split="train")
    assert ds.num_rows == 3 and ds[0]["conversations"][0]["role"] == "system"
    assert ds[1]["id"] == "math/units/s1-1/Qwen__Qwen2.5-7B/code-s0"


def test_bad_format_and_bad_line(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown export format"):
        export.write([], tmp_path, ("csv",))
    (tmp_path / "bad.jsonl").write_text('{"id": 1}\nnope\n')
    with pytest.raises(ValueError, match="line 2 is not JSON"):
        export.read_jsonl(tmp_path / "bad.jsonl")
    assert json.loads(json.dumps(export.normalize_metadata(None)))["teacher"] is None


def test_a_saved_dataset_dict_is_refused_clearly(tmp_path: Path) -> None:
    from datasets import Dataset, DatasetDict

    DatasetDict({"train": Dataset.from_list([{"id": "a"}])}).save_to_disk(str(tmp_path / "dd"))
    with pytest.raises(ValueError, match="holds DatasetDict, not one dataset of records"):
        export.load(tmp_path / "dd")
