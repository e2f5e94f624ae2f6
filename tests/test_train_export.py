"""Merging LoRA into a plain checkpoint; GGUF conversion errors."""

from __future__ import annotations

import pytest
from train_helpers import tiny_model, tiny_tokenizer

from codeact.train.export import ExportError, export_gguf, save_merged

pytest.importorskip("peft")


def test_lora_merge_gives_a_plain_checkpoint_with_the_same_outputs(tmp_path):
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    tok = tiny_tokenizer()
    model = get_peft_model(tiny_model(len(tok)), LoraConfig(r=4, target_modules="all-linear",
                                                            task_type="CAUSAL_LM"))
    with torch.no_grad():  # make the adapter do something
        for name, p in model.named_parameters():
            if "lora_B" in name:
                p.normal_(0, 0.5)
    ids = torch.tensor([[1, 5, 9, 12]])
    model.eval()
    expected = model(ids).logits
    dest = save_merged(model, tok, tmp_path / "merged")
    assert not (dest / "adapter_config.json").exists()
    merged = AutoModelForCausalLM.from_pretrained(dest).eval()
    assert not any("lora" in n for n, _ in merged.named_parameters())
    assert torch.allclose(merged(ids).logits, expected, atol=1e-4)


def test_export_gguf_rejects_bad_input(tmp_path):
    with pytest.raises(ExportError, match="unknown GGUF type"):
        export_gguf(tmp_path, tmp_path / "m.gguf", "q3_weird")
    with pytest.raises(ExportError, match="no config.json"):
        export_gguf(tmp_path, tmp_path / "m.gguf", "f16")


def test_export_base_writes_the_same_weights_as_a_checkpoint(tmp_path):
    import torch
    from train_helpers import tiny_checkpoint
    from transformers import AutoModelForCausalLM

    from codeact.train.export import export_base

    base = tiny_checkpoint(tmp_path / "base")
    dest = export_base(str(base), tmp_path / "out", None)
    assert dest == tmp_path / "out" / "model"
    ids = torch.tensor([[1, 5, 9, 12]])
    a = AutoModelForCausalLM.from_pretrained(base).eval()(ids).logits
    b = AutoModelForCausalLM.from_pretrained(dest).eval()(ids).logits
    assert torch.allclose(a, b, atol=1e-5)
    with pytest.raises(ExportError, match="unknown GGUF type"):
        export_base(str(base), tmp_path / "x", "q3_weird")
