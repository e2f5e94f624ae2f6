"""Base-vs-tuned comparison: intervals, stats, table and chart, the settings guard."""

from __future__ import annotations

import json
import os

import pytest

from codeact.llm.scripted import ScriptedLLM
from codeact.train import compare as cmp


def test_wilson_interval_known_values():
    lo, hi = cmp.wilson(50, 100)
    assert lo == pytest.approx(0.4038, abs=1e-3) and hi == pytest.approx(0.5962, abs=1e-3)
    lo, hi = cmp.wilson(0, 20)
    assert lo == 0.0 and hi == pytest.approx(0.1611, abs=1e-3)
    assert cmp.wilson(0, 0) == (0.0, 1.0)
    assert cmp.wilson(100, 100)[1] == 1.0  # not 0.9999999999999999, below the rate itself
    assert cmp.wilson(0, 22)[0] == 0.0  # not 1e-17, above the rate itself


def test_difference_interval_contains_the_difference():
    d, lo, hi = cmp.diff_interval(cmp.Rate(10, 100), cmp.Rate(30, 100))
    assert d == pytest.approx(0.2) and lo < 0.2 < hi and lo > 0  # clearly better
    d, lo, hi = cmp.diff_interval(cmp.Rate(5, 10), cmp.Rate(6, 10))
    assert lo < 0 < hi  # too few to tell


def _record(success, actions):
    return {"success": success, "turns": len(actions), "status": "done",
            "trajectory": {"turns": [{"action": a} for a in actions]}}


def test_agent_stats_counts_valid_actions_per_turn():
    stats = cmp.agent_stats([_record(True, ["code", "solution"]),
                             _record(False, ["invalid", "none", "code"])])
    assert (stats["success"].k, stats["success"].n) == (1, 2)
    assert (stats["valid_actions"].k, stats["valid_actions"].n) == (3, 5)
    assert stats["avg_turns"] == 2.5


def test_table_markdown_and_chart(tmp_path):
    def result(k):
        s = cmp.agent_stats([_record(i < k, ["code", "solution"]) for i in range(10)])
        return {"heldout": s, "unseen_kinds": s, "suites": cmp.agent_stats([]),
                "all_tasks": s, "general": cmp.Rate(40 + k, 60)}

    base, tuned = result(2), result(7)
    rows = cmp.table_rows(base, tuned)
    labels = [r[0] for r in rows]
    assert "held-out tasks: success" in labels and "general check (no tools)" in labels
    assert not any(label.startswith("suites: success") for label in labels)  # no suite runs
    success = rows[labels.index("held-out tasks: success")]
    assert success[1].startswith("20.0%") and success[2].startswith("70.0%")
    assert success[3].startswith("+50.0")
    md = cmp.markdown(rows, "base", "tuned")
    assert md.splitlines()[0].startswith("| metric | base | tuned |")
    png = cmp.plot(base, tuned, tmp_path / "c.png", ("base", "tuned"))
    assert png.read_bytes()[:4] == b"\x89PNG"
    # 0% and 100% rates (the first real comparison crashed here: negative error bars)
    edge = {**result(0), "general": cmp.Rate(0, 22)}
    png = cmp.plot(edge, result(10), tmp_path / "edge.png", ("base", "tuned"))
    assert png.read_bytes()[:4] == b"\x89PNG"
    assert cmp.to_json(base)["general"]["k"] == 42
    one = dict(cmp.side_rows(base))  # one side alone (--only): no rows for suites not run
    assert one["held-out tasks: success"].startswith("20.0%")
    assert one["held-out tasks: avg turns"] == "2.00"
    assert not any(label.startswith("suites") for label in one)


def test_each_suite_gets_its_own_success_row_when_there_are_several(tmp_path):
    """builtin-quick and thirdparty-quick have a target each: pooled they would hide one."""
    def result(k_builtin, k_third):
        builtin = cmp.agent_stats([_record(i < k_builtin, ["solution"]) for i in range(4)])
        third = cmp.agent_stats([_record(i < k_third, ["solution"]) for i in range(5)])
        pooled = cmp.agent_stats([_record(i < k_builtin + k_third, ["solution"])
                                  for i in range(9)])
        return {"heldout": pooled, "unseen_kinds": pooled, "suites": pooled,
                "per_suite": {"builtin-quick": builtin, "thirdparty-quick": third},
                "all_tasks": pooled, "general": cmp.Rate(5, 10)}

    rows = cmp.table_rows(result(1, 4), result(3, 2))
    labels = [r[0] for r in rows]
    at = labels.index("suites: success")
    assert labels[at + 1:at + 3] == ["  builtin-quick: success", "  thirdparty-quick: success"]
    assert rows[at + 1][1].startswith("25.0%") and rows[at + 1][2].startswith("75.0%")
    assert rows[at + 2][3].startswith("-40.0")
    one = {**result(1, 4), "per_suite": {"builtin-quick": result(1, 4)["suites"]}}
    assert not any("builtin-quick" in r[0] for r in cmp.table_rows(one, one))
    png = cmp.plot(result(1, 4), result(3, 2), tmp_path / "s.png", ("base", "tuned"))
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_suite_tasks_say_which_suite_they_came_from(tmp_path):
    cfg = cmp.CompareConfig(out=tmp_path, n_heldout=2, suites=("builtin-quick",))
    tasks = cmp.load_tasks(cfg)
    assert [t.metadata.get(cmp.SUITE_KEY) for t in tasks[:2]] == [None, None]  # held out
    assert {t.metadata.get(cmp.SUITE_KEY) for t in tasks[2:]} == {"builtin-quick"}


def test_heldout_tasks_come_from_the_heldout_split():
    tasks = cmp.heldout_tasks(8)
    assert len(tasks) == 8
    assert all(t.metadata["split"] == "heldout" for t in tasks)
    assert len({t.domain for t in tasks}) >= 4  # every family


def test_run_model_end_to_end_with_a_scripted_model(tmp_path):
    """Held-out tasks through the bench runner, the general check, results that resume."""
    from codeact.bench.task import Task

    extra = Task(name="suite/add", instruction="What is 2 + 2?", expected=4, domain="math")
    cfg = cmp.CompareConfig(out=tmp_path, n_heldout=3, suites=(), n_arithmetic=3,
                            max_turns=2, sandbox="none", progress=False)
    tasks = cmp.load_tasks(cfg) + [extra]

    def reply(messages):
        text = messages[-1]["content"]
        return "<solution>4</solution>" if "2 + 2" in text else "<solution>0</solution>"

    llm = ScriptedLLM(reply, name="scripted")
    res = cmp.run_model("base", llm, cfg, tasks)
    assert res["heldout"]["success"].n == 3 and res["suites"]["success"].k == 1
    assert res["all_tasks"]["valid_actions"].value == 1.0  # every reply was an answer
    assert res["general"].n == 33
    assert res["per_suite"] == {}  # no --suite: the extra task was added by hand
    calls = len(llm.calls)
    again = cmp.run_model("base", llm, cfg, tasks)  # everything is read back, nothing rerun
    assert len(llm.calls) == calls
    assert again["general"].k == res["general"].k


def test_results_made_with_other_settings_are_not_resumed(tmp_path):
    """Another --max-new-tokens, or a retrained model file, must not reuse stored runs."""
    model = tmp_path / "tuned.gguf"
    model.write_bytes(b"GGUF v1")
    cfg = cmp.CompareConfig(out=tmp_path / "cmp", max_new_tokens=256)
    cmp.claim_results(cfg.out, "tuned", cmp.run_settings(cfg, str(model)))
    (cfg.out / "tuned.tasks.jsonl").write_text("")
    cmp.claim_results(cfg.out, "tuned", cmp.run_settings(cfg, str(model)))  # same: resumes
    longer = cmp.CompareConfig(out=cfg.out, max_new_tokens=512)
    with pytest.raises(cmp.SettingsMismatch, match="max_new_tokens changed"):
        cmp.claim_results(cfg.out, "tuned", cmp.run_settings(longer, str(model)))
    model.write_bytes(b"GGUF v2, retrained")
    with pytest.raises(cmp.SettingsMismatch, match="model changed"):
        cmp.claim_results(cfg.out, "tuned", cmp.run_settings(cfg, str(model)))
    cmp.claim_results(cfg.out, "base", cmp.run_settings(cfg, "smollm2-135m"))  # other label
    (cfg.out / "tuned.tasks.jsonl").unlink()  # no runs to protect: new settings are taken
    cmp.claim_results(cfg.out, "tuned", cmp.run_settings(cfg, str(model)))
    (cfg.out / "tuned.tasks.jsonl").write_text("")
    (cfg.out / "tuned.settings.json").unlink()
    with pytest.raises(cmp.SettingsMismatch, match="without a record"):
        cmp.claim_results(cfg.out, "tuned", cmp.run_settings(cfg, str(model)))


def test_the_same_weights_elsewhere_resume_their_runs(tmp_path):
    """A base re-exported on a fresh machine (same bytes, new path and time) resumes the
    runs stored from it; a file of other bytes with the same size and time does not."""
    model = tmp_path / "a" / "model.gguf"
    model.parent.mkdir()
    model.write_bytes(b"GGUF weights 1")
    cfg = cmp.CompareConfig(out=tmp_path / "cmp")
    cmp.claim_results(cfg.out, "base", cmp.run_settings(cfg, str(model)))
    (cfg.out / "base.tasks.jsonl").write_text("")
    again = tmp_path / "b" / "model.gguf"
    again.parent.mkdir()
    again.write_bytes(model.read_bytes())
    os.utime(again, ns=(1, 1))
    cmp.claim_results(cfg.out, "base", cmp.run_settings(cfg, str(again)))  # resumes
    stored = json.loads((cfg.out / "base.settings.json").read_text())
    assert stored["model_path"] == str(again.resolve())  # recorded for a reader
    st = again.stat()
    again.write_bytes(b"GGUF weights 2")  # same size, same time, other weights
    os.utime(again, ns=(st.st_atime_ns, st.st_mtime_ns))
    with pytest.raises(cmp.SettingsMismatch, match="model changed"):
        cmp.claim_results(cfg.out, "base", cmp.run_settings(cfg, str(again)))


def test_agent_code_fingerprint_follows_the_code_a_run_goes_through(tmp_path):
    """A changed hint or prompt is another agent; a changed server or training file is not."""
    for rel in ("agent/hints/repeats.py", "prompts/code.md", "server/app.py",
                "train/trainer.py", "agent/__pycache__/loop.cpython-311.pyc"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("x = 1\n")
    first = cmp.agent_code_fingerprint(tmp_path)
    for rel in ("server/app.py", "train/trainer.py", "agent/__pycache__/loop.cpython-311.pyc"):
        (tmp_path / rel).write_text("x = 2\n")
    assert cmp.agent_code_fingerprint(tmp_path) == first
    (tmp_path / "prompts/code.md").write_text("Write code.\n")
    changed = cmp.agent_code_fingerprint(tmp_path)
    assert changed != first
    (tmp_path / "agent/hints/new_hint.py").write_text("")  # a new file counts too
    assert cmp.agent_code_fingerprint(tmp_path) != changed


def test_stored_runs_of_another_agent_code_are_not_resumed(tmp_path, monkeypatch):
    model = tmp_path / "tuned.gguf"
    model.write_bytes(b"GGUF")
    cfg = cmp.CompareConfig(out=tmp_path / "cmp")
    cmp.claim_results(cfg.out, "tuned", cmp.run_settings(cfg, str(model)))
    (cfg.out / "tuned.tasks.jsonl").write_text("")
    monkeypatch.setattr(cmp, "agent_code_fingerprint", lambda root=None: "another-commit")
    with pytest.raises(cmp.SettingsMismatch, match="agent_code changed"):
        cmp.claim_results(cfg.out, "tuned", cmp.run_settings(cfg, str(model)))
