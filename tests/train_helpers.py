"""Tiny models and tokenizers built offline, for the training tests (no downloads)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

CHATML = ("{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\n' + "
          "message['content'] + '<|im_end|>' + '\n' }}{% endfor %}{% if add_generation_prompt "
          "%}{{ '<|im_start|>assistant\n' }}{% endif %}")

SYSTEM = "You solve tasks by writing Python inside <execute></execute> tags."


def conversation(a: int, b: int) -> list[dict[str, str]]:
    """A CodeActInstruct-style multi-turn conversation (observations are user turns)."""
    return [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": f"What is {a} times {b} plus {a}?"},
        {"role": "assistant", "content": f"Let me compute it.\n<execute>\nx = {a} * {b} + {a}\n"
                                         "print(x)\n</execute>"},
        {"role": "user", "content": f"Observation:\n{a * b + a}\nYou have 4 turns left."},
        {"role": "assistant", "content": f"The answer is <solution>{a * b + a}</solution>"},
    ]


def write_codeact_jsonl(path: Path, n: int = 24) -> Path:
    """``n`` records in the published CodeActInstruct schema."""
    with path.open("w") as fh:
        for i in range(n):
            rec = {"id": f"math/mul/{i}/teacher/code",
                   "conversations": conversation(i + 2, i % 7 + 3)}
            fh.write(json.dumps(rec) + "\n")
    return path


def write_general_jsonl(path: Path, n: int = 6) -> Path:
    """General conversations in the ``messages`` form."""
    with path.open("w") as fh:
        for i in range(n):
            msgs = [{"role": "user", "content": f"Name a colour number {i}."},
                    {"role": "assistant", "content": "Blue."}]
            fh.write(json.dumps({"messages": msgs}) + "\n")
    return path


def tiny_tokenizer(save_to: Path | None = None) -> Any:
    """A byte-level BPE tokenizer trained in memory with ChatML special tokens (skips the
    test without the `train` extra)."""
    import pytest

    pytest.importorskip("tokenizers", reason="needs the train extra: pip install -e '.[train]'")
    pytest.importorskip("transformers", reason="needs the train extra")
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    corpus = []
    for i in range(40):
        for m in conversation(i + 2, i % 7 + 3):
            corpus.append(m["content"])
    corpus += ["Name a colour number 1. Blue.", "<execute> </execute> <solution> </solution>"]
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=400, special_tokens=["<|endoftext|>",
                                  "<|im_start|>", "<|im_end|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(corpus, trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|im_end|>",
                                   pad_token="<|endoftext|>", bos_token=None)
    fast.chat_template = CHATML
    if save_to is not None:
        fast.save_pretrained(save_to)
    return fast


def tiny_model(vocab_size: int, seed: int = 0) -> Any:
    """A randomly initialised Llama of a few hundred thousand parameters."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    config = LlamaConfig(vocab_size=vocab_size, hidden_size=64, intermediate_size=128,
                         num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                         max_position_embeddings=512, tie_word_embeddings=True,
                         eos_token_id=2, pad_token_id=0, bos_token_id=None)
    return LlamaForCausalLM(config)


def tiny_checkpoint(dest: Path) -> Path:
    """A tiny model + tokenizer saved as a Hugging Face checkpoint directory."""
    tok = tiny_tokenizer()
    model = tiny_model(len(tok))
    model.save_pretrained(dest)
    tok.save_pretrained(dest)
    return dest
