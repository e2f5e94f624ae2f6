"""Raw records → a dataset directory with card and reports."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from codeact.data.build import build, read_manifest
from codeact.data.filters import FilterConfig

MSGS = [{"role": "system", "content": "sys"}, {"role": "user", "content": "what?"},
        {"role": "assistant", "content": "<execute>\nprint(1)\n</execute>"},
        {"role": "user", "content": "Observation:\n1"},
        {"role": "assistant", "content": "<execute>\nprint(2)\n</execute>"},
        {"role": "user", "content": "Observation:\n2"},
        {"role": "assistant", "content": "<solution>2</solution>"}]
TURNS = [{"action": "code", "exec_ok": True}, {"action": "code", "exec_ok": True},
         {"action": "solution", "prompt_tokens": 50, "completion_tokens": 5}]


def test_build_writes_everything(tmp_path: Path) -> None:
    raw = tmp_path / "raw.jsonl"
    rows = [{"task": f"x/{i}@0", "format": "code", "status": "done", "success": i != 1,
             "model": "t", "trajectory": {"messages": MSGS[:1] + [
                 {"role": "user", "content": f"what {i}?"}] + MSGS[2:], "turns": TURNS}}
            for i in range(3)]
    raw.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    (tmp_path / "collection.json").write_text(json.dumps({"teacher": "t", "max_turns": 5}))
    assert read_manifest(tmp_path)["teacher"] == "t"
    res = build(raw, tmp_path / "out", FilterConfig(decontaminate=False),
                formats=("jsonl", "parquet"))
    assert [r["id"] for r in res.records] == ["x/x/0/t/code-max5-s0", "x/x/2/t/code-max5-s0"]
    out = tmp_path / "out"
    for name in ("data.jsonl", "data.parquet", "README.md", "filter_report.json",
                 "decontamination.json"):
        assert (out / name).exists(), name
    report = json.loads((out / "filter_report.json").read_text())
    assert report["dropped"]["solved"] == ["x/1@0"]
    assert "| teacher | t |" in (out / "README.md").read_text()
    assert read_manifest(out) == {"teacher": "t", "max_turns": 5}  # travels with the export


def test_missing_raw(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no such file"):
        build(tmp_path / "nope.jsonl", tmp_path / "o", FilterConfig())
    assert read_manifest(tmp_path) == {}
