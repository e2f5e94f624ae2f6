"""End-to-end training on a tiny model built in the test (no downloads)."""

from __future__ import annotations

import json

import pytest
from train_helpers import tiny_checkpoint, write_codeact_jsonl, write_general_jsonl

from codeact.train.trainer import (
    TrainConfig,
    TrainError,
    _device_dtype,
    cpu_has_native_bf16,
    describe_speed,
    last_checkpoint,
    train,
)

pytest.importorskip("trl")


@pytest.fixture(scope="module")
def base_dir(tmp_path_factory):
    return tiny_checkpoint(tmp_path_factory.mktemp("tiny") / "base")


def _mean(xs):
    return sum(xs) / len(xs)


def test_full_finetune_loss_falls_and_the_saved_model_generates(tmp_path, base_dir):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    data = write_codeact_jsonl(tmp_path / "d.jsonl", 16)
    general = write_general_jsonl(tmp_path / "g.jsonl", 4)
    out = tmp_path / "out"
    summary = train(TrainConfig(
        data=[data], base=str(base_dir), out=out, mix=[(general, 0.2)], full=True,
        max_steps=24, batch_size=4, grad_accum=1, learning_rate=3e-3, max_length=256,
        gradient_checkpointing=False, save_steps=1000, progress=False, precision="bf16"))
    assert summary["compute"] == "bf16" and summary["dtype"] == "float32"  # autocast
    losses = [h["loss"] for h in summary["history"] if "loss" in h]
    assert len(losses) == 24
    assert _mean(losses[-4:]) < 0.8 * _mean(losses[:4])
    assert summary["data"]["examples_by_source"]["main"] == 16
    assert summary["data"]["learned_tokens"] < summary["data"]["tokens"]
    assert summary["tokens_seen"] > 0 and summary["tokens_per_second"] > 0
    log = json.loads((out / "train_log.json").read_text())
    assert log["steps"] == 24 and log["method"] == "full"
    assert (out / "loss.png").read_bytes()[:4] == b"\x89PNG"

    tok = AutoTokenizer.from_pretrained(out / "model")
    model = AutoModelForCausalLM.from_pretrained(out / "model")
    assert sum(p.numel() for p in model.parameters()) < 1_000_000
    prompt = tok.apply_chat_template([{"role": "user", "content": "What is 3 times 4 plus 3?"}],
                                     add_generation_prompt=True, return_tensors="pt",
                                     return_dict=True)
    gen = model.generate(**prompt, max_new_tokens=8, do_sample=False)
    assert gen.shape[1] > prompt["input_ids"].shape[1]


def test_lora_resume_and_merged_model_runs_through_codeact(tmp_path, base_dir):
    from codeact.llm.factory import make_llm

    data = write_codeact_jsonl(tmp_path / "d.jsonl", 8)
    out = tmp_path / "out"
    cfg = TrainConfig(data=[data], base=str(base_dir), out=out, max_steps=2, batch_size=2,
                      grad_accum=1, save_steps=2, progress=False, max_length=256,
                      precision="fp32")
    first = train(cfg)
    assert first["compute"] == "fp32"
    assert first["method"] == "lora" and (out / "adapter" / "adapter_config.json").is_file()
    for card in (out / "README.md", out / "adapter" / "README.md", out / "model" / "README.md"):
        text = card.read_text()  # ours, not TRL's "fine-tuned version of None" or peft's
        assert f"`{base_dir}` fine-tuned by `codeact train`" in text, card
        assert "More Information Needed" not in text
    assert last_checkpoint(out).name == "checkpoint-2"
    cfg.max_steps, cfg.resume = 4, True
    second = train(cfg)
    assert second["steps"] == 4
    assert first["resumed_at_step"] is None and first["tokens_this_run"] == first["tokens_seen"]
    assert second["resumed_at_step"] == 2  # its throughput counts steps 3-4 only
    assert second["tokens_this_run"] == second["tokens_seen"] - first["tokens_seen"] > 0
    assert "this run from step 2" in describe_speed(second)
    assert [h["step"] for h in second["history"] if "loss" in h] == [1, 2, 3, 4]
    llm = make_llm(str(out / "model"))  # a checkpoint directory runs with transformers
    completion = llm.complete([{"role": "user", "content": "hi"}], max_tokens=4)
    assert completion.completion_tokens > 0


def test_resume_without_checkpoint_and_empty_data_fail_clearly(tmp_path, base_dir):
    data = write_codeact_jsonl(tmp_path / "d.jsonl", 2)
    with pytest.raises(TrainError, match="no checkpoint"):
        train(TrainConfig(data=[data], base=str(base_dir), out=tmp_path / "o", resume=True))
    with pytest.raises(TrainError, match="max-length"):
        train(TrainConfig(data=[data], base=str(base_dir), out=tmp_path / "o2", max_length=8,
                          progress=False))


def test_packing_is_refused_without_flash_attention(tmp_path, base_dir):
    """sdpa/eager ignore per-example positions, so packed examples would see each other."""
    data = write_codeact_jsonl(tmp_path / "d.jsonl", 2)
    with pytest.raises(TrainError, match="flash-attention"):
        train(TrainConfig(data=[data], base=str(base_dir), out=tmp_path / "o", packing=True,
                          progress=False))


def test_precision_auto_follows_the_cpu_and_unknown_ones_fail():
    assert cpu_has_native_bf16("flags : fpu sse2 avx512f amx_bf16 amx_tile")
    assert cpu_has_native_bf16("flags : fpu avx512_bf16")
    assert not cpu_has_native_bf16("flags : fpu sse2 avx2 avx512f")
    device, dtype, compute = _device_dtype("auto")
    if device == "cpu":
        assert str(dtype) == "torch.float32"
        assert compute == ("bf16" if cpu_has_native_bf16() else "fp32")
    assert _device_dtype("fp32")[2] == "fp32"
    with pytest.raises(TrainError, match="unknown precision 'fp8'"):
        _device_dtype("fp8")


def test_resume_skips_a_checkpoint_whose_save_was_cut_short(tmp_path, caplog):
    """A session that ends while the trainer saves leaves a partial newest checkpoint."""
    for step, whole in ((2, True), (4, True), (6, False)):
        ckpt = tmp_path / f"checkpoint-{step}"
        ckpt.mkdir()
        (ckpt / "adapter_model.safetensors").write_bytes(b"x")
        if whole:
            (ckpt / "trainer_state.json").write_text("{}")
    assert last_checkpoint(tmp_path).name == "checkpoint-4"
    assert "checkpoint-6 was not saved to the end" in caplog.text
    (tmp_path / "checkpoint-4" / "trainer_state.json").unlink()
    (tmp_path / "checkpoint-2" / "trainer_state.json").unlink()
    assert last_checkpoint(tmp_path) is None
