"""`codeact data sample`: N kept trajectories, every kind in turn, fixes first, with a card."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from codeact.cli import app
from codeact.data.sample import pick, write_sample


def rec(family: str, kind: str, i: int, recovered: bool = False) -> dict:
    conv = [{"role": "system", "content": "s"}, {"role": "user", "content": f"task {i}"},
            {"role": "assistant", "content": "<execute>\nprint(1)\n</execute>"},
            {"role": "user", "content": "Observation:\n1"},
            {"role": "assistant", "content": "<execute>\nfinal_answer(1)\n</execute>"}]
    return {"id": f"{family}/{kind}/s1-{i}/teacher/code-max10-s0", "conversations": conv,
            "metadata": {"source": family, "source_type": "generated", "family": family,
                         "kind": kind, "recovered": recovered, "difficulty": 1 + i % 3,
                         "prompt_name": "code", "prompt_sha256": "ab" * 32}}


RECORDS = ([rec("math", "units", i) for i in range(10)]
           + [rec("frames", "pivot", 10 + i, recovered=i == 7) for i in range(10)]
           + [rec("apis", "clinic", 20 + i) for i in range(2)])


def test_pick_spreads_over_kinds_and_puts_fixes_first() -> None:
    got = pick(RECORDS, 7, seed=1)
    kinds = [r["metadata"]["kind"] for r in got]
    assert kinds[:3] == ["clinic", "pivot", "units"]  # sorted family/kind, in turn
    assert kinds.count("clinic") == 2 and kinds.count("pivot") == 3
    assert next(r for r in got if r["metadata"]["kind"] == "pivot")["metadata"]["recovered"]
    assert pick(RECORDS, 7, seed=1) == got and pick(RECORDS, 7, seed=2) != got
    assert len(pick(RECORDS, 100)) == len(RECORDS)
    with pytest.raises(ValueError):
        pick(RECORDS, 0)


def _collection(tmp_path: Path, name: str = "collection", records=RECORDS, seed: int = 1,
                total: int = 40) -> Path:
    src = tmp_path / name
    src.mkdir()
    (src / "data.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    (src / "collection.json").write_text(json.dumps({
        "teacher": "qwen2.5-coder-7b", "sources": ["all"], "seed": seed, "samples": 2,
        "temperature": 0.7, "resample": 2,
        "decontamination": {"suites": {"builtin": 96}, "hits": []}}))
    (src / "filter_report.json").write_text(json.dumps({
        "total": total, "funnel": [{"rule": "solved", "remaining": len(records)}]}))
    return src


def test_write_sample_and_its_card(tmp_path: Path) -> None:
    info = write_sample(_collection(tmp_path), tmp_path / "examples" / "t", 5)
    out = tmp_path / "examples" / "t"
    lines = [json.loads(x) for x in (out / "data.jsonl").read_text().splitlines()]
    assert len(lines) == 5 and info == {"records": 5, "from": 22, "kinds": 3, "recovered": 1,
                                        "path": str(out / "data.jsonl")}
    assert all(set(r) == {"id", "conversations", "metadata"} for r in lines)
    card = (out / "README.md").read_text()
    for needle in ("This is a sample (5 of the 22 kept trajectories", "qwen2.5-coder-7b",
                   "| samples per task | 2 |", "| apis | generated | 2 |",
                   "| frames/pivot | 2 |", "| solved | 22 |",
                   "cell ran cleanly): 1 of 5.",
                   # counted with the teacher's tokenizer when it has one here (this one
                   # has none, and the card says so)
                   "approx: 4 chars/token (unknown model 'qwen2.5-coder-7b')"):
        assert needle in card, needle
    with pytest.raises(FileNotFoundError, match="codeact collect"):
        write_sample(tmp_path / "nowhere", tmp_path / "x")


def test_a_sample_of_several_collections_pools_them_and_names_each(tmp_path: Path) -> None:
    """Collections made in several runs (other seeds, temperatures) are one dataset: the
    sample draws from all of them, and its card shows each one's settings and funnel."""
    second = [rec("coding", "strings", 30 + i, recovered=True) for i in range(3)]
    first = _collection(tmp_path, "collect-r1")
    other = _collection(tmp_path, "collect-r2", second, seed=2, total=9)
    info = write_sample([first, other / "data.jsonl"], tmp_path / "ex", 8)
    assert info["from"] == 25 and info["records"] == 8 and info["kinds"] == 4
    card = (tmp_path / "ex" / "README.md").read_text()
    for needle in ("| setting | collect-r1 | collect-r2 |", "| seed | 1 | 2 |",
                   "| teacher | qwen2.5-coder-7b | qwen2.5-coder-7b |", "### collect-r1",
                   "### collect-r2", "Collected runs: 9.", "| solved | 3 |",
                   "collect-r2: Suites checked: builtin (96 tasks).",
                   "| coding | generated | 2 |", "the whole collections."):
        assert needle in card, needle
    with pytest.raises(FileNotFoundError, match="no data.jsonl"):
        write_sample([first, tmp_path / "missing"], tmp_path / "x")


def test_cli(tmp_path: Path) -> None:
    runner = CliRunner()
    res = runner.invoke(app, ["data", "sample", str(_collection(tmp_path)), "-o",
                              str(tmp_path / "ex"), "--n", "4"])
    assert res.exit_code == 0, res.output
    assert "wrote 4 of 22 trajectories (3 kinds" in res.output
    second = _collection(tmp_path, "second", [rec("coding", "strings", 40)])
    res = runner.invoke(app, ["data", "sample", str(_collection(tmp_path, "first")),
                              str(second), "-o", str(tmp_path / "ex2")])
    assert res.exit_code == 0 and "wrote 23 of 23 trajectories (4 kinds" in res.output
    res = runner.invoke(app, ["data", "sample", str(tmp_path / "missing")])
    assert res.exit_code == 2 and "no data.jsonl" in res.output


def test_the_shipped_sample_is_in_the_schema_and_its_card_counts_it() -> None:
    """examples/trajectories is what a user reads first: each record in the CodeActInstruct
    schema (system, task, then assistant and observation turns), solved runs only."""
    root = Path(__file__).resolve().parent.parent / "examples" / "trajectories"
    records = [json.loads(x) for x in (root / "data.jsonl").read_text().splitlines()]
    assert records and len({r["id"] for r in records}) == len(records)
    for rec in records:
        assert set(rec) == {"id", "conversations", "metadata"}
        roles = [m["role"] for m in rec["conversations"]]
        assert roles[:3] == ["system", "user", "assistant"]  # then turns, observations last
        assert all(a != b for a, b in zip(roles[1:], roles[2:], strict=False))  # alternate
        assert rec["metadata"]["family"] and rec["metadata"]["kind"]
    card = (root / "README.md").read_text()
    assert f"{len(records)} multi-turn trajectories" in card
