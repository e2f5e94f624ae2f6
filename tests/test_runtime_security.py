"""Security tests: model code must not escape or break the sandbox.

Each attack from ``codeact.runtime.selftest`` (the same list `codeact sandbox check`
runs) is one test; after each, the same session must still run code.
"""

import ast
import os
import threading
from pathlib import Path

import pytest

from codeact.runtime import SandboxConfig, Session, selftest

CHECKOUT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def host():
    with selftest.host_bait(CHECKOUT) as h:
        yield h


@pytest.fixture(scope="module")
def session():
    with Session(selftest.selftest_config()) as s:
        yield s


@pytest.fixture(scope="module")
def bystander():
    with Session(SandboxConfig()) as s:
        s.execute("state = 'intact'")
        yield s


@pytest.mark.parametrize("attack", selftest.ATTACKS, ids=[a.name for a in selftest.ATTACKS])
def test_attack_is_blocked(attack, session, host, bystander):
    result = selftest.run_attack(session, attack, host)
    assert result.blocked, f"{attack.name}: {result.detail}"
    assert result.recovered
    # other sessions and the host are unaffected
    assert bystander.execute("state").result == "'intact'"
    assert host.victim.poll() is None


@pytest.mark.skipif(not selftest.cgroup_plan().active,
                    reason="per-session cgroups are not in force here: these attacks could "
                           "take the host down")
@pytest.mark.parametrize("attack", selftest.CGROUP_ATTACKS,
                         ids=[a.name for a in selftest.CGROUP_ATTACKS])
def test_cgroup_attack_is_stopped(attack, host, bystander):
    import dataclasses

    cfg = dataclasses.replace(selftest.selftest_config(),
                              memory_mb=selftest.CGROUP_ATTACK_MEMORY_MB)
    with Session(cfg) as capped:
        result = selftest.run_attack(capped, attack, host)
    assert result.blocked, f"{attack.name}: {result.detail}"
    assert result.recovered
    assert bystander.execute("state").result == "'intact'"
    assert host.victim.poll() is None


def test_secret_env_never_reaches_the_kernel(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-do-not-leak")
    with Session() as s:
        obs = s.execute("import os, subprocess\nprint(dict(os.environ))\n"
                        "print(subprocess.run(['env'], capture_output=True, text=True).stdout)")
    assert obs.ok and "sk-do-not-leak" not in obs.stdout


def test_home_and_checkout_are_not_mounted():
    """What must hold whatever the layout (a venv inside the checkout included): nothing of
    the checkout but the Python prefix is visible, the secret beside the venv is not, and
    the venv still works."""
    secret = CHECKOUT / f".codeact-test-secret-{os.getpid()}"
    secret.write_text("checkout secret")
    try:
        # negative control: the host can read it, so a False inside means hidden
        assert secret.read_text() == "checkout secret"
        with Session() as s:
            obs = s.execute(
                "import os\n"
                f"print(os.path.exists({str(secret)!r}), "
                f"os.path.exists({str(CHECKOUT / 'pyproject.toml')!r}), "
                f"os.path.exists({str(CHECKOUT / 'src')!r}), "
                f"os.path.exists({str(Path.home() / '.bashrc')!r}))")
            assert obs.stdout.strip() == "False False False False", obs
            if CHECKOUT.is_dir() and os.path.exists(CHECKOUT / ".git"):
                listing = s.execute(f"import os\nprint(os.path.isdir({str(CHECKOUT)!r}) and "
                                    f"sorted(os.listdir({str(CHECKOUT)!r})))")
                visible = listing.stdout.strip()
                # at most the venv's own directory (when it lives in the checkout)
                assert visible in ("False", "[]") or visible.startswith("['"), visible
                if visible.startswith("['"):
                    names = ast.literal_eval(visible)
                    for name in names:
                        assert any(p.startswith(str(CHECKOUT / name))
                                   for p in _python_prefixes()), (name, names)
            assert s.execute("import codeact").error.name == "ModuleNotFoundError"
            works = s.execute("import numpy, sys\nprint(sys.prefix, numpy.__name__)")
            assert works.ok and "numpy" in works.stdout, works
    finally:
        secret.unlink()


def _python_prefixes() -> list[str]:
    from codeact.runtime.sandboxes import environment

    return environment.python_prefixes()


def _rss_kib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def test_output_flood_keeps_host_memory_bounded():
    with Session() as s:
        s.execute("1")
        base = _rss_kib()
        peak = [base]
        stop = threading.Event()

        def sample():
            while not stop.is_set():
                peak[0] = max(peak[0], _rss_kib())
                stop.wait(0.005)

        t = threading.Thread(target=sample)
        t.start()
        try:
            obs = s.execute("import sys, os\nprint('x' * 200_000_000)\n"
                            "sys.stdout.write('y' * 50_000_000)\n"
                            "os.write(1, b'z' * 20_000_000)\n", timeout=120)
        finally:
            stop.set()
            t.join()
        assert obs.truncated and len(obs.stdout) < 20_000
        assert "characters dropped" in obs.stdout
        assert peak[0] - base < 100 * 1024, f"host RSS grew {(peak[0] - base) // 1024} MiB"
        assert s.execute("1+1").result == "2"


def test_fork_bomb_does_not_starve_other_sessions():
    cfg = SandboxConfig(max_processes=64, interrupt_grace=1.0)
    with Session(cfg) as bomb, Session(cfg) as other:
        obs = bomb.execute("import os\nwhile True:\n    try:\n        os.fork()\n"
                           "    except OSError:\n        pass", timeout=2)
        assert not obs.ok
        # the other session can still start processes: the limit is per session
        out = other.execute("import subprocess\n"
                            "print(subprocess.run(['echo', 'fine'], capture_output=True, "
                            "text=True).stdout)")
        assert "fine" in out.stdout
        assert bomb.execute("1+1").result == "2"


def test_cannot_reach_host_sockets_or_escalate():
    with Session() as s:
        obs = s.execute("import os\nprint(sorted(os.listdir('/run/codeact')))\n"
                        "print(os.path.exists('/var/run/docker.sock'), "
                        "os.path.exists('/run/dbus'))\n"
                        "import subprocess\n"
                        "print(subprocess.run(['id', '-u'], capture_output=True, "
                        "text=True).stdout)")
        lines = obs.stdout.splitlines()
        assert "False False" in lines[1]
        assert lines[2].strip() != "0"


@pytest.mark.skipif(os.geteuid() != 0, reason="host-root specific")
def test_root_host_runs_kernel_as_nobody():
    with Session() as s:
        s.execute("open('owned', 'w').write('x')")
        assert os.stat(s.workspace / "owned").st_uid == 65534
