"""Report numbers from a hand-made results file; Markdown, chart and comparison."""

import json

import pytest
from rich.console import Console

from codeact.bench import report
from codeact.bench.results import load_results

# Hand-made: code solves 3 of 4 in 2, 1, 3, 2 turns; json solves 1 of 4 (one crashed run,
# one superseded line); text solves 0 of 2 in domain "a" only.
LINES = [
    {"task": "a/1", "domain": "a", "format": "code", "status": "done", "success": True,
     "turns": 2, "total_tokens": 100, "wall_seconds": 1.0, "model": "m1"},
    {"task": "a/2", "domain": "a", "format": "code", "status": "done", "success": True,
     "turns": 1, "total_tokens": 50, "wall_seconds": 2.0, "model": "m1"},
    {"task": "b/1", "domain": "b", "format": "code", "status": "done", "success": False,
     "turns": 3, "total_tokens": 300, "wall_seconds": 3.0, "model": "m1"},
    {"task": "b/2", "domain": "b", "format": "code", "status": "done", "success": True,
     "turns": 2, "total_tokens": 150, "wall_seconds": 2.0, "model": "m1"},
    {"task": "a/1", "domain": "a", "format": "json", "status": "crashed", "success": False,
     "turns": 0, "total_tokens": 0, "wall_seconds": 0.5, "model": "m1"},
    {"task": "a/2", "domain": "a", "format": "json", "status": "done", "success": True,
     "turns": 9, "total_tokens": 999, "wall_seconds": 9.0, "model": "m1"},
    {"task": "a/2", "domain": "a", "format": "json", "status": "done", "success": False,
     "turns": 5, "total_tokens": 400, "wall_seconds": 4.0, "model": "m1"},
    {"task": "b/1", "domain": "b", "format": "json", "status": "done", "success": True,
     "turns": 4, "total_tokens": 200, "wall_seconds": 2.5, "model": "m1", "timed_out": False},
    {"task": "b/2", "domain": "b", "format": "json", "status": "done", "success": False,
     "turns": 10, "total_tokens": 600, "wall_seconds": 6.0, "model": "m1", "timed_out": True},
    {"task": "a/1", "domain": "a", "format": "text", "status": "error", "success": False,
     "turns": 1, "total_tokens": 10, "wall_seconds": 1.0, "model": "m1"},
    {"task": "a/2", "domain": "a", "format": "text", "status": "done", "success": False,
     "turns": 10, "total_tokens": 700, "wall_seconds": 5.0, "model": "m1"},
]


@pytest.fixture
def results_file(tmp_path):
    path = tmp_path / "r.jsonl"
    path.write_text("".join(json.dumps(x) + "\n" for x in LINES) + '{"task": "trunc')
    return path


def test_numbers(results_file):
    s = report.summarize_file(results_file)
    assert s.formats == ["code", "json", "text"]
    code, js, text = (s.by_format[f] for f in s.formats)
    assert (code.n, code.successes) == (4, 3)
    assert code.success_rate == pytest.approx(0.75)
    assert code.avg_turns == pytest.approx(2.0)
    assert code.avg_tokens == pytest.approx(150.0)
    assert code.avg_wall == pytest.approx(2.0)
    # json: the superseded a/2 line does not count; the crash counts as a failure
    assert (js.n, js.successes, js.errors, js.timeouts) == (4, 1, 1, 1)
    assert js.avg_turns == pytest.approx((0 + 5 + 4 + 10) / 4)
    assert js.avg_tokens == pytest.approx((0 + 400 + 200 + 600) / 4)
    assert (text.n, text.successes, text.errors) == (2, 0, 1)
    assert s.domains == ["a", "b"]
    a_code = s.by_domain[("a", "code")]
    assert (a_code.n, a_code.successes, a_code.avg_turns) == (2, 2, 1.5)
    assert s.by_domain[("b", "json")].success_rate == pytest.approx(0.5)
    assert ("b", "text") not in s.by_domain
    assert s.models == ["m1"]


def test_markdown_and_table(results_file):
    s = report.summarize_file(results_file)
    md = report.markdown(s, "T")
    assert "| all | code | 3/4 | 75.0% | 30-95 | 2.00 | 150 | 2.0 |" in md
    assert "| all | json | 1/4 | 25.0% | 5-70 | 4.75 | 300 | 3.2 |" in md
    assert "| b | json | 1/2 | 50.0% |" in md
    console = Console(record=True, width=120)
    console.print(report.rich_table(s))
    assert "75.0%" in console.export_text()


def test_plot_writes_png(results_file, tmp_path):
    out = report.plot(report.summarize_file(results_file), tmp_path / "charts" / "r.png")
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000


def test_compare_on_common_tasks(results_file, tmp_path):
    a = load_results(results_file)
    b_lines = [dict(x) for x in LINES if x["format"] == "code"]
    b_lines[2]["success"] = True  # B also solves b/1
    b_lines.pop(0)  # B did not run a/1
    rows = report.compare(a, b_lines)
    overall = {r.format: r for r in rows if r.group == "all"}
    code = overall["code"]
    assert (code.a.n, code.b.n, code.common) == (4, 3, 3)
    assert code.a_common == pytest.approx(2 / 3)
    assert code.b_common == pytest.approx(1.0)
    assert code.delta == pytest.approx(1 / 3)
    assert overall["json"].b is None and overall["json"].common == 0
    md = report.compare_markdown(rows, "A", "B")
    assert "| all | code | 4 | 3 | 3 | 66.7% | 100.0% | +33.3 |" in md


def test_wilson_interval():
    lo, hi = report.wilson_interval(3, 4)
    assert 0.30 < lo < 0.31 and 0.95 < hi < 0.96
    assert report.wilson_interval(0, 10)[0] == 0.0 and report.wilson_interval(0, 10)[1] > 0.25
    assert report.wilson_interval(100, 100)[1] == 1.0  # exact, not just below the rate
    assert report.wilson_interval(0, 0) == (0.0, 0.0)


def test_two_prompts_in_one_file_are_grouped_apart():
    recs = [{"task": "t1", "format": "code", "model": "m", "prompt": "default",
             "prompt_sha": "aaaaaa111111", "success": True, "stop_reason": "solution"},
            {"task": "t1", "format": "code", "model": "m", "prompt": "v0",
             "prompt_sha": "bbbbbb222222", "success": False, "stop_reason": "stuck"},
            {"task": "t1", "format": "json", "model": "m", "prompt": "default",
             "prompt_sha": "cccccc333333", "success": False, "stop_reason": "max_turns"}]
    s = report.summarize(recs)
    assert set(s.formats) == {"code [default aaaaaa]", "code [v0 bbbbbb]", "json"}
    assert s.by_format["code [v0 bbbbbb]"].stuck == 1
    assert s.by_format["json"].at_limit == 1
    console = Console(record=True, width=160)  # the terminal table shows the label as is
    console.print(report.rich_table(s))
    assert "code [v0 bbbbbb]" in console.export_text()


def test_resampled_turns_are_counted(tmp_path):
    path = tmp_path / "r.jsonl"
    rows = [{**LINES[0], "resampled_turns": 2}, {**LINES[1], "resampled_turns": 1},
            LINES[2]]
    path.write_text("".join(json.dumps(x) + "\n" for x in rows))
    s = report.summarize_file(path)
    assert s.by_format["code"].resampled == 3
    assert s.by_format["code"].as_dict()["resampled_turns"] == 3
    assert "| resampled | by agent |" in report.markdown(s)
