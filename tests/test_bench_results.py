"""Results JSONL: reading, the latest record wins, resume keys, truncated lines."""

import json

from codeact.bench.results import (
    ResultsWriter,
    finished_keys,
    load_results,
    read_records,
    repair_tail,
)


def _rec(task, fmt="code", status="done", success=True):
    return {"task": task, "format": fmt, "status": status, "success": success}


def test_writer_appends_lines(tmp_path):
    path = tmp_path / "sub" / "r.jsonl"
    with ResultsWriter(path) as w:
        w.write(_rec("a"))
        w.write(_rec("b", "json"))
    lines = path.read_text().splitlines()
    assert len(lines) == 2
    assert json.loads(lines[0])["schema"] == 1


def test_truncated_last_line_is_ignored_and_repaired(tmp_path):
    path = tmp_path / "r.jsonl"
    path.write_text(json.dumps(_rec("a")) + "\n" + '{"task": "b", "form')
    assert [r["task"] for r in read_records(path)] == ["a"]
    assert repair_tail(path)
    assert path.read_text() == json.dumps(_rec("a")) + "\n"
    assert not repair_tail(path)
    with ResultsWriter(path) as w:  # appending after a crash starts on a clean line
        w.write(_rec("c"))
    assert [r["task"] for r in read_records(path)] == ["a", "c"]


def test_truncated_only_line(tmp_path):
    path = tmp_path / "r.jsonl"
    path.write_text('{"task": "a"')
    assert repair_tail(path)
    assert path.read_text() == ""


def test_latest_record_wins_and_crashes_rerun(tmp_path):
    path = tmp_path / "r.jsonl"
    with ResultsWriter(path) as w:
        w.write(_rec("a", status="crashed", success=False))
        w.write(_rec("b", status="error", success=False))
        w.write(_rec("c"))
        w.write(_rec("c", "json", success=False))
        w.write(_rec("a"))  # the rerun of a crashed task
    results = load_results(path)
    assert [(r["task"], r["format"]) for r in results] == [
        ("b", "code"), ("c", "code"), ("c", "json"), ("a", "code")]
    assert finished_keys(path) == {("a", "code"), ("c", "code"), ("c", "json")}


def test_missing_file_and_junk(tmp_path):
    assert load_results(tmp_path / "nope.jsonl") == []
    path = tmp_path / "r.jsonl"
    path.write_text("not json\n[1, 2]\n\n" + json.dumps(_rec("x")) + "\n")
    assert [r["task"] for r in load_results(path)] == ["x"]


def test_ablated_runs_are_kept_apart_from_the_full_agent(tmp_path):
    p = tmp_path / "r.jsonl"
    with ResultsWriter(p) as w:
        w.write({"task": "a", "format": "code", "status": "done", "success": True})
        w.write({"task": "a", "format": "code", "status": "done", "success": False,
                 "ablate": ["collapse"]})
        w.write({"task": "b", "format": "code", "status": "done", "ablate": []})
    assert [r.get("success") for r in load_results(p)][:2] == [True, False]
    assert finished_keys(p, ablate=[]) == {("a", "code"), ("b", "code")}
    assert finished_keys(p, ablate=["collapse"]) == {("a", "code")}
    assert finished_keys(p, ablate=["did_you_mean"]) == set()
    assert len(finished_keys(p)) == 2  # None: any


def test_a_compressed_results_file_is_read_like_a_plain_one(tmp_path):
    """Results kept in the repository are gzipped; report, compare and the ablation
    script read them as they are."""
    import gzip

    plain = tmp_path / "r.jsonl"
    with ResultsWriter(plain) as w:
        w.write(_rec("a"))
        w.write(_rec("a", success=False))
        w.write(_rec("b", "json"))
    packed = tmp_path / "r.jsonl.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    assert read_records(packed) == read_records(plain)
    assert [r["success"] for r in load_results(packed)] == [False, True]
