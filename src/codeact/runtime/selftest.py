"""The attack self-test behind ``codeact sandbox check`` (and the security tests).

Each attack is model code that tries to break out of, or break, the sandbox. ``run``
executes them one after another in one session and says, for each, whether it was
blocked; after every attack the same session must still run ``1+1``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import resource
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from . import cgroups
from .observation import Observation
from .sandboxes import SandboxConfig, get_backend
from .session import Session


@dataclass
class AttackResult:
    name: str
    blocked: bool
    detail: str = ""
    recovered: bool = True  # a fresh execute in the same session worked afterwards


@dataclass
class Host:
    """Host-side bait for the attacks: a secret, files, a port, a process."""

    secret: str
    env_name: str
    home_file: Path
    checkout_file: Path
    outside_dir: Path
    port: int
    victim: subprocess.Popen[bytes]
    accepted: list[int] = field(default_factory=list)


@dataclass
class Attack:
    name: str
    code: Callable[[Host], str]
    check: Callable[[Observation, Host], tuple[bool, str]]
    timeout: float = 10.0
    # code run next in the same session (a fresh kernel, when the attack crashed its own);
    # ``check`` judges this one's observation
    then: Callable[[Host], str] | None = None


def _not_in(obs: Observation, text: str) -> bool:
    return text not in obs.stdout and text not in obs.stderr and text not in (obs.result or "")


def _secret_hidden(obs: Observation, h: Host) -> tuple[bool, str]:
    ok = _not_in(obs, h.secret)
    return ok, "secret not visible" if ok else "SECRET LEAKED"


def _check_write(obs: Observation, h: Host) -> tuple[bool, str]:
    made = [p for p in h.outside_dir.iterdir()]
    made += [Path(p) for p in ("/usr/codeact-pwned", "/etc/codeact-pwned") if os.path.exists(p)]
    return (not made), ("no file created outside the workspace" if not made
                        else f"created {made}")


def _check_net(obs: Observation, h: Host) -> tuple[bool, str]:
    ok = "CONNECTED" not in obs.stdout and not h.accepted
    return ok, "no connection" if ok else f"connected: {obs.stdout.strip()[:200]}"


def _check_procs(obs: Observation, h: Host) -> tuple[bool, str]:
    lines = [ln for ln in obs.stdout.splitlines() if ln.startswith("PROC ")]
    leaked = [ln for ln in lines if str(h.victim.pid) in ln or "sleep 600" in ln]
    ok = bool(lines) and not leaked and len(lines) < 20
    return ok, f"sees {len(lines)} processes, all its own" if ok else f"sees host: {leaked[:3]}"


def _check_kill(obs: Observation, h: Host) -> tuple[bool, str]:
    ok = h.victim.poll() is None
    return ok, "host processes untouched" if ok else "a host process was killed"


def _check_fork(obs: Observation, h: Host) -> tuple[bool, str]:
    ok = not obs.ok and (obs.timed_out or obs.restarted or obs.error is not None)
    how = ("killed at the timeout, kernel restarted" if obs.restarted
           else obs.error.name if obs.error else "stopped")
    return ok, f"contained ({how})" if ok else "fork bomb ran to completion"


def _check_memory(obs: Observation, h: Host) -> tuple[bool, str]:
    ok = "ALLOCATED" not in obs.stdout
    why = obs.error.name if obs.error else (obs.restart_reason or "")
    return ok, f"refused ({why})" if ok else "30 GB allocated"


def _check_disk(obs: Observation, h: Host) -> tuple[bool, str]:
    sizes = [ln for ln in obs.stdout.splitlines() if ln.startswith("WROTE ")]
    try:
        ws, tmp = (int(x) for x in sizes[-1].split()[1:3])
    except (IndexError, ValueError):
        return False, f"no report: {obs.stdout[-200:]} {obs.error}"
    ok = ws < 2 << 30 and tmp < 2 << 30
    return ok, f"stopped at {ws >> 20} MiB (workspace), {tmp >> 20} MiB (/tmp)"


def _check_hang(obs: Observation, h: Host) -> tuple[bool, str]:
    return obs.timed_out, "interrupted at the timeout" if obs.timed_out else "no timeout"


_flood_peak: dict[str, int] = {}


def _check_flood(obs: Observation, h: Host) -> tuple[bool, str]:
    grew = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - _flood_peak.get("before", 0))
    ok = obs.truncated and len(obs.stdout) < 100_000 and grew < 150_000  # KiB
    return ok, (f"truncated to {len(obs.stdout):,} chars; host peak RSS grew "
                f"{max(grew, 0) // 1024} MiB")


def _check_crash(obs: Observation, h: Host) -> tuple[bool, str]:
    ok = obs.restarted or (obs.error is not None and obs.error.name == "RecursionError")
    how = (obs.restart_reason or "").split(";")[0] or (obs.error.name if obs.error else "")
    return ok, f"detected: {how}, kernel restarted" if ok else "no crash reported"


# A module planted in the workspace under a name the kernel launcher imports before it
# drops privileges and sets rlimits: it records where it ran (and as which uid), then hands
# over the real module so the kernel still starts. The attack crashes its kernel to get a
# new one.
_PLANT = (
    "import importlib, os, sys\n"
    "with open('.planted-' + __name__, 'w') as f:\n"  # the launcher runs as `python -c`
    "    f.write(('launcher' if sys.argv[:1] == ['-c'] else 'kernel') + f' {os.getuid()}')\n"
    "del sys.modules[__name__]\n"
    "_path = sys.path[:]\n"
    "sys.path[:] = [p for p in sys.path if p not in ('', '.', os.getcwd())]\n"
    "_real = importlib.import_module(__name__)\n"
    "sys.path[:] = _path\n"
    "sys.modules[__name__] = _real\n"
)
_PLANTED = ("ctypes", "resource", "zmq", "ipykernel")


def _plant_modules(h: Host) -> str:
    return ("import os\n"
            f"for name in {_PLANTED!r}:\n"
            f"    open(name + '.py', 'w').write({_PLANT!r})\n"
            "os._exit(1)  # the next kernel starts with the modules in its working folder\n")


def _planted_report(h: Host) -> str:
    return ("import os\n"
            "for f in sorted(os.listdir('.')):\n"
            "    if f.startswith('.planted-'):\n"
            "        print('PLANT', f[9:], 'ran in the', open(f).read())\n"
            "        os.remove(f)\n"
            f"for name in {_PLANTED!r}:\n"
            "    if os.path.exists(name + '.py'):\n"
            "        print('KEPT', name)\n"
            "        os.remove(name + '.py')\n"
            "print('uid', os.getuid())\n")


def _check_planted(obs: Observation, h: Host) -> tuple[bool, str]:
    ran = [ln for ln in obs.stdout.splitlines() if ln.startswith("PLANT ")]
    if "uid " not in obs.stdout:
        return False, f"no report: {obs.stdout[-200:]} {obs.error}"
    # imported by the kernel, after the drop and the rlimits, a plant is only the model's
    # own code; imported by the launcher, it ran before them
    early = [ln for ln in ran if ln.split()[-2] == "launcher"]
    if early:
        return False, f"RAN BEFORE THE DROP: {early}"
    if "KEPT " not in obs.stdout:  # a gateway may start the new kernel in a new folder
        return True, "the planted files did not reach the next kernel's folder"
    return True, "launcher imported nothing from the workspace before dropping privileges"


ATTACKS: list[Attack] = [
    Attack("read host secret env var",
           lambda h: (f"import os\nprint(os.environ.get({h.env_name!r}))\n"
                      "print(open('/proc/1/environ','rb').read())\n"
                      "print(open('/proc/self/environ','rb').read())"),
           _secret_hidden),
    Attack("read file in host home dir",
           lambda h: f"print(open({str(h.home_file)!r}).read())", _secret_hidden),
    Attack("read file in project checkout",
           lambda h: f"print(open({str(h.checkout_file)!r}).read())", _secret_hidden),
    Attack("write outside the workspace",
           lambda h: ("import os\n"
                      f"for p in [{str(h.outside_dir / 'pwned')!r}, '/usr/codeact-pwned',\n"
                      "          '/etc/codeact-pwned', '../pwned']:\n"
                      "    try:\n"
                      "        open(p, 'w').write('x')\n"
                      "    except OSError as e:\n"
                      "        print('blocked', p, e)\n"),
           _check_write),
    Attack("open a TCP connection",
           lambda h: ("import socket\n"
                      f"for addr in [('127.0.0.1', {h.port}), ('1.1.1.1', 53), "
                      "('8.8.8.8', 443)]:\n"
                      "    try:\n"
                      "        socket.create_connection(addr, timeout=2).close()\n"
                      "        print('CONNECTED', addr)\n"
                      "    except OSError as e:\n"
                      "        print('refused', addr, e)\n"),
           _check_net),
    Attack("see host processes",
           lambda h: ("import os\n"
                      "for p in sorted(x for x in os.listdir('/proc') if x.isdigit()):\n"
                      "    try:\n"
                      "        cmd = open(f'/proc/{p}/cmdline','rb').read()\n"
                      "    except OSError:\n"
                      "        cmd = b'?'\n"
                      "    print('PROC', p, cmd.replace(b'\\0', b' ')[:80].decode())\n"),
           _check_procs),
    Attack("kill or signal the host",
           lambda h: ("import os, signal\n"
                      f"for pid in [{h.victim.pid}, {os.getpid()}, 1]:\n"
                      "    for sig in (signal.SIGTERM, signal.SIGKILL):\n"
                      "        try:\n"
                      "            os.kill(pid, sig)\n"
                      "        except OSError as e:\n"
                      "            print(pid, e)\n"),
           _check_kill),
    Attack("fork bomb",
           lambda h: ("import os\n"
                      "while True:\n"
                      "    try:\n"
                      "        os.fork()\n"
                      "    except OSError:\n"
                      "        pass\n"),
           _check_fork, timeout=2.0),
    Attack("exhaust memory (30 GB)",
           lambda h: "x = bytearray(30 * 2**30)\nx[::4096] = b'x' * len(x[::4096])\n"
                     "print('ALLOCATED')",
           _check_memory),
    Attack("fill the disk (10 GB)",
           lambda h: ("import os\n"
                      "def fill(path):\n"
                      "    n = 0\n"
                      "    try:\n"
                      "        with open(path, 'wb') as f:\n"
                      "            for _ in range(10 * 1024):\n"
                      "                f.write(b'\\0' * 2**20)\n"
                      "                n += 2**20\n"
                      "    except OSError as e:\n"
                      "        print('stopped', path, e)\n"
                      "    size = os.path.getsize(path)\n"
                      "    os.remove(path)\n"
                      "    return size\n"
                      "print('WROTE', fill('big.bin'), fill('/tmp/big.bin'))\n"),
           _check_disk, timeout=60.0),
    Attack("hang forever",
           lambda h: "while True:\n    pass", _check_hang, timeout=1.0),
    Attack("flood output (200 MB)",
           lambda h: "print('x' * 200_000_000)\nimport sys\nfor i in range(2000):\n"
                     "    sys.stdout.write('y' * 1000 + '\\n')",
           _check_flood, timeout=60.0),
    Attack("plant modules the kernel launcher imports",
           _plant_modules, _check_planted, timeout=30.0, then=_planted_report),
    Attack("crash by deep recursion",
           lambda h: ("import sys\nsys.setrecursionlimit(10**8)\n"
                      "nested = []\nfor _ in range(2 * 10**6):\n    nested = [nested]\n"
                      "repr(nested)\n"),
           _check_crash, timeout=30.0),
]


# Attacks that would hurt the host without a session-wide cap: run only when per-session
# cgroups are in force, in a session with this (small) memory cap.
CGROUP_ATTACK_MEMORY_MB = 512
SMALL_FILE = 4096


def _check_session_memory(obs: Observation, h: Host) -> tuple[bool, str]:
    reason = obs.restart_reason or ""
    ok = obs.restarted and "memory cap" in reason and "ALL8" not in obs.stdout
    ok = ok and h.victim.poll() is None
    return ok, (f"session stopped at its {CGROUP_ATTACK_MEMORY_MB} MB cap and reported"
                if ok else f"not stopped: {reason or obs.stdout[-200:]}")


def _check_many_files(obs: Observation, h: Host) -> tuple[bool, str]:
    line = [ln for ln in obs.stdout.splitlines() if ln.startswith("FILES ")]
    try:
        _, n, secs, why = line[-1].split(maxsplit=3)
        count, took = int(n), float(secs)
    except (IndexError, ValueError):
        return False, f"no report: {obs.stdout[-200:]} {obs.error}"
    mib = count * SMALL_FILE / 2**20
    if obs.timed_out:
        return True, (f"no per-workspace quota: stopped at the {took:.0f}s cell timeout after "
                      f"{count:,} files ({mib:.0f} MiB, {count / max(took, 1e-9):,.0f} "
                      "files/s); the bound is that rate x the cell timeout")
    return "OSError" in why or "Quota" in why, (
        f"stopped by the filesystem after {count:,} files ({mib:.0f} MiB): {why}")


CGROUP_ATTACKS: list[Attack] = [
    Attack("8 processes over the session memory cap",
           lambda h: ("import os, time\n"
                      f"n = {CGROUP_ATTACK_MEMORY_MB} * 2**20 // 6\nkids = []\n"
                      "for i in range(8):\n"
                      "    pid = os.fork()\n"
                      "    if pid == 0:\n"
                      "        b = bytearray(n)\n"
                      "        b[::4096] = b'x' * len(b[::4096])\n"
                      "        time.sleep(60)\n"
                      "        os._exit(0)\n"
                      "    kids.append(pid)\n"
                      "for p in kids:\n    os.waitpid(p, 0)\nprint('ALL8')\n"),
           _check_session_memory, timeout=60.0),
    Attack("fill the workspace with small files",
           lambda h: ("import os, time\nos.makedirs('many', exist_ok=True)\n"
                      f"n, t0, blob = 0, time.monotonic(), b'x' * {SMALL_FILE}\n"
                      "try:\n"
                      "    while True:\n"
                      "        with open(f'many/{n}', 'wb') as f:\n"
                      "            f.write(blob)\n"
                      "        n += 1\n"
                      "except BaseException as e:\n"
                      "    print('FILES', n, time.monotonic() - t0, type(e).__name__, e)\n"),
           # short: every file has to be deleted again when the session closes
           _check_many_files, timeout=3.0),
]


@contextlib.contextmanager
def host_bait(checkout: Path | None = None) -> Iterator[Host]:
    """Create the secrets, files, listening port and victim process attacks aim at."""
    secret = "codeact-secret-" + secrets.token_hex(8)
    env_name = "CODEACT_SELFTEST_SECRET"
    old_env = os.environ.get(env_name)
    os.environ[env_name] = secret
    home_file = Path.home() / f".codeact-selftest-{secrets.token_hex(4)}"
    checkout = checkout or Path.cwd()
    checkout_file = checkout / f".codeact-selftest-{secrets.token_hex(4)}"
    outside = Path(tempfile.mkdtemp(prefix="codeact-selftest-"))
    files = [home_file]
    home_file.write_text(secret)
    try:
        checkout_file.write_text(secret)
        files.append(checkout_file)
    except OSError:
        checkout_file = home_file
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    srv.settimeout(0.2)
    victim = subprocess.Popen(["sleep", "600"])
    host = Host(secret, env_name, home_file, checkout_file, outside, srv.getsockname()[1],
                victim)
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                c, _ = srv.accept()
                host.accepted.append(1)
                c.close()
            except OSError:
                continue

    t = threading.Thread(target=accept, daemon=True)
    t.start()
    try:
        yield host
    finally:
        stop.set()
        t.join(2)
        srv.close()
        victim.kill()
        victim.wait()
        for f in files:
            with contextlib.suppress(OSError):
                f.unlink()
        import shutil
        shutil.rmtree(outside, ignore_errors=True)
        if old_env is None:
            os.environ.pop(env_name, None)
        else:
            os.environ[env_name] = old_env


def run_attack(session: Session, attack: Attack, host: Host) -> AttackResult:
    """Run one attack in ``session``, judge it, and check the session still works."""
    if attack.check is _check_flood:
        _flood_peak["before"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    try:
        obs = session.execute(attack.code(host), timeout=attack.timeout)
        if attack.then is not None:
            obs = session.execute(attack.then(host), timeout=attack.timeout)
        blocked, detail = attack.check(obs, host)
    except Exception as exc:  # the runtime itself failed: not blocked
        return AttackResult(attack.name, False, f"runtime error: {exc!r}", False)
    try:
        after = session.execute("1+1", timeout=30)
        recovered = after.result == "2"
    except Exception:
        recovered = False
    if not recovered:
        detail += "; the session did not recover"
    return AttackResult(attack.name, blocked and recovered, detail, recovered)


def selftest_config() -> SandboxConfig:
    """Default limits, a shorter interrupt grace so the self-test stays quick."""
    return SandboxConfig(interrupt_grace=1.0)


def run(config: SandboxConfig | None = None, *, checkout: Path | None = None,
        on_result: Callable[[AttackResult], None] | None = None) -> list[AttackResult]:
    """Run every attack; returns one result per attack (``blocked`` says it all).

    The attacks in ``CGROUP_ATTACKS`` run only when per-session cgroups are in force
    (:func:`cgroup_plan`): without a session-wide cap they could take the host down.
    With a remote backend (kernels on a gateway) they are skipped: this host cannot see
    the gateway host's cgroups. There the bait (secret, files, port, process) is on this
    host, so those attacks prove most when the gateway runs here too.
    """
    config = config or selftest_config()
    results: list[AttackResult] = []

    def bystander_ok(r: AttackResult, bystander: Session) -> AttackResult:
        if bystander.execute("1+1", timeout=30).result == "2":
            return r
        return AttackResult(r.name, False, r.detail + "; another session broke", r.recovered)

    with host_bait(checkout) as host, Session(config) as s, Session(config) as bystander:
        for attack in ATTACKS:
            r = run_attack(s, attack, host)
            if attack.check is _check_fork:
                r = bystander_ok(r, bystander)
            results.append(r)
            if on_result is not None:
                on_result(r)
        if not is_remote(config) and cgroup_plan(config).active:
            small = dataclasses.replace(config, memory_mb=CGROUP_ATTACK_MEMORY_MB)
            with Session(small) as capped:
                for attack in CGROUP_ATTACKS:
                    r = bystander_ok(run_attack(capped, attack, host), bystander)
                    results.append(r)
                    if on_result is not None:
                        on_result(r)
    return results


def is_remote(config: SandboxConfig) -> bool:
    """Whether ``config``'s kernels run elsewhere (a gateway), not on this host."""
    return bool(getattr(get_backend(config.backend), "remote", False))


def cgroup_plan(config: SandboxConfig | None = None) -> cgroups.Plan:
    """The per-session cgroup mode sessions made with ``config`` get."""
    config = config or selftest_config()
    try:
        return cgroups.plan_for(config.cgroups)
    except cgroups.CgroupUnavailable as exc:
        return cgroups.Plan("off", str(exc))


def main() -> int:  # pragma: no cover - `python -m codeact.runtime.selftest`
    bad = 0
    print("session cgroups:", cgroup_plan().describe())
    for r in run():
        bad += not r.blocked
        print(f"{'blocked' if r.blocked else 'NOT BLOCKED':12} {r.name}: {r.detail}")
    return 1 if bad else 0


if __name__ == "__main__":  # pragma: no cover
    signal.signal(signal.SIGINT, signal.default_int_handler)
    sys.exit(main())
