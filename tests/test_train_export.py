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


def _sdist(path, version: str, marker) -> bytes:
    """A llama-cpp-python sdist with the converter's pieces and a setup.py that must never
    run."""
    import io
    import tarfile

    root = f"llama_cpp_python-{version}"
    files = {f"{root}/setup.py": f"open({str(marker)!r}, 'w').write('ran')\n",
             f"{root}/vendor/llama.cpp/convert_hf_to_gguf.py": "print('converter')\n",
             f"{root}/vendor/llama.cpp/conversion/__init__.py": "",
             f"{root}/vendor/llama.cpp/gguf-py/gguf/__init__.py": "",
             f"{root}/vendor/llama.cpp/README.md": "not a piece\n"}
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    path.write_bytes(buf.getvalue())
    return buf.getvalue()


def test_the_converter_comes_from_the_index_checked_by_its_hash(tmp_path, monkeypatch):
    import functools
    import hashlib
    import http.server
    import threading

    from codeact.train.export import converter_dir

    web = tmp_path / "web"
    (web / "simple/llama-cpp-python").mkdir(parents=True)
    (web / "files").mkdir()
    ran = tmp_path / "sdist-code-ran"
    good = _sdist(web / "files/llama_cpp_python-9.9.9.tar.gz", "9.9.9", ran)
    _sdist(web / "files/llama_cpp_python-9.9.8.tar.gz", "9.9.8", ran)
    links = [("9.9.9", hashlib.sha256(good).hexdigest()), ("9.9.8", "0" * 64)]
    (web / "simple/llama-cpp-python/index.html").write_text("".join(
        f'<a href="../../files/llama_cpp_python-{v}.tar.gz#sha256={h}">x</a><br/>'
        for v, h in links))
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(web))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("PIP_INDEX_URL", f"http://127.0.0.1:{server.server_port}/simple/")
        monkeypatch.setenv("CODEACT_CACHE_DIR", str(tmp_path / "cache"))
        root = converter_dir("9.9.9")
        assert (root / "convert_hf_to_gguf.py").read_text() == "print('converter')\n"
        assert (root / "conversion/__init__.py").is_file()
        assert (root / "gguf-py/gguf/__init__.py").is_file()
        assert not (root / "README.md").exists() and not (root / "setup.py").exists()
        with pytest.raises(ExportError, match="sha256"):
            converter_dir("9.9.8")  # the file does not match the index's hash
        with pytest.raises(ExportError, match="lists no llama_cpp_python-1.0.0.tar.gz"):
            converter_dir("1.0.0")
        assert not (tmp_path / "cache/llama.cpp-convert/9.9.8").exists()
        assert not ran.exists()  # nothing of the sdist ran
    finally:
        server.shutdown()
        server.server_close()
