"""The Python environment kernels run in, separate from codeact's own.

Model code wants a data stack (pandas, scipy, scikit-learn, ...) that the host process does
not need. Kernels therefore run in their own virtual environment, by default one created
under the user data dir from the lock shipped next to this module (``kernel_env.lock``),
or in any environment the user names (``--kernel-env PATH``, config key ``kernel_env``,
``$CODEACT_KERNEL_ENV``; it must have ipykernel). The environment's prefix and its base
interpreter's prefix are mounted read-only in the sandbox.

Without a kernel environment (none created yet, and creation impossible, e.g. offline)
kernels run in codeact's own interpreter, as before, with one warning saying so.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import platformdirs

from ..errors import CodeactError
from .kernel import source

log = logging.getLogger("codeact.runtime")

LOCK_PATH = Path(__file__).with_name("kernel_env.lock")
MARKER = ".codeact-kernel-env.json"
OWN = ("self", "codeact", "none")  # spellings for "codeact's own interpreter"
MAX_LISTED = 40  # packages named in the system prompt, at most


class KernelEnvError(CodeactError, RuntimeError):
    """A kernel environment is unusable (missing, no ipykernel) or could not be made."""


@dataclass(frozen=True)
class KernelEnv:
    """An interpreter for kernels: its path, what to mount, what it has installed.

    ``own``: codeact's own interpreter (the fallback). ``packages``: the notable
    distributions (the lock's requested list for the default environment; the top-level
    distributions of any other); ``modules``: the name each is imported by, for the
    system prompt (seen: a 1.5B model shown "scikit-learn, beautifulsoup4, pyyaml" wrote
    ``import scikit-learn as sk`` and ``import pyyaml``).
    """

    python: str
    prefixes: tuple[str, ...]
    version: str  # "3.11"
    packages: tuple[str, ...] = ()
    modules: tuple[str, ...] = ()  # import names of ``packages`` (empty: unknown)
    path: str | None = None
    own: bool = False
    stale: bool = False  # created from an older lock

    @property
    def bin_dirs(self) -> list[str]:
        """Directories for ``PATH`` inside the sandbox, the environment's first."""
        out = [os.path.dirname(os.path.abspath(self.python))]
        out += [f"{p}/bin" for p in self.prefixes if f"{p}/bin" not in out]
        return out

    def describe(self) -> str:
        if self.own:
            return f"codeact's own interpreter ({self.python}, Python {self.version})"
        return f"{self.path} (Python {self.version}, {len(self.packages)} packages listed)"


def default_path() -> Path:
    """Where ``codeact kernel-env create`` puts the environment by default."""
    return Path(platformdirs.user_data_dir("codeact")) / "kernel-env"


def lock_text() -> str:
    return LOCK_PATH.read_text(encoding="utf-8")


def lock_sha() -> str:
    return hashlib.sha256(lock_text().encode()).hexdigest()[:16]


def requested() -> list[str]:
    """The packages the lock was resolved for (the ``# requested:`` line)."""
    for line in lock_text().splitlines():
        if line.startswith("# requested:"):
            return line.split(":", 1)[1].split()
    return []


def pins() -> list[str]:
    return [ln.strip() for ln in lock_text().splitlines()
            if ln.strip() and not ln.lstrip().startswith("#")]


# Run by the candidate interpreter: where it lives, and what it has installed.
_PROBE = source("env_probe")


def _python_of(spec: str) -> Path:
    """The interpreter for ``spec``: a venv/prefix directory, or an interpreter path."""
    p = Path(spec).expanduser()
    if p.is_dir():
        for cand in (p / "bin" / "python", p / "bin" / "python3"):
            if cand.exists():
                return cand
        raise KernelEnvError(f"kernel environment {spec}: no bin/python in that directory "
                             "(give a virtual environment, or an interpreter's path)")
    if p.is_file() and os.access(p, os.X_OK):
        return p
    raise KernelEnvError(f"kernel environment {spec}: no such directory or interpreter")


def _mounts(info: dict) -> tuple[str, ...]:
    from .sandboxes.environment import prefixes_to_mount

    cands = [info["prefix"], info["base_prefix"], info["exec_prefix"],
             info["base_exec_prefix"],
             os.path.dirname(os.path.dirname(os.path.realpath(info["executable"])))]
    cands += [p for p in info["paths"] if p]
    return tuple(prefixes_to_mount(cands))


@functools.lru_cache(maxsize=16)
def _probe(python: str, stamp: float) -> dict:
    del stamp  # part of the cache key only: a changed environment is probed again
    try:
        r = subprocess.run([python, "-s", "-c", _PROBE], capture_output=True, text=True,
                           timeout=60, env={**os.environ, "PYTHONNOUSERSITE": "1"})
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise KernelEnvError(f"kernel environment {python}: cannot run it: {exc}") from None
    if r.returncode != 0:
        raise KernelEnvError(f"kernel environment {python}: it fails to start: "
                             f"{r.stderr.strip()[-500:]}")
    return json.loads(r.stdout)


def _stamp(python: Path) -> float:
    """Changes when packages are added to or removed from the environment."""
    root = python.parent.parent
    best = 0.0
    for d in [root, *root.glob("lib/python*/site-packages")]:
        try:
            best = max(best, d.stat().st_mtime)
        except OSError:
            pass
    return best


def probe(spec: str) -> KernelEnv:
    """Inspect an environment; raise :class:`KernelEnvError` if kernels cannot use it."""
    python = _python_of(spec)
    info = _probe(str(python), _stamp(python))
    if not info["ipykernel"]:
        pip = python.parent / "pip"
        how = f"`{pip} install ipykernel`" if pip.exists() else "pip install ipykernel into it"
        raise KernelEnvError(f"kernel environment {spec} has no ipykernel, which kernels need: "
                             f"install it with {how}")
    path = str(Path(info["prefix"]))
    marker = Path(path) / MARKER
    packages: list[str] = info["leaves"]
    stale = False
    if marker.exists():
        try:
            meta = json.loads(marker.read_text())
            packages = [p for p in meta.get("requested", []) if p != "ipykernel"] or packages
            stale = meta.get("lock_sha") != lock_sha()
        except (OSError, ValueError):
            pass
    listed = packages[:MAX_LISTED]
    return KernelEnv(python=str(python), prefixes=_mounts(info), version=info["version"],
                     packages=tuple(listed),
                     modules=tuple(import_name(p, info.get("imports", {})) for p in listed),
                     path=path, stale=stale)


def import_name(distribution: str, imports: dict[str, list[str]]) -> str:
    """The module a distribution is imported by (``scikit-learn`` -> ``sklearn``): the
    one named like it, else the shortest it installs, else the distribution's own name
    with dashes made underscores."""
    key = re.sub(r"[-_.]+", "-", distribution).lower()
    modules = imports.get(key) or []
    same = [m for m in modules if m.lower() == key.replace("-", "_")]
    if same:
        return same[0]
    if modules:
        return min(modules, key=lambda m: (len(m), m))
    return key.replace("-", "_")


@functools.cache
def own() -> KernelEnv:
    """codeact's own interpreter: the fallback, and ``--kernel-env self``."""
    from .sandboxes.environment import python_prefixes

    # normalised: ".../benchmarks/../.venv/bin/python" names a directory not mounted
    return KernelEnv(python=os.path.abspath(sys.executable), prefixes=tuple(python_prefixes()),
                     version=f"{sys.version_info[0]}.{sys.version_info[1]}", own=True)


def is_ready(path: Path) -> bool:
    """A complete environment made by :func:`create` is at ``path``."""
    return (path / MARKER).is_file()


_warned: set[str] = set()


def _warn_once(key: str, message: str) -> None:
    if key not in _warned:
        _warned.add(key)
        log.warning("%s", message)


def resolve(spec: str | None = None) -> KernelEnv:
    """The environment kernels use: ``spec`` (a path, or ``self`` for codeact's own
    interpreter); else ``$CODEACT_KERNEL_ENV``; else the default environment if it has
    been created; else codeact's own interpreter, with one warning."""
    spec = spec or os.environ.get("CODEACT_KERNEL_ENV") or None
    if spec is not None and spec.strip().lower() in OWN:
        return own()
    if spec is not None:
        env = probe(spec)
    else:
        path = default_path()
        if not is_ready(path):
            _warn_once("missing", "no kernel environment yet: kernels run in codeact's own "
                       f"interpreter, without the data stack. Create it with `codeact "
                       f"kernel-env create` (into {path}), or point --kernel-env at a venv")
            return own()
        try:
            env = probe(str(path))
        except KernelEnvError as exc:
            _warn_once("broken", f"{exc}; kernels run in codeact's own interpreter. Recreate "
                       "it with `codeact kernel-env create --force`")
            return own()
    if env.stale:
        _warn_once(f"stale:{env.path}", f"kernel environment {env.path} was made from an "
                   "older lock: update it with `codeact kernel-env create`")
    return env


def prompt_info(sandbox: Any) -> tuple[list[str], bool]:
    """(modules to name in the system prompt, whether ``%pip install`` is allowed) for a
    sandbox setting, without starting a kernel."""
    from .packages import PackagePolicy
    from .sandboxes.base import SandboxConfig

    try:
        cfg = SandboxConfig.coerce(sandbox)
        env = resolve(cfg.kernel_env)
        policy = PackagePolicy.coerce(cfg.packages)
    except (KernelEnvError, ValueError, TypeError):
        return [], False
    return list(env.modules or env.packages), policy.mode != "deny"


Progress = Callable[[str, int, int], None]  # (phase message, done, total)


def create(path: Path | None = None, *, force: bool = False,
           progress: Progress | None = None, python: str | None = None) -> KernelEnv:
    """Create the kernel environment from the lock (wheels only) at ``path``; an
    existing one is kept unless it was made from another lock or ``force`` is given.

    Built in a temporary sibling directory and moved into place at the end, so an
    interrupted or failed creation never leaves a half-made environment that looks ready.
    """
    path = Path(path) if path is not None else default_path()
    if is_ready(path) and not force:
        try:
            existing = probe(str(path))
            if not existing.stale:  # made from this lock: nothing to do
                return existing
        except KernelEnvError:
            pass  # broken: make it again
    note = progress or (lambda _m, _d, _t: None)
    base = python or getattr(sys, "_base_executable", None) or sys.executable
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}-new-", dir=path.parent))
    tmp.chmod(0o755)  # mkdtemp makes it private; the sandbox user must read it
    the_pins = pins()
    total = len(the_pins)
    try:
        note("creating the virtual environment", 0, total)
        _run([base, "-m", "venv", "--clear", "--without-pip", str(tmp)], "creating the venv")
        final_tmp = tmp
        tpy = final_tmp / "bin" / "python"
        argv = [sys.executable, "-m", "pip", "--python", str(tpy), "install",
                "--no-input", "--only-binary", ":all:", "--no-deps", "--progress-bar", "off",
                "--disable-pip-version-check", "-r", str(LOCK_PATH)]
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True)
        assert proc.stdout is not None
        seen = 0
        tail: list[str] = []
        for line in proc.stdout:
            tail = (tail + [line.rstrip()])[-20:]
            if line.startswith(("Collecting ", "Processing ", "Requirement already satisfied")):
                seen += 1
                note(f"fetching {line.split()[1] if len(line.split()) > 1 else ''}",
                     min(seen, total), total)
            elif line.startswith("Installing collected packages"):
                note("installing (unpacking wheels)", total, total)
        if proc.wait() != 0:
            raise KernelEnvError("installing the kernel environment failed (pip exited "
                                 f"{proc.returncode}): " + " | ".join(
                                     ln for ln in tail if ln.strip())[-800:])
        (final_tmp / MARKER).write_text(json.dumps({
            "lock_sha": lock_sha(), "requested": requested(), "created": time.time(),
            "python": str(base)}))
        note("checking it starts", total, total)
        old = None
        if path.exists():
            old = path.with_name(f".{path.name}-old-{os.getpid()}")
            path.rename(old)
        final_tmp.rename(path)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        _fix_paths(final_tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return probe(str(path))


def _fix_paths(old: Path, new: Path) -> None:
    """Point a moved venv's config and script shebangs at its new location."""
    for f in [new / "pyvenv.cfg", *(new / "bin").iterdir()]:
        try:
            if f.is_symlink() or not f.is_file() or f.stat().st_size > 1 << 20:
                continue
            data = f.read_bytes()
        except OSError:
            continue
        if str(old).encode() in data:
            f.write_bytes(data.replace(str(old).encode(), str(new).encode()))


def _run(argv: list[str], what: str) -> None:
    r = subprocess.run(argv, capture_output=True, text=True)
    if r.returncode != 0:
        raise KernelEnvError(f"{what} failed: {(r.stderr or r.stdout).strip()[-800:]}")


def size_bytes(path: Path) -> int:
    total = 0
    for dirpath, _dirs, files in os.walk(path):
        for f in files:
            try:
                total += os.lstat(os.path.join(dirpath, f)).st_size
            except OSError:
                pass
    return total

