"""`codeact bench` CLI: run (default command), resume, report and compare."""

import json

from typer.testing import CliRunner

from codeact.bench.cli import app
from codeact.bench.results import load_results

runner = CliRunner()


def _run(*args):
    result = runner.invoke(app, list(args), catch_exceptions=False)
    return result


def test_run_resume_report_compare(tmp_path):
    out = tmp_path / "r.jsonl"
    args = ["--model", "bench:oracle", "--filter", "^units", "--limit", "3",
            "--format", "json,text", "-o", str(out), "--no-progress", "--workers", "2"]
    res = _run(*args)
    assert res.exit_code == 0, res.output
    assert "3 tasks x 2 format(s)" in res.output
    assert "100.0%" in res.output
    recs = load_results(out)
    assert len(recs) == 6 and all(r["success"] for r in recs)
    assert {r["format"] for r in recs} == {"json", "text"}

    res = _run(*args)  # resume: nothing to do, same file
    assert res.exit_code == 0
    assert len(out.read_text().splitlines()) == 6

    md, png = tmp_path / "r.md", tmp_path / "r.png"
    res = _run("report", str(out), "--markdown", str(md), "--plot", str(png))
    assert res.exit_code == 0, res.output
    assert "| all | json | 3/3 | 100.0% |" in md.read_text()
    assert png.read_bytes()[:4] == b"\x89PNG"

    other = tmp_path / "b.jsonl"
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    lines[0]["success"] = False
    other.write_text("".join(json.dumps(x) + "\n" for x in lines))
    cmd = tmp_path / "c.md"
    res = _run("compare", str(out), str(other), "--markdown", str(cmd))
    assert res.exit_code == 0, res.output
    assert "-33.3" in cmd.read_text()


def test_errors(tmp_path):
    res = runner.invoke(app, ["--format", "yaml", "--model", "bench:oracle"])
    assert res.exit_code == 2 and "--format" in res.output
    res = runner.invoke(app, ["--suite", "nope_suite_xyz", "--model", "bench:oracle"])
    assert res.exit_code == 2 and "unknown suite" in res.output
    res = runner.invoke(app, ["--filter", "zzz-no-match", "--model", "bench:oracle"])
    assert res.exit_code == 2 and "no tasks" in res.output
    res = runner.invoke(app, ["report", str(tmp_path / "missing.jsonl")])
    assert res.exit_code == 2


def test_help_lists_options():
    res = runner.invoke(app, ["--help"])
    assert res.exit_code == 0
    for opt in ("--suite", "--model", "--base-url", "--api-key", "--format", "--workers",
                "--limit", "--filter", "--max-turns", "--output", "--backend",
                "--ray-address", "report", "compare"):
        assert opt in res.output


def test_ablate_reaches_the_records_and_keeps_them_apart(tmp_path):
    out = tmp_path / "r.jsonl"
    base = ["--model", "bench:oracle", "--filter", "^units", "--limit", "2", "--format",
            "json", "-o", str(out), "--no-progress"]
    res = _run(*base, "--ablate", "notes_heading", "--ablate", "collapse")
    assert res.exit_code == 0, res.output
    recs = load_results(out)
    assert len(recs) == 2
    assert all(r["ablate"] == ["collapse", "notes_heading"] for r in recs)
    assert all(r["trajectory"]["metadata"]["ablate"] == ["collapse", "notes_heading"]
               for r in recs)
    res = _run(*base)  # the full agent on the same file: run, not resumed from the ablation
    assert res.exit_code == 0, res.output
    recs = load_results(out)
    assert sorted(tuple(r["ablate"]) for r in recs) == \
        [(), (), ("collapse", "notes_heading"), ("collapse", "notes_heading")]
    res = _run(*base, "--ablate", "collapse", "--ablate", "notes_heading")  # resumed
    assert res.exit_code == 0 and len(out.read_text().splitlines()) == 4
    md = tmp_path / "r.md"
    res = _run("report", str(out), "--markdown", str(md))  # one row each
    assert "| all | json | 2/2 |" in md.read_text()
    assert "| all | json -collapse -notes_heading | 2/2 |" in md.read_text()

    res = runner.invoke(app, [*base, "--ablate", "colapse"])
    assert res.exit_code == 2 and "unknown ablation" in res.output
    assert "did_you_mean" in res.output


def test_hint_switches_reach_the_records_and_keep_them_apart(tmp_path):
    out = tmp_path / "r.jsonl"
    base = ["--model", "bench:oracle", "--filter", "^units", "--limit", "1", "--format",
            "json", "-o", str(out), "--no-progress"]
    res = _run(*base, "--hint", "self_check", "--no-hint", "answer_check")
    assert res.exit_code == 0, res.output
    assert load_results(out)[0]["ablate"] == ["+hint:self_check", "no_hint:answer_check"]
    res = _run(*base)  # the default agent: its own run, not resumed from the variant
    assert res.exit_code == 0 and [r["ablate"] for r in load_results(out)][1] == []
    res = _run(*base, "--no-hint", "answer_check", "--hint", "self_check")  # resumed
    assert res.exit_code == 0 and len(out.read_text().splitlines()) == 2
    md = tmp_path / "r.md"
    _run("report", str(out), "--markdown", str(md))
    assert "| all | json +hint:self_check -no_hint:answer_check | 1/1 |" in md.read_text()
    res = runner.invoke(app, [*base, "--hint", "self_chek"])
    assert res.exit_code == 2 and "unknown hint self_chek" in res.output
