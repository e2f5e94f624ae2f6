"""Per-session cgroups: one memory cap, process cap and CPU weight for a whole session.

rlimits only limit each process: a session with 256 processes of 4 GB each may take far
more memory than the host has. A cgroup holds every process of a session (bwrap, the
kernel and whatever model code starts), so its limits count them together.

Which kind is used is decided once per host process (:func:`detect`):

* ``v2``: the unified hierarchy, in a subtree we may write (root, or a delegated one).
  Session groups go below our own cgroup; if it holds processes (the "no internal
  processes" rule) we first move ourselves into a leaf ``codeact.host`` beside them.
* ``systemd``: cgroup v2 not writable, but ``systemd-run --user --scope`` works: each
  kernel starts inside its own transient scope with the same limits as properties.
* ``v1``: the legacy per-controller hierarchies (memory, pids, cpu) are writable (root).
* ``off``: none of these: rlimits stay, and they are per process only.

A kernel joins its group before it execs (a tiny ``sh`` that writes its own pid to each
``cgroup.procs``, then ``exec``s bwrap), so every later child is born inside.
"""

from __future__ import annotations

import errno
import functools
import logging
import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import CodeactError

log = logging.getLogger("codeact.runtime")

CGROUP_ROOT = Path("/sys/fs/cgroup")
MODES = ("auto", "off", "required")
V1_CONTROLLERS = ("memory", "pids", "cpu")
V2_CONTROLLERS = ("memory", "pids", "cpu")
GROUP_PARENT = "codeact"  # v1: <own cgroup>/codeact/<session>
HOST_LEAF = "codeact.host"  # v2: where this process moves when its cgroup must be inner
CPU_WEIGHT_V2 = 100  # the default weight: every session gets the same share
CPU_SHARES_V1 = 1024

# joins each cgroup given before "--" (its own pid: $$), then becomes the real command
JOIN_SH = ('while [ "$1" != -- ]; do echo $$ > "$1" || exit 97; shift; done; '
           'shift; exec "$@"')


class CgroupUnavailable(CodeactError, RuntimeError):
    """``cgroups="required"`` but no cgroup kind can be used here."""


@dataclass(frozen=True)
class Limits:
    """What one session's group allows: all its processes together."""

    memory_bytes: int | None
    pids: int | None
    cpu_weight: int = CPU_WEIGHT_V2


@dataclass
class Plan:
    """Which cgroup kind this host allows, and where session groups go."""

    mode: str  # "v2" | "v1" | "systemd" | "off"
    reason: str
    parents: dict[str, Path] = field(default_factory=dict)  # v1: controller → dir; v2: ""

    @property
    def active(self) -> bool:
        return self.mode != "off"

    def describe(self) -> str:
        if self.mode == "v2":
            return f"cgroup v2 at {self.parents['']}: {self.reason}"
        if self.mode == "v1":
            where = ", ".join(f"{c}: {p}" for c, p in sorted(self.parents.items()))
            return f"cgroup v1 ({where}): {self.reason}"
        if self.mode == "systemd":
            return f"systemd-run --user --scope: {self.reason}"
        return f"off: {self.reason}"


FALLBACK_WARNING = (
    "per-session cgroup limits are not in force ({why}); rlimits only: memory "
    "(RLIMIT_AS) and CPU time are limited per process, so a session of many processes may "
    "use up to max_processes x memory_mb; there is no CPU share between sessions")


# -- detection ----------------------------------------------------------------------------
def parse_proc_cgroup(text: str) -> dict[str, str]:
    """``/proc/self/cgroup`` → controller → path (``""`` is the v2 unified entry)."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        parts = line.strip().split(":", 2)
        if len(parts) != 3:
            continue
        _hid, ctrls, path = parts
        if not ctrls:
            out[""] = path
        for c in ctrls.split(","):
            if c:
                out[c] = path
    return out


def _writable_dir(p: Path) -> bool:
    return p.is_dir() and os.access(p, os.W_OK) and os.access(p / "cgroup.procs", os.W_OK)


def _read(p: Path) -> str:
    try:
        return p.read_text()
    except OSError:
        return ""


def detect_v2(root: Path, own: str, pid: int) -> Plan | None:
    """A writable v2 subtree with memory and pids, or None (with the reason logged)."""
    if not (root / "cgroup.controllers").exists():
        return None
    here = root / own.lstrip("/")
    if here.name == HOST_LEAF:  # we moved ourselves already
        here = here.parent
    if not _writable_dir(here):
        log.debug("cgroup v2: %s is not writable", here)
        return None
    available = set(_read(here / "cgroup.controllers").split())
    missing = [c for c in ("memory", "pids") if c not in available]
    if missing:
        log.debug("cgroup v2: %s lacks controllers %s", here, missing)
        return None
    want = [c for c in V2_CONTROLLERS if c in available]
    enabled = set(_read(here / "cgroup.subtree_control").split())
    if not set(want) <= enabled:
        try:
            _enable(here, want)
        except OSError as exc:
            if exc.errno != errno.EBUSY:
                log.debug("cgroup v2: cannot enable controllers in %s: %s", here, exc)
                return None
            # "no internal processes": our own group holds processes; move ourselves
            # into a leaf beside the session groups, then try again
            try:
                leaf = here / HOST_LEAF
                leaf.mkdir(exist_ok=True)
                (leaf / "cgroup.procs").write_text(f"{pid}\n")
                _enable(here, want)
            except OSError as exc2:
                log.debug("cgroup v2: %s holds other processes: %s", here, exc2)
                return None
    return Plan("v2", "memory, pids" + (", cpu" if "cpu" in want else "") + " delegated",
                {"": here})


def _enable(here: Path, controllers: list[str]) -> None:
    (here / "cgroup.subtree_control").write_text(" ".join(f"+{c}" for c in controllers))


def detect_v1(root: Path, own: dict[str, str]) -> Plan | None:
    """Writable v1 memory and pids hierarchies (cpu where writable too), or None."""
    parents: dict[str, Path] = {}
    for c in V1_CONTROLLERS:
        mount = root / c
        if not mount.is_dir() or c not in own:
            continue
        here = mount / own[c].lstrip("/")
        if _writable_dir(here):
            parents[c] = here / GROUP_PARENT
    if "memory" not in parents or "pids" not in parents:
        return None
    return Plan("v1", "memory, pids" + (", cpu" if "cpu" in parents else "")
                + " hierarchies writable", parents)


def detect_systemd() -> Plan | None:
    """``systemd-run --user --scope`` with the memory and task properties, or None."""
    exe = shutil.which("systemd-run")
    if exe is None:
        return None
    try:
        r = subprocess.run([exe, "--user", "--scope", "--quiet", "-p", "MemoryMax=infinity",
                            "-p", "TasksMax=infinity", "--", "true"],
                           capture_output=True, text=True, timeout=15)
    except (OSError, subprocess.SubprocessError) as exc:
        log.debug("systemd-run: %s", exc)
        return None
    if r.returncode != 0:
        log.debug("systemd-run --user --scope failed: %s", r.stderr.strip())
        return None
    return Plan("systemd", "user manager delegates memory and tasks", {})


def detect(root: Path = CGROUP_ROOT, proc_cgroup: str | None = None,
           pid: int | None = None, try_systemd: bool = True) -> Plan:
    """Decide which cgroup kind to use here (v2, then systemd-run, then v1, else off)."""
    if proc_cgroup is None:
        proc_cgroup = _read(Path("/proc/self/cgroup"))
    own = parse_proc_cgroup(proc_cgroup)
    pid = os.getpid() if pid is None else pid
    if "" in own:
        plan = detect_v2(root, own[""], pid)
        if plan is not None:
            return plan
    if try_systemd and (root / "cgroup.controllers").exists():
        plan = detect_systemd()
        if plan is not None:
            return plan
    plan = detect_v1(root, own)
    if plan is not None:
        return plan
    if not own:
        why = "no cgroup information in /proc/self/cgroup"
    elif os.geteuid() != 0 and not (root / "cgroup.controllers").exists():
        why = "cgroup v1 needs root"
    else:
        why = "no writable cgroup subtree with the memory and pids controllers"
    return Plan("off", why)


@functools.cache
def host_plan() -> Plan:
    """:func:`detect` for this process, once (it may move us into a v2 leaf); also
    removes the groups a killed codeact process left behind."""
    plan = detect()
    log.info("session cgroups: %s", plan.describe())
    sweep_stale(plan)
    return plan


def group_name(session_id: str, suffix: str) -> str:
    """``PID.SESSION-SUFFIX``: the creating process's pid lets a later one sweep it."""
    return f"{os.getpid()}.{session_id}-{suffix}"


def sweep_stale(plan: Plan) -> int:
    """Remove session groups whose creating process is gone (it was killed with -9).

    Their kernels died with it (bwrap's --die-with-parent); anything left is killed.
    Returns how many groups were removed.
    """
    removed = 0
    for parent in plan.parents.values():
        try:
            children = [d for d in parent.iterdir() if d.is_dir()]
        except OSError:
            continue
        for d in children:
            pid, dot, _ = d.name.partition(".")
            if not dot or not pid.isdigit() or Path(f"/proc/{pid}").exists():
                continue
            for tok in _read(d / "cgroup.procs").split():
                try:
                    os.kill(int(tok), signal.SIGKILL)
                except (ProcessLookupError, PermissionError, ValueError):
                    pass
            for _ in range(50):
                try:
                    d.rmdir()
                    removed += 1
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.02)
    if removed:
        log.info("removed %d session cgroups left by processes that are gone", removed)
    return removed


def plan_for(setting: str) -> Plan:
    """The plan a ``SandboxConfig.cgroups`` setting gives (raises when required fails)."""
    if setting not in MODES:
        raise ValueError(f"cgroups must be one of {', '.join(MODES)}, not {setting!r}")
    if setting == "off":
        return Plan("off", "turned off (cgroups='off')")
    plan = host_plan()
    if setting == "required" and not plan.active:
        raise CgroupUnavailable(
            f"cgroups='required' but per-session cgroups cannot be used here: {plan.reason}. "
            "Run as root (cgroup v1/v2), under a delegated cgroup v2 subtree "
            "(systemd Delegate=yes), or where `systemd-run --user --scope` works")
    return plan


_warned: set[str] = set()


def warn_fallback(plan: Plan) -> None:
    """Log, once per reason, which limits are only per process without cgroups."""
    if plan.active or plan.reason in _warned:
        return
    _warned.add(plan.reason)
    log.warning(FALLBACK_WARNING.format(why=plan.reason))


# -- one session's group --------------------------------------------------------------------
class SessionCgroup:
    """The cgroup of one kernel: created with its limits, joined at exec, removed at kill."""

    def __init__(self, plan: Plan, name: str, limits: Limits) -> None:
        if not plan.active:
            raise ValueError("no cgroup plan in force")
        self.plan = plan
        self.name = name
        self.limits = limits
        self.dirs: dict[str, Path] = {c: p / name for c, p in plan.parents.items()}
        self._oom_base = 0

    @property
    def unit(self) -> str:
        return f"codeact-{self.name}.scope"

    def create(self) -> None:
        """Make the group(s) and write the limits (v1/v2; systemd sets them at start)."""
        lim = self.limits
        if self.plan.mode == "v2":
            d = self.dirs[""]
            d.mkdir(parents=True, exist_ok=True)
            if lim.memory_bytes:
                _write(d / "memory.max", lim.memory_bytes)
                _write_opt(d / "memory.swap.max", 0)
            _write_opt(d / "memory.oom.group", 1)  # an OOM kill takes the whole session
            if lim.pids:
                _write(d / "pids.max", lim.pids)
            _write_opt(d / "cpu.weight", lim.cpu_weight)
        elif self.plan.mode == "v1":
            for d in self.dirs.values():
                d.mkdir(parents=True, exist_ok=True)
            mem = self.dirs["memory"]
            if lim.memory_bytes:
                _write(mem / "memory.limit_in_bytes", lim.memory_bytes)
                # no swap either (memsw counts memory + swap; only with swap accounting)
                _write_opt(mem / "memory.memsw.limit_in_bytes", lim.memory_bytes)
            if lim.pids:
                _write(self.dirs["pids"] / "pids.max", lim.pids)
            if "cpu" in self.dirs:
                shares = max(2, lim.cpu_weight * CPU_SHARES_V1 // CPU_WEIGHT_V2)
                _write_opt(self.dirs["cpu"] / "cpu.shares", shares)
        self._oom_base = self.oom_kills()

    def wrap(self, argv: list[str]) -> list[str]:
        """``argv`` started so that it is inside this group before it runs."""
        if self.plan.mode == "systemd":
            lim = self.limits
            props = [f"CPUWeight={lim.cpu_weight}"]
            if lim.memory_bytes:
                props += [f"MemoryMax={lim.memory_bytes}", "MemorySwapMax=0"]
            if lim.pids:
                props.append(f"TasksMax={lim.pids}")
            exe = shutil.which("systemd-run") or "systemd-run"
            out = [exe, "--user", "--scope", "--quiet", "--collect", f"--unit={self.unit}"]
            for p in props:
                out += ["-p", p]
            return out + ["--", *argv]
        procs = [str(d / "cgroup.procs") for d in self.dirs.values()]
        return ["/bin/sh", "-c", JOIN_SH, "codeact-cgroup", *procs, "--", *argv]

    # -- reading ----------------------------------------------------------------------------
    def _mem_dir(self) -> Path | None:
        if self.plan.mode == "v2":
            return self.dirs[""]
        if self.plan.mode == "v1":
            return self.dirs["memory"]
        return _systemd_dir(self.unit)

    def oom_kills(self) -> int:
        """How many processes the kernel's OOM killer took in this group so far."""
        d = self._mem_dir()
        if d is None:
            return 0
        name = "memory.oom_control" if self.plan.mode == "v1" else "memory.events"
        for line in _read(d / name).splitlines():
            k, _, v = line.partition(" ")
            if k == "oom_kill":
                try:
                    return int(v)
                except ValueError:
                    return 0
        return 0

    def new_oom_kills(self) -> int:
        return max(0, self.oom_kills() - self._oom_base)

    def memory_peak(self) -> int | None:
        d = self._mem_dir()
        if d is None:
            return None
        name = "memory.max_usage_in_bytes" if self.plan.mode == "v1" else "memory.peak"
        try:
            return int(_read(d / name).split()[0])
        except (IndexError, ValueError):
            return None

    def pids(self) -> list[int]:
        out: set[int] = set()
        dirs = list(self.dirs.values())
        if self.plan.mode == "systemd":
            d = _systemd_dir(self.unit)
            dirs = [d] if d is not None else []
        for d in dirs:
            for tok in _read(d / "cgroup.procs").split():
                if tok.isdigit():
                    out.add(int(tok))
        return sorted(out)

    # -- stopping ---------------------------------------------------------------------------
    def kill_all(self) -> None:
        """SIGKILL every process in the group (``cgroup.kill`` where there is one)."""
        if self.plan.mode == "v2" and (self.dirs[""] / "cgroup.kill").exists():
            try:
                (self.dirs[""] / "cgroup.kill").write_text("1")
                return
            except OSError:
                pass
        for _ in range(3):  # a process may fork while we kill: go round again
            pids = self.pids()
            if not pids:
                return
            for p in pids:
                try:
                    os.kill(p, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass

    def remove(self, wait: float = 2.0) -> None:
        """Kill what is left and remove the group(s); never raises."""
        if self.plan.mode == "systemd":
            self.kill_all()  # --collect: systemd drops the scope when it is empty
            return
        self.kill_all()
        deadline = time.monotonic() + wait
        for d in self.dirs.values():
            while True:
                try:
                    d.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError as exc:
                    if time.monotonic() > deadline:
                        log.warning("cannot remove cgroup %s: %s", d, exc)
                        break
                    self.kill_all()
                    time.sleep(0.02)


def _systemd_dir(unit: str) -> Path | None:
    """Where systemd put a user scope (found through /proc/self/cgroup's v2 path)."""
    own = parse_proc_cgroup(_read(Path("/proc/self/cgroup"))).get("")
    if own is None:
        return None
    # user@UID.service/app.slice/<unit> beside ours, or anywhere below user@UID.service
    base = CGROUP_ROOT / own.lstrip("/")
    for anc in [base, *base.parents]:
        if anc.name.startswith("user@") and anc.name.endswith(".service"):
            for p in anc.rglob(unit):
                return p
            return None
    return None


def _write(p: Path, value: int) -> None:
    p.write_text(f"{value}\n")


def _write_opt(p: Path, value: int) -> None:
    """Write a limit file that may not exist on every kernel (swap, oom.group, cpu)."""
    try:
        if p.exists():
            p.write_text(f"{value}\n")
    except OSError as exc:
        log.debug("cannot write %s: %s", p, exc)
