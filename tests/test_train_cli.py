"""``codeact train`` from the shell: option errors, accelerate launch, and a real base."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from train_helpers import tiny_checkpoint, write_codeact_jsonl
from typer.testing import CliRunner

from codeact.cli import app

runner = CliRunner()
pytest.importorskip("trl")


def test_missing_options_and_bad_mix_are_exit_2(tmp_path):
    result = runner.invoke(app, ["train", "--data", str(tmp_path / "x.jsonl")])
    assert result.exit_code == 2
    assert "missing --base, --out" in result.output
    data = write_codeact_jsonl(tmp_path / "d.jsonl", 2)
    result = runner.invoke(app, ["train", "--data", str(data), "--base", str(tmp_path),
                                 "--out", str(tmp_path / "o"), "--mix", "g.jsonl:2"])
    assert result.exit_code == 2 and "between 0 and 1" in result.output


def test_unknown_base_and_missing_data_are_clear(tmp_path):
    data = write_codeact_jsonl(tmp_path / "d.jsonl", 2)
    result = runner.invoke(app, ["train", "--data", str(data), "--base", "./nope.gguf",
                                 "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "base model not found" in result.output
    result = runner.invoke(app, ["train", "--data", str(tmp_path / "none.jsonl"), "--base",
                                 str(tmp_path), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "training file not found" in result.output


def test_cli_trains_a_tiny_checkpoint(tmp_path):
    base = tiny_checkpoint(tmp_path / "base")
    data = write_codeact_jsonl(tmp_path / "d.jsonl", 4)
    out = tmp_path / "out"
    result = runner.invoke(app, ["train", "--data", str(data), "--base", str(base), "--out",
                                 str(out), "--max-steps", "2", "--grad-accum", "1",
                                 "--no-gradient-checkpointing", "--no-merge", "-q"])
    assert result.exit_code == 0, result.output
    assert "trained 2 steps" in result.output
    assert (out / "adapter" / "adapter_config.json").is_file()
    assert not (out / "model").exists()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_accelerate_launch_two_cpu_processes(tmp_path):
    base = tiny_checkpoint(tmp_path / "base")
    data = write_codeact_jsonl(tmp_path / "d.jsonl", 8)
    out = tmp_path / "out"
    accelerate = Path(sys.executable).with_name("accelerate")
    # accelerate 1.x starts ONE process for `--cpu --num_processes 2` (multi-CPU goes via
    # mpirun); `--multi_gpu` on a machine without GPUs starts 2 processes on gloo.
    cmd = [str(accelerate), "launch", "--multi_gpu", "--num_processes", "2", "--num_machines", "1",
           "--mixed_precision", "no", "--dynamo_backend", "no", "--main_process_port",
           str(_free_port()), "-m", "codeact.train", "--data", str(data), "--base", str(base),
           "--out", str(out), "--max-steps", "3", "--batch-size", "2", "--grad-accum", "1",
           "--no-gradient-checkpointing", "-q"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600,
                          env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    log = json.loads((out / "train_log.json").read_text())
    assert log["world_size"] == 2 and log["steps"] == 3
    assert proc.stdout.count("trained 3 steps") == 1  # only rank 0 reports
    assert (out / "model" / "config.json").is_file()


@pytest.mark.slow
def test_smollm2_trains_and_its_gguf_loads_in_llama_cpp(tmp_path, monkeypatch):
    """The registry GGUF base, dequantised by transformers, a few LoRA steps, exported
    with llama.cpp's converter, loaded and run by llama.cpp. Paths are relative, as a
    user types them (the converter runs in its own directory)."""
    pytest.importorskip("llama_cpp")
    from codeact.llm.factory import make_llm

    monkeypatch.chdir(tmp_path)
    write_codeact_jsonl(tmp_path / "d.jsonl", 6)
    out = tmp_path / "out"
    result = runner.invoke(app, ["train", "--data", "d.jsonl", "--base", "smollm2-135m",
                                 "--out", "out", "--max-steps", "2", "--grad-accum", "2",
                                 "--max-length", "512", "--gguf", "q8_0", "-q"])
    assert result.exit_code == 0, result.output
    gguf = out / "model.gguf"
    assert gguf.read_bytes()[:4] == b"GGUF"
    llm = make_llm(str(gguf), n_ctx=1024, progress=False)
    completion = llm.complete([{"role": "user", "content": "What is 2 plus 2?"}],
                              max_tokens=16)
    assert completion.completion_tokens > 0 and completion.text.strip()
    result = runner.invoke(app, ["train", "export-base", "smollm2-135m", "--out", "base",
                                 "--gguf", "q8_0"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "base" / "model.gguf").read_bytes()[:4] == b"GGUF"


def test_shipped_accelerate_configs_parse():
    """The GPU configs cannot run here; at least accelerate must read them as intended."""
    from importlib import resources

    from accelerate.commands.config.config_args import load_config_from_file

    root = resources.files("codeact.train") / "configs"
    kinds = {}
    for name in ("single_gpu.yaml", "multi_gpu_zero2.yaml", "multi_gpu_fsdp.yaml"):
        cfg = load_config_from_file(str(root / name))
        kinds[name] = (str(cfg.distributed_type).rsplit(".", 1)[-1], cfg.mixed_precision)
    assert kinds == {"single_gpu.yaml": ("NO", "bf16"),
                     "multi_gpu_zero2.yaml": ("DEEPSPEED", "bf16"),
                     "multi_gpu_fsdp.yaml": ("FSDP", "bf16")}


def test_compare_refuses_runs_made_with_other_settings_before_loading(tmp_path):
    from codeact.train import compare as cmp

    out = tmp_path / "cmp"
    old = cmp.CompareConfig(out=out, max_new_tokens=256)
    result = runner.invoke(app, ["train", "compare", "base.gguf", "tuned.gguf", "--out",
                                 str(out), "-q"])
    assert result.exit_code == 2 and "model file not found: base.gguf" in result.output
    for label in ("base", "tuned"):
        (tmp_path / f"{label}.gguf").write_bytes(b"GGUF")
        cmp.claim_results(out, label, cmp.run_settings(old, str(tmp_path / f"{label}.gguf")))
        (out / f"{label}.tasks.jsonl").write_text("")
    result = runner.invoke(app, ["train", "compare", str(tmp_path / "base.gguf"),
                                 str(tmp_path / "tuned.gguf"), "--out", str(out),
                                 "--max-new-tokens", "512", "-q"])
    assert result.exit_code == 2
    assert "max_new_tokens changed" in result.output and "another --out" in result.output


def test_compare_only_runs_one_side_and_the_full_run_reads_it_back(tmp_path, monkeypatch):
    """--only base runs before the tuned model exists; the full comparison later reruns
    nothing of it."""
    from codeact.llm import factory
    from codeact.llm.scripted import ScriptedLLM

    calls: list[str] = []

    def reply(messages):
        calls.append(messages[-1]["content"])
        return "<solution>0</solution>"

    monkeypatch.setattr(factory, "make_llm", lambda spec, **_: ScriptedLLM(reply, name=spec))
    out = tmp_path / "cmp"
    common = ["--out", str(out), "--heldout", "2", "--suite", "none", "--arithmetic", "0",
              "--max-turns", "2", "--unsafe-no-sandbox", "-q"]
    base, tuned = tmp_path / "base.gguf", tmp_path / "tuned.gguf"
    base.write_bytes(b"GGUF base")
    result = runner.invoke(app, ["train", "compare", str(base), str(tuned), "--only", "base",
                                 *common])
    assert result.exit_code == 0, result.output
    assert "success" in result.output and "without --only" in result.output
    assert len((out / "base.tasks.jsonl").read_text().splitlines()) == 2
    assert not (out / "tuned.settings.json").exists() and not (out / "compare.md").exists()
    tuned.write_bytes(b"GGUF tuned")
    result = runner.invoke(app, ["train", "compare", str(base), str(tuned), "--only", "tuned",
                                 *common])
    assert result.exit_code == 0, result.output
    before = len(calls)
    result = runner.invoke(app, ["train", "compare", str(base), str(tuned), *common])
    assert result.exit_code == 0, result.output
    assert len(calls) == before  # both sides read back
    assert (out / "compare.md").is_file()
    result = runner.invoke(app, ["train", "compare", str(base), str(tuned), "--only", "both",
                                 *common])
    assert result.exit_code == 2 and "--only takes base or tuned" in result.output
