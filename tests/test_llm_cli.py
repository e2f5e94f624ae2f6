"""`codeact models list | pull | path` (the typer sub-app the main CLI mounts)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from codeact.llm import models
from codeact.llm.cli import app
from codeact.llm.models import ModelInfo

DATA = b"fake gguf bytes" * 100


@pytest.fixture
def tiny(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ModelInfo:
    monkeypatch.setenv("CODEACT_CACHE_DIR", str(tmp_path / "cache"))
    info = ModelInfo(name="tiny", filename="tiny.gguf", size=len(DATA),
                     sha256=hashlib.sha256(DATA).hexdigest(), hf_repo="o/r", hf_file="tiny.gguf",
                     hf_revision="main", description="a tiny test model")
    monkeypatch.setattr(models, "MODELS", {"tiny": info})

    def fake_source(info: ModelInfo, sink: models._Sink, describe: object) -> None:
        sink.write(DATA)

    monkeypatch.setattr(models, "SOURCES", {"pypi": fake_source})
    return info


def test_list_shows_cached_state(tiny: ModelInfo) -> None:
    runner = CliRunner()
    out = runner.invoke(app, ["list"])
    assert out.exit_code == 0 and "tiny" in out.output and "no" in out.output
    runner.invoke(app, ["pull", "tiny", "-q"])
    out = runner.invoke(app, ["list"], terminal_width=200)
    assert "yes" in out.output and "tiny.gguf" in out.output


def test_pull_then_path(tiny: ModelInfo) -> None:
    runner = CliRunner()
    missing = runner.invoke(app, ["path", "tiny"])
    assert missing.exit_code == 1 and "codeact models pull tiny" in missing.output
    pulled = runner.invoke(app, ["pull", "tiny", "--quiet"])
    assert pulled.exit_code == 0
    path = Path(pulled.output.strip())
    assert path.read_bytes() == DATA
    found = runner.invoke(app, ["path", "tiny"])
    assert found.exit_code == 0 and found.output.strip() == str(path)


def test_pull_failure_is_one_error_line(tiny: ModelInfo, monkeypatch: pytest.MonkeyPatch) -> None:
    def bad(info: ModelInfo, sink: models._Sink, describe: object) -> None:
        sink.write(b"wrong")

    monkeypatch.setattr(models, "SOURCES", {"pypi": bad})
    out = CliRunner().invoke(app, ["pull", "tiny", "-q"])
    assert out.exit_code == 1
    assert "error: could not pull tiny: pypi: size mismatch" in " ".join(out.output.split())


def test_unknown_model(tiny: ModelInfo) -> None:
    out = CliRunner().invoke(app, ["pull", "nope"])
    assert out.exit_code == 1 and "unknown model 'nope'" in out.output


def test_path_of_a_gguf_file(tmp_path: Path) -> None:
    gguf = tmp_path / "x.gguf"
    gguf.write_bytes(b"GGUF")
    out = CliRunner().invoke(app, ["path", str(gguf)])
    assert out.exit_code == 0 and out.output.strip() == str(gguf.resolve())


def test_add_then_list_and_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CODEACT_CONFIG", str(tmp_path / "config.toml"))
    gguf = tmp_path / "tuned.gguf"
    gguf.write_bytes(b"GGUF")
    runner = CliRunner()
    added = runner.invoke(app, ["add", "my-tuned", str(gguf)])
    assert added.exit_code == 0, added.output
    listed = runner.invoke(app, ["list"], terminal_width=250)
    assert "my-tuned" in listed.output and "local" in listed.output
    found = runner.invoke(app, ["path", "my-tuned"])
    assert found.exit_code == 0 and found.output.strip() == str(gguf)
    bad = runner.invoke(app, ["add", "x", str(tmp_path / "missing.gguf")])
    assert bad.exit_code == 2 and "not found" in bad.output
