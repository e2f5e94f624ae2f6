"""The model card written beside a trained model (no training library needed)."""

from __future__ import annotations

from codeact.train.model_card import render_model_card, write_model_cards

SUMMARY = {
    "base": "qwen2.5-coder-0.5b", "method": "lora", "device": "cpu", "dtype": "float32",
    "compute": "fp32", "learning_rate": 2e-4, "steps": 20, "world_size": 1,
    "config": {"lora_r": 16, "lora_alpha": 32, "lora_targets": "all-linear", "epochs": 2.0,
               "max_steps": -1, "batch_size": 1, "grad_accum": 8},
    "data": {"examples_by_source": {"main": 54, "general.jsonl": 23}, "examples": 77,
             "tokens": 52407, "learned_tokens": 11722, "truncated": 2},
    "first_loss": 0.2884, "last_loss": 0.1358, "tokens_seen": 104814,
    "tokens_per_second": 20.4, "wall_seconds": 5138.2,
    "adapter": "runs/a/adapter", "model": "runs/a/model", "gguf": "/abs/runs/a/model.gguf",
}


def test_card_says_what_was_trained_on_what_and_how_to_run_it() -> None:
    card = render_model_card(SUMMARY, "runs/a")
    assert card.startswith("---\nlibrary_name: transformers\n")
    assert "# a\n" in card and "`qwen2.5-coder-0.5b` fine-tuned by `codeact train`" in card
    assert "| Method | LoRA (r=16, alpha=32, targets all-linear) |" in card
    assert "77 examples (the --data files: 54, general.jsonl: 23)" in card
    assert "52,407 tokens of which 11,722 learned" in card and "2 cut at --max-length" in card
    assert "20 optimizer steps (2 epochs), batch 1 x gradient accumulation 8," in card
    assert "0.288 at the first logged step, 0.136 at the last" in card
    assert "104,814 tokens seen in 1:25:38 (20.4 tokens/s)" in card
    assert 'codeact run --model runs/a/model.gguf "' in card
    assert "- `model.gguf`: a GGUF file" in card and "- `adapter`: the LoRA adapter" in card
    assert "None" not in card and "More Information Needed" not in card


def test_full_run_without_gguf_or_loss_still_reads_plainly() -> None:
    summary = {**SUMMARY, "method": "full", "gguf": None, "adapter": None,
               "first_loss": None, "world_size": 2,
               "config": {**SUMMARY["config"], "max_steps": 30}}
    card = render_model_card(summary, "out")
    assert "| Method | full fine-tuning |" in card and "- full-fine-tuning" in card
    assert "20 optimizer steps, batch 1 x gradient accumulation 8 x 2 processes" in card
    assert "| Loss | not logged |" in card
    assert 'codeact run --model out/model "' in card and "adapter" not in card


def test_cards_replace_the_libraries_ones_where_the_folders_exist(tmp_path) -> None:
    out = tmp_path / "run"
    (out / "adapter").mkdir(parents=True)
    (out / "adapter" / "README.md").write_text("# Model Card\n[More Information Needed]")
    written = write_model_cards(out, SUMMARY)
    assert written == [out / "README.md", out / "adapter" / "README.md"]  # no model/ here
    for path in written:
        text = path.read_text()
        assert "More Information Needed" not in text and "# run\n" in text


def test_resumed_run_gives_its_own_time_and_speed() -> None:
    summary = {**SUMMARY, "steps": 28, "tokens_seen": 119919, "resumed_at_step": 16,
               "tokens_this_run": 48364, "tokens_per_second": 16.4, "wall_seconds": 2951.0}
    card = render_model_card(summary, "runs/a")
    assert ("119,919 tokens seen; the last run, resumed at step 16: 48,364 tokens in 0:49:11 "
            "(16.4 tokens/s)") in card
