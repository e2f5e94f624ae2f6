"""`codeact collect` and `codeact data ...` through the real command line."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from codeact.cli import app

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, [str(a) for a in args])


def test_generate_prints_tasks(tmp_path: Path) -> None:
    res = invoke("data", "generate", "--source", "math,tools", "--n", "4", "--seed", "3")
    assert res.exit_code == 0, res.output
    lines = [json.loads(x) for x in res.output.splitlines() if x.startswith("{")]
    assert [x["name"].split("/")[0] for x in lines] == ["math", "tools", "math", "tools"]
    assert lines[1]["tools"] and lines[0]["expected"] is not None
    out = tmp_path / "held.jsonl"
    res = invoke("data", "generate", "--split", "heldout", "--seed", "1000000", "--n", "8",
                 "-o", out)
    assert res.exit_code == 0 and len(out.read_text().splitlines()) == 8
    res = invoke("data", "generate", "--source", "frames,apis", "--n", "12", "--difficulty",
                 "2-3")
    lines = [json.loads(x) for x in res.output.splitlines() if x.startswith("{")]
    assert res.exit_code == 0 and {x["difficulty"] for x in lines} <= {2, 3}
    assert any(x["files"] for x in lines) and any(x["tools"] for x in lines)
    res = invoke("data", "generate", "--difficulty", "hard")
    assert res.exit_code == 2 and "level" in res.output


def test_collect_rejects_bad_options() -> None:
    for args, message in (
        (["--samples", "2"], "temperature"),
        (["--seed", "1000001"], "held-out range"),
        (["--split", "heldout", "--seed", "3"], "held-out seeds"),
        (["--source", "nope"], "unknown source 'nope'"),
        (["--repair", "--keep-invalid"], "exclude each other"),
        (["--format", "csv"], "--format"),
        (["--difficulty", "4"], "levels are 1, 2 and 3"),
    ):
        res = invoke("collect", "--model", "/nonexistent/model.gguf", *args)
        assert res.exit_code == 2, (args, res.output)
        assert message in res.output, (args, res.output)
    res = invoke("collect", "--model", "/nonexistent/model.gguf", "--n", "1")
    assert res.exit_code == 2 and "cannot load model" in res.output


def _dataset(tmp_path: Path) -> Path:
    msgs = [{"role": "system", "content": "s"}, {"role": "user", "content": "q?"},
            {"role": "assistant", "content": "<execute>\nprint(1)\n</execute>"},
            {"role": "user", "content": "Observation:\n1"},
            {"role": "assistant", "content": "<execute>\nprint(2)\n</execute>"},
            {"role": "user", "content": "Observation:\n2"},
            {"role": "assistant", "content": "<solution>2</solution>"}]
    raw = tmp_path / "run" / "raw.jsonl"
    raw.parent.mkdir()
    turns = [{"action": "code", "exec_ok": True}] * 2 + [{"action": "solution"}]
    raw.write_text(json.dumps({"task": "t/1@0", "format": "code", "status": "done",
                               "success": True, "model": "m",
                               "trajectory": {"messages": msgs, "turns": turns}}) + "\n")
    return raw


def test_export_stats_show(tmp_path: Path) -> None:
    raw = _dataset(tmp_path)
    res = invoke("data", "export", raw.parent, "-o", tmp_path / "ds", "--format",
                 "jsonl,hf", "--no-decontaminate")
    assert res.exit_code == 0, res.output
    assert "kept 1 trajectories" in res.output and (tmp_path / "ds" / "hf").is_dir()
    res = invoke("data", "stats", tmp_path / "ds", "--plot", tmp_path / "h.png")
    assert res.exit_code == 0, res.output
    assert "1 trajectories" in res.output and (tmp_path / "h.png").exists()
    res = invoke("data", "stats", tmp_path / "ds" / "hf")
    assert res.exit_code == 0 and "1 trajectories" in res.output
    res = invoke("data", "show", tmp_path / "ds" / "data.jsonl", "t/1")
    assert res.exit_code == 0, res.output
    assert "print(2)" in res.output and "turn 3" in res.output
    res = invoke("data", "show", raw)  # a raw file works too
    assert res.exit_code == 0 and "print(1)" in res.output
    res = invoke("data", "show", tmp_path / "ds" / "data.jsonl", "zzz")
    assert res.exit_code == 2 and "no record id contains" in res.output
    res = invoke("data", "export", tmp_path / "missing.jsonl", "-o", tmp_path / "x")
    assert res.exit_code == 2 and "no such file" in res.output


def test_import(tmp_path: Path) -> None:
    src = tmp_path / "sg.jsonl"
    src.write_text(json.dumps({"conversations": [{"from": "human", "value": "hi"},
                                                 {"from": "gpt", "value": "yo"}]}) + "\n")
    res = invoke("data", "import", src, "-o", tmp_path / "out.jsonl")
    assert res.exit_code == 0, res.output
    rec = json.loads((tmp_path / "out.jsonl").read_text())
    assert rec["conversations"][1] == {"role": "assistant", "content": "yo"}
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": 1}\n')
    res = invoke("data", "import", bad, "-o", tmp_path / "o2.jsonl")
    assert res.exit_code == 2 and "bad.jsonl:1" in res.output
