"""Resolving --base: checkpoint dirs, GGUF files, names added with `codeact models add`."""

from __future__ import annotations

import pytest
from train_helpers import tiny_checkpoint

from codeact.llm import models
from codeact.train.base import BaseModelError, load_tokenizer, resolve_base


def test_checkpoint_dir_and_added_name(tmp_path, monkeypatch):
    monkeypatch.setenv("CODEACT_CONFIG", str(tmp_path / "config.toml"))
    ckpt = tiny_checkpoint(tmp_path / "ckpt")
    src = resolve_base(str(ckpt))
    assert src.location == str(ckpt.resolve()) and src.gguf_file is None
    models.add_user_model("tiny-base", ckpt)
    assert resolve_base("tiny-base").location == str(ckpt.resolve())
    tok, added = load_tokenizer(src)
    assert tok.chat_template and added is False


def test_gguf_file_is_split_into_dir_and_file(tmp_path):
    f = tmp_path / "m.gguf"
    f.write_bytes(b"GGUF")
    src = resolve_base(str(f))
    assert (src.location, src.gguf_file) == (str(tmp_path.resolve()), "m.gguf")
    assert src.kwargs() == {"gguf_file": "m.gguf"}


def test_bad_bases_are_clear(tmp_path):
    with pytest.raises(BaseModelError, match="not found"):
        resolve_base("./missing.gguf")
    with pytest.raises(BaseModelError, match="no config.json"):
        resolve_base(str(tmp_path))
    (tmp_path / "w.bin").write_bytes(b"x")
    with pytest.raises(BaseModelError, match="not a .gguf"):
        resolve_base(str(tmp_path / "w.bin"))
    assert resolve_base("org/some-model").location == "org/some-model"  # a hub id
