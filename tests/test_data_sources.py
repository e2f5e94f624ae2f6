"""Extra task sources (JSONL, a local datasets dataset) and samples."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from codeact.data.sources import SourceError, SourceSpec, load_hf_tasks, load_jsonl_tasks


def _jsonl(path: Path, rows: list) -> Path:
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return path


def test_jsonl_source(tmp_path: Path) -> None:
    src = _jsonl(tmp_path / "extra.jsonl", [
        {"instruction": "Capital of France?", "expected": "Paris", "checker": "contains"},
        {"id": "q2", "instruction": "2+2?", "expected": 4},
        {"instruction": "Read notes.txt", "expected": "hi", "files": {"notes.txt": "hi"}},
    ])
    tasks = load_jsonl_tasks(src)
    assert [t.name for t in tasks] == ["extra/0", "extra/q2", "extra/2"]
    assert tasks[0].check("It is Paris.").success and not tasks[0].check("Rome").success
    assert tasks[1].check("4").success and not tasks[1].check("5").success
    assert tasks[0].metadata["source_type"] == "jsonl"
    assert tasks[0].metadata["source"] == "extra.jsonl"
    assert tasks[2].write_files(tmp_path / "ws") == ["notes.txt"]


@pytest.mark.parametrize("rows,message", [
    ([{"expected": 1}], "no 'instruction'"),
    ([{"instruction": "x"}], "no 'expected'"),
    ([{"instruction": "x", "expected": 1, "checker": "magic"}], "unknown checker"),
])
def test_bad_jsonl_lines_are_named(tmp_path: Path, rows: list, message: str) -> None:
    with pytest.raises(SourceError, match=message):
        load_jsonl_tasks(_jsonl(tmp_path / "bad.jsonl", rows))


def test_not_json(tmp_path: Path) -> None:
    (tmp_path / "bad.jsonl").write_text("{oops\n")
    with pytest.raises(SourceError, match="line 1 is not JSON"):
        load_jsonl_tasks(tmp_path / "bad.jsonl")


def test_hf_dataset_source(tmp_path: Path) -> None:
    from datasets import Dataset

    Dataset.from_list([{"instruction": "Largest prime below 20?", "expected": "19",
                        "checker": "number"},
                       {"instruction": "Spell cat backwards", "expected": "tac",
                        "checker": "text"}]).save_to_disk(str(tmp_path / "ds"))
    tasks = load_hf_tasks(tmp_path / "ds")
    assert len(tasks) == 2 and tasks[0].metadata["source_type"] == "hf-dataset"
    assert tasks[0].check("19").success and tasks[1].check("TAC").success
    spec = SourceSpec(sources=[f"hf-disk:{tmp_path / 'ds'}"], n=5, seed=1)
    assert [t.instruction for t in spec()] == [t.instruction for t in tasks]
    with pytest.raises(SourceError, match="cannot load the dataset"):
        load_hf_tasks(tmp_path / "missing")


def test_spec_mixes_generated_and_extra_and_samples(tmp_path: Path) -> None:
    src = _jsonl(tmp_path / "x.jsonl", [{"instruction": "a?", "expected": 1}])
    spec = SourceSpec(sources=[str(src), "math"], n=3, seed=2, samples=2)
    tasks = spec()
    assert [t.name for t in tasks] == ["x/0@0", "x/0@1", "math/number_theory/s2-0@0",
                                       "math/number_theory/s2-0@1",
                                       "math/combinatorics/s2-1@0",
                                       "math/combinatorics/s2-1@1"]
    assert tasks[1].metadata["sample"] == 1 and tasks[1].metadata["base_task"] == "x/0"
    assert tasks[2].expected == tasks[3].expected
    import pickle

    assert [t.name for t in pickle.loads(pickle.dumps(spec))()] == [t.name for t in tasks]
