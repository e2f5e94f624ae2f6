"""Package installs for a sandboxed kernel, done by the host: the sandbox stays offline.

``%pip install NAME`` (or ``!pip install NAME``) in the kernel sends the request over the
session's tool bridge. The host checks it against a :class:`PackagePolicy`, resolves it with
the kernel environment's interpreter (wheels only: nothing is built or run on the host),
downloads the wheels with its own network, checks the size cap and installs them into the
session's overlay site directory, which the kernel sees read-only on ``sys.path``. The
overlay dies with the session, or is kept for the workspace (``persist``; under the user
data dir, never inside the workspace, which model code can write).

Every refusal is one line: "package installs are disabled", "blocked by policy: ...",
"no wheel for this platform: ...", "no package named ... on the index".
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import CodeactError

log = logging.getLogger("codeact.runtime")

MODES = ("allow", "deny", "ask")
INSIDE_SITE = "/opt/codeact/site-packages"  # where the kernel sees the overlay
PIP_TIMEOUT = 600.0
_REQ = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[A-Za-z0-9._,-]*\])?"
                  r"((?:(?:==|>=|<=|~=|!=|<|>|===)[A-Za-z0-9.*+!_-]+,?)*)\Z")  # $ takes a "\n"
_FLAGS = {"-q", "--quiet", "-U", "--upgrade", "--no-cache-dir", "--user", "-v", "--verbose",
          "--disable-pip-version-check", "--no-warn-script-location", "--progress-bar=off"}

Ask = Callable[[str], bool]  # shown a one-line summary, says yes or no


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


class InstallRefused(CodeactError):
    """An install that is refused or impossible; the message is the one-line reason."""


@dataclass
class PackagePolicy:
    """Whether and what model code may install (through the host).

    ``mode``: ``allow`` (anything not denied; only the ``allow`` list when it is given),
    ``deny`` (no installs), ``ask`` (ask the ``ask`` callback, e.g. the chat user; with no
    one to ask it behaves as ``deny``). ``deny`` names are refused also as dependencies.
    ``max_mb``: cap on the wheels one session downloads in total. ``persist``: keep the
    overlay for the workspace (see :func:`overlay_prefix`) instead of a temporary dir.
    """

    mode: str = "allow"
    allow: tuple[str, ...] = ()
    deny: tuple[str, ...] = ()
    max_mb: int = 200
    persist: bool = False
    ask: Ask | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"unknown package policy {self.mode!r} (use allow, deny or ask)")
        self.allow = tuple(canonical(n) for n in self.allow)
        self.deny = tuple(canonical(n) for n in self.deny)

    @classmethod
    def coerce(cls, value: PackagePolicy | str | None) -> PackagePolicy:
        """A policy from a policy, a mode name, or None (``$CODEACT_PACKAGES`` or allow)."""
        if isinstance(value, PackagePolicy):
            return value
        if value is None:
            value = os.environ.get("CODEACT_PACKAGES") or "allow"
        if isinstance(value, str):
            return cls(mode=value.strip().lower())
        raise TypeError(f"packages must be a PackagePolicy or allow/deny/ask, not {value!r}")

    def check_requested(self, names: list[str]) -> None:
        if self.mode == "deny":
            raise InstallRefused("package installs are disabled")
        for n in names:
            c = canonical(n)
            if c in self.deny:
                raise InstallRefused(f"blocked by policy: {n} is on the deny list")
            if self.allow and c not in self.allow:
                raise InstallRefused(f"blocked by policy: {n} is not on the allow list")

    def check_resolved(self, dists: list[tuple[str, str]], mb: float | None = None) -> None:
        for name, _version in dists:
            if canonical(name) in self.deny:
                raise InstallRefused(f"blocked by policy: {name} (a dependency) is on the "
                                     "deny list")
        if self.mode == "ask":
            what = ", ".join(f"{n} {v}" for n, v in dists)
            if self.ask is None:
                raise InstallRefused("blocked by policy: installs need approval (--packages ask)"
                                     " and there is no one to ask")
            if not self.ask(f"install {what} into the sandbox?"):
                raise InstallRefused(f"blocked by policy: the user declined {what}")


def parse_pip_args(args: list[str]) -> list[str]:
    """The requirement specs of ``pip install ARGS``; anything but names is refused."""
    if not args or args[0] != "install":
        raise InstallRefused("only `pip install NAME...` works in the sandbox (the kernel is "
                             "offline; installs go through the host)")
    specs: list[str] = []
    for a in args[1:]:
        if a in _FLAGS:
            continue
        if a.startswith("-"):
            raise InstallRefused(f"pip option {a} is not supported here: give package names")
        spec = a.replace(" ", "")
        if not _REQ.match(spec):
            raise InstallRefused(f"only package names (with optional versions) can be "
                                 f"installed, not {a!r}")
        specs.append(spec)
    if not specs:
        raise InstallRefused("no package named: use `%pip install NAME`")
    return specs


def _spec_name(spec: str) -> str:
    m = _REQ.match(spec)
    return m.group(1) if m else spec


class Installer:
    """Host side of ``%pip install`` for one session: policy, resolve, download, install.

    ``python``: the kernel's interpreter (wheels are chosen for it). ``prefix``: the
    overlay's install prefix on the host; the kernel sees :attr:`site_dir` at
    :data:`INSIDE_SITE`.
    """

    def __init__(self, policy: PackagePolicy, python: str, version: str, prefix: Path) -> None:
        self.policy = policy
        self.python = python
        self.prefix = Path(prefix)
        self.site_dir = self.prefix / "lib" / f"python{version}" / "site-packages"
        self.site_dir.mkdir(parents=True, exist_ok=True)
        for d in [self.prefix, *self.site_dir.relative_to(self.prefix).parents, self.site_dir]:
            (self.prefix / d).chmod(0o755)
        self.downloaded = 0  # bytes of wheels installed so far in this session
        self._lock = threading.Lock()

    def _pip(self, *args: str, timeout: float = PIP_TIMEOUT) -> subprocess.CompletedProcess[str]:
        """Run the host's pip for the kernel's interpreter. Never with the overlay on the
        path: what a downloaded wheel contains (a ``sitecustomize.py``, say) must not run
        on the host. An empty working directory: a name is never read as a local file."""
        argv = [sys.executable, "-m", "pip", "--python", self.python, *args,
                "--no-input", "--disable-pip-version-check"]
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME",
                                                                 "PYTHONSTARTUP")}
        env.update(PIP_NO_COLOR="1", PYTHONNOUSERSITE="1")
        with tempfile.TemporaryDirectory(prefix="codeact-pipcwd-") as cwd:
            return subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                                  env=env, cwd=cwd)

    def installed(self) -> dict[str, str]:
        """What the overlay already holds: canonical name → version (from dist-info)."""
        out: dict[str, str] = {}
        for d in self.site_dir.glob("*.dist-info"):
            name, _, version = d.name[: -len(".dist-info")].partition("-")
            out[canonical(name)] = version
        return out

    def install(self, args: list[str]) -> dict[str, Any]:
        """Run one ``pip install`` request; a JSON-safe reply for the kernel."""
        try:
            with self._lock:
                return self._install(args)
        except InstallRefused as exc:
            return {"ok": False, "message": str(exc)}
        except subprocess.TimeoutExpired:
            return {"ok": False, "message": "the install took too long on the host and was "
                                            "stopped"}
        except Exception as exc:  # the host must always answer
            log.exception("package install failed")
            return {"ok": False, "message": f"the install failed on the host: {exc}"}

    def _install(self, args: list[str]) -> dict[str, Any]:
        specs = parse_pip_args([str(a) for a in args])
        self.policy.check_requested([_spec_name(s) for s in specs])
        if importlib.util.find_spec("pip") is None:
            raise InstallRefused("package installs need pip in codeact's own environment on "
                                 "the host (python -m ensurepip)")
        with tempfile.TemporaryDirectory(prefix="codeact-pip-") as tmp:
            report = Path(tmp) / "report.json"
            r = self._pip("install", "--dry-run", "--quiet", "--only-binary", ":all:",
                          "--prefix", str(self.prefix), "--report", str(report), *specs)
            if r.returncode != 0:
                raise InstallRefused(self._why(r.stderr + r.stdout, specs))
            items = json.loads(report.read_text()).get("install", [])
            have = self.installed()  # pip sees the kernel env, not the overlay
            dists = [(i["metadata"]["name"], i["metadata"]["version"]) for i in items]
            dists = [(n, v) for n, v in dists if have.get(canonical(n)) != v]
            if not dists:
                return {"ok": True, "installed": [], "message": "already installed"}
            self.policy.check_resolved(dists)
            wheels = Path(tmp) / "wheels"
            r = self._pip("download", "--quiet", "--no-deps", "--only-binary", ":all:",
                          "-d", str(wheels), *(f"{n}=={v}" for n, v in dists))
            if r.returncode != 0:
                raise InstallRefused(self._why(r.stderr + r.stdout, specs))
            files = sorted(wheels.glob("*.whl"))
            size = sum(f.stat().st_size for f in files)
            cap = self.policy.max_mb << 20
            if self.downloaded + size > cap:
                raise InstallRefused(
                    f"blocked by policy: {size / 1e6:.1f} MB of wheels would pass the "
                    f"session's size cap of {self.policy.max_mb} MB"
                    + (f" ({self.downloaded / 1e6:.1f} MB used)" if self.downloaded else ""))
            r = self._pip("install", "--quiet", "--no-index", "--no-deps", "--prefix",
                          str(self.prefix), *map(str, files))
            if r.returncode != 0:
                raise InstallRefused("installing the wheels failed: "
                                     + _last_error(r.stderr + r.stdout))
            self.downloaded += size
        return {"ok": True, "installed": [[n, v] for n, v in dists],
                "mb": round(size / 1e6, 2)}

    def _why(self, output: str, specs: list[str]) -> str:
        """One line for a failed resolution: missing package, no wheel, or no index."""
        out = output.lower()
        if "no matching distribution" in out or "could not find a version" in out:
            m = re.search(r"requirement ([A-Za-z0-9._\[\]=<>!~,-]+)", output)
            name = _spec_name(m.group(1)) if m else _spec_name(specs[0])
            r = self._pip("index", "versions", name, timeout=120)
            if r.returncode == 0 and "available versions" in r.stdout.lower():
                return (f"no wheel for this platform: {name} has no pre-built wheel for "
                        "this Python/platform (source builds are not done here)")
            return f"no package named {name!r} on the package index"
        if any(s in out for s in ("connection", "network", "temporary failure", "timed out")):
            return "the host could not reach the package index"
        return "pip could not resolve it: " + _last_error(output)


def _last_error(output: str) -> str:
    lines = [ln.strip() for ln in output.splitlines() if ln.strip()]
    errs = [ln for ln in lines if ln.lower().startswith("error")]
    return ((errs or lines or ["unknown error"])[-1])[:300]


def overlay_prefix(workspace: Path, persist: bool) -> tuple[Path, bool]:
    """Where a session's overlay lives: (path, remove it on close).

    Never inside the workspace: model code can write there, and a symlink it planted
    would make the host's pip write through it. A kept overlay lives under the user data
    dir, one per workspace path, and is mounted read-only like the temporary one.
    """
    if persist:
        import hashlib

        import platformdirs

        key = hashlib.sha256(str(Path(workspace).resolve()).encode()).hexdigest()[:16]
        p = Path(platformdirs.user_data_dir("codeact")) / "packages" / key
        p.mkdir(parents=True, exist_ok=True)
        return p, False
    return Path(tempfile.mkdtemp(prefix="codeact-pkgs-")), True


def remove_overlay(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
