"""Using a trained model: merge LoRA into a plain checkpoint, convert it to GGUF.

GGUF conversion runs llama.cpp's own ``convert_hf_to_gguf.py`` (with its ``conversion``
package and the ``gguf-py`` it was written against) taken from the llama.cpp sources that
``llama-cpp-python``'s sdist vendors: the sdist of the *installed* llama-cpp-python version
is fetched once from the package index's simple API (``$PIP_INDEX_URL``, else PyPI),
checked against the sha256 the index gives, and the three pieces are unpacked into the
codeact cache, so the converter always matches the llama.cpp that will load the file.
Nothing of the sdist runs on the way (``pip download`` would prepare its metadata: the
build backend and any code it names would run on the host).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

from codeact.errors import CodeactError

GGUF_TYPES = ("f32", "f16", "bf16", "q8_0", "auto")
_PIECES = ("convert_hf_to_gguf.py", "conversion/", "gguf-py/")
PYPI_SIMPLE = "https://pypi.org/simple"
MAX_SDIST_BYTES = 512 << 20


class ExportError(CodeactError, RuntimeError):
    """Merging or conversion failed (one clear line)."""


def check_gguf_type(outtype: str) -> None:
    """Refuse an unknown GGUF type before any slow loading starts."""
    if outtype not in GGUF_TYPES:
        raise ExportError(f"unknown GGUF type {outtype!r}; choose from {', '.join(GGUF_TYPES)}")


def load_base_for_export(spec: str, tokenizer: Any = None) -> tuple[Any, Any]:
    """The base as training loads it: fp32, dequantised, embeddings sized to
    ``tokenizer`` (default: the training tokenizer of the base). What a merge starts from,
    and what an exported base must be to compare with a tuned model."""
    import torch

    from codeact.train.base import load_model, load_tokenizer, resolve_base

    source = resolve_base(spec)
    if tokenizer is None:
        tokenizer, _ = load_tokenizer(source)
    return load_model(source, torch.float32, resize_to=len(tokenizer)), tokenizer


def save_merged(model: Any, tokenizer: Any, dest: Path) -> Path:
    """Save ``model`` as a plain checkpoint: LoRA weights folded in when it has them."""
    if hasattr(model, "merge_and_unload"):
        model = model.merge_and_unload()
    config = getattr(model, "config", None)
    if config is not None and hasattr(config, "use_cache"):
        config.use_cache = True
    dest.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(dest)
    tokenizer.save_pretrained(dest)
    return dest


def merge_adapter(adapter_dir: Path, dest: Path, base: str | None = None) -> Path:
    """Merge a saved LoRA adapter into its base (read from the adapter config when not
    given) and save the result as a checkpoint directory."""
    from peft import PeftConfig, PeftModel
    from transformers import AutoTokenizer

    if base is None:
        base = PeftConfig.from_pretrained(str(adapter_dir)).base_model_name_or_path
        if not base:
            raise ExportError(f"{adapter_dir} does not name its base model; pass --base")
    try:
        trained = AutoTokenizer.from_pretrained(str(adapter_dir))  # the trained template
    except (OSError, ValueError):
        trained = None
    model, tokenizer = load_base_for_export(base, trained)
    model = PeftModel.from_pretrained(model, str(adapter_dir))
    return save_merged(model, tokenizer, dest)


def export_base(spec: str, dest: Path, outtype: str | None = "q8_0") -> Path:
    """Write a base model the way a tuned one is written (dequantised, loaded with the
    training tokenizer, saved as ``dest/model``, converted to ``dest/model.gguf`` at
    ``outtype``; None: the checkpoint only), so ``codeact train compare`` weighs base and
    tuned at one precision instead of a Q4 base against a Q8 tuned model."""
    if outtype is not None:
        check_gguf_type(outtype)
    model, tokenizer = load_base_for_export(spec)
    model_dir = save_merged(model, tokenizer, dest / "model")
    if outtype is None:
        return model_dir
    return export_gguf(model_dir, dest / "model.gguf", outtype)


def llama_cpp_version() -> str:
    try:
        return importlib.metadata.version("llama-cpp-python")
    except importlib.metadata.PackageNotFoundError:
        raise ExportError("GGUF export needs llama-cpp-python (pip install 'codeact[local]'): "
                          "its llama.cpp sources provide the converter") from None


def converter_dir(version: str | None = None) -> Path:
    """The unpacked converter for the installed llama-cpp-python (fetched on first use)."""
    from codeact.llm.models import cache_dir

    version = version or llama_cpp_version()
    root = cache_dir().parent / "llama.cpp-convert" / version
    script = root / "convert_hf_to_gguf.py"
    if script.is_file():
        return root
    root.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="codeact-sdist-") as tmp:
        sdist = _download_sdist(version, Path(tmp))
        staging = Path(tempfile.mkdtemp(prefix=f".{version}.", dir=root.parent))
        try:
            _extract(sdist, staging)
            if root.exists():
                shutil.rmtree(staging)
            else:
                os.replace(staging, root)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    return root


def _download_sdist(version: str, dest: Path) -> Path:
    """The llama-cpp-python ``version`` sdist from the index's simple API (PEP 503), its
    sha256 checked before it is used."""
    import httpx

    index = (os.environ.get("PIP_INDEX_URL") or PYPI_SIMPLE).rstrip("/")
    page_url = f"{index}/llama-cpp-python/"
    name = f"llama_cpp_python-{version}.tar.gz"
    try:
        with httpx.Client(follow_redirects=True, timeout=60.0) as client:
            page = client.get(page_url)
            page.raise_for_status()
            link = re.search(rf'href="([^"]*/?{re.escape(name)})#sha256=([0-9a-f]{{64}})"',
                             page.text)
            if link is None:
                raise ExportError(f"{page_url} lists no {name} with a sha256: cannot fetch "
                                  "the GGUF converter")
            url, want = urljoin(str(page.url), link[1]), link[2]
            out, digest, size = dest / name, hashlib.sha256(), 0
            with client.stream("GET", url) as r, open(out, "wb") as f:
                r.raise_for_status()
                for chunk in r.iter_bytes(1 << 20):
                    size += len(chunk)
                    if size > MAX_SDIST_BYTES:
                        raise ExportError(f"{name} is larger than {MAX_SDIST_BYTES >> 20} MiB")
                    digest.update(chunk)
                    f.write(chunk)
    except httpx.HTTPError as exc:
        raise ExportError(f"could not fetch the llama-cpp-python {version} sdist for its "
                          f"GGUF converter from {index}: {exc}") from None
    if digest.hexdigest() != want:
        raise ExportError(f"{name} from {url} does not match the index's sha256: refused")
    return out


def _extract(sdist: Path, dest: Path) -> None:
    with tarfile.open(sdist) as tar:
        members = []
        for m in tar.getmembers():
            parts = m.name.split("/vendor/llama.cpp/", 1)
            if len(parts) != 2 or not (m.isfile() or m.isdir()):
                continue
            rel = parts[1]
            if any(rel == p or rel.startswith(p) for p in _PIECES):
                m.name = rel
                members.append(m)
        if not any(m.name == "convert_hf_to_gguf.py" for m in members):
            raise ExportError(f"{sdist.name} has no vendor/llama.cpp/convert_hf_to_gguf.py")
        tar.extractall(dest, members=members, filter="data")


def export_gguf(model_dir: Path, dest: Path, outtype: str = "q8_0") -> Path:
    """Convert a checkpoint directory to one GGUF file with llama.cpp's converter."""
    check_gguf_type(outtype)
    # The converter runs in its own directory, so relative paths must be made absolute.
    model_dir, dest = Path(model_dir).resolve(), Path(dest).resolve()
    if not (model_dir / "config.json").is_file():
        raise ExportError(f"{model_dir} is not a checkpoint directory (no config.json)")
    conv = converter_dir()
    dest.parent.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, str(conv / "convert_hf_to_gguf.py"), str(model_dir),
           "--outfile", str(dest), "--outtype", outtype]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(conv), str(conv / "gguf-py")])}
    env.pop("NO_LOCAL_GGUF", None)
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=conv)
    if proc.returncode != 0 or not dest.is_file():
        lines = [ln for ln in (proc.stderr or proc.stdout).splitlines() if ln.strip()]
        tail = " | ".join(lines[-3:]) if lines else f"exit code {proc.returncode}"
        raise ExportError(f"convert_hf_to_gguf.py failed for {model_dir}: {tail}")
    return dest
