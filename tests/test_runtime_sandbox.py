"""SandboxConfig and the bubblewrap command line."""

import os
import sys
from pathlib import Path

import pytest

from codeact.runtime import SandboxConfig, SandboxUnavailable, Session, check_bwrap
from codeact.runtime.sandboxes import bwrap, environment


def test_coerce_and_defaults():
    assert SandboxConfig.coerce("bwrap").backend == "bwrap"
    assert SandboxConfig.coerce("none").backend == "none"
    cfg = SandboxConfig(memory_mb=100, max_processes=None)
    assert SandboxConfig.coerce(cfg) is cfg
    limits = cfg.limits()
    assert limits["RLIMIT_AS"] == 100 << 20 and "RLIMIT_NPROC" not in limits
    with pytest.raises(ValueError):
        SandboxConfig.coerce("docker-maybe")


def test_argv_hides_home_checkout_and_env(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-host-secret")
    cmd = bwrap.build_bwrap_argv(SandboxConfig(), workspace=tmp_path / "ws",
                                 run_dir=tmp_path / "r", etc_dir=tmp_path / "etc",
                                 kernel_argv=["ipykernel"], userns_fd=None)
    argv = cmd.argv
    binds = {argv[i + 1] for i, a in enumerate(argv) if a in ("--bind", "--ro-bind")}
    assert "--unshare-net" in argv and "--unshare-pid" in argv and "--clearenv" in argv
    assert "--die-with-parent" in argv
    # the checkout is never bound; only the Python prefixes may lie inside it (a venv in
    # the checkout is the common layout), and each prefix is bound exactly, not a parent
    checkout = str(Path(__file__).resolve().parent.parent)
    prefixes = set(environment.python_prefixes())
    assert checkout not in binds
    inside = {b for b in binds if b.startswith(checkout + "/")}
    assert inside <= prefixes, inside - prefixes
    assert str(Path.home()) not in binds and "/" not in binds
    assert "sk-host-secret" not in " ".join(argv)
    assert "JPY_PARENT_PID" not in cmd.env
    assert any(sys.base_prefix.startswith(b) or b.startswith("/usr") for b in binds)


def test_launcher_starts_outside_the_workspace_with_two_capabilities(tmp_path):
    # a root host's launcher is the namespace's root until it drops: it must not start in
    # the workspace (model code plants modules there) nor hold more than it needs to drop
    cmd = bwrap.build_bwrap_argv(SandboxConfig(), workspace=tmp_path / "ws",
                                 run_dir=tmp_path / "r", etc_dir=tmp_path / "etc",
                                 kernel_argv=["ipykernel"], userns_fd=7)
    argv = cmd.argv
    assert argv[argv.index("--chdir") + 1] == "/"
    assert argv[argv.index("-c") + 2:argv.index("-c") + 4] == ["--cwd", "/workspace"]
    caps = [(a, argv[i + 1]) for i, a in enumerate(argv) if a in ("--cap-add", "--cap-drop")]
    assert caps == [("--cap-drop", "ALL"), ("--cap-add", "CAP_SETUID"),
                    ("--cap-add", "CAP_SETGID")]


def test_a_sandbox_of_a_user_makes_no_user_namespaces_of_its_own(monkeypatch):
    """What a non-root host gets (here run as nobody when the tests run as root): the full
    bwrap command, with ``--disable-userns``, keeps model code from unsharing a user
    namespace of its own; the same command without it does not."""
    import json
    import shutil
    import subprocess
    import tempfile

    monkeypatch.setattr(bwrap, "userns_can_be_disabled", lambda: True)
    cmd = bwrap.build_bwrap_argv(SandboxConfig(), workspace=Path("/ws"), run_dir=Path("/r"),
                                 etc_dir=Path("/e"), kernel_argv=["x"], userns_fd=None)
    assert "--disable-userns" in cmd.argv
    root_cmd = bwrap.build_bwrap_argv(SandboxConfig(), workspace=Path("/ws"),
                                      run_dir=Path("/r"), etc_dir=Path("/e"),
                                      kernel_argv=["x"], userns_fd=7)
    assert "--disable-userns" not in root_cmd.argv  # bwrap refuses it with --userns
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        return  # the run below needs to become another user
    base = Path(tempfile.mkdtemp(prefix="codeact-userns-"))
    try:
        for d in ("ws", "run", "etc"):
            (base / d).mkdir()
        bwrap.write_etc(base / "etc")
        argv = bwrap.build_bwrap_argv(SandboxConfig(), workspace=base / "ws",
                                      run_dir=base / "run", etc_dir=base / "etc",
                                      kernel_argv=["x"], userns_fd=None, prefixes=[],
                                      python="/bin/sh").argv
        argv = argv[:argv.index("-c") - 2] + [
            "/bin/sh", "-c", "unshare -U true 2>/dev/null; echo $?"]
        for p in [base, *base.rglob("*")]:
            os.chown(p, 65534, 65534)

        def run(args: list[str]) -> subprocess.CompletedProcess[str]:
            return subprocess.run(args, capture_output=True, text=True, timeout=60,
                                  user=65534, group=65534, extra_groups=[], cwd="/")

        without = run([a for a in argv if a != "--disable-userns"])
        if without.returncode != 0:
            pytest.skip(f"bwrap does not run for an unprivileged user here: {without.stderr}")
        assert without.stdout.strip() == "0", json.dumps(without.stdout)  # it could
        assert run(argv).stdout.strip() != "0"  # it cannot
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_model_code_cannot_unshare_a_user_namespace_but_threads_and_processes_work():
    # on a root host by the seccomp filter; for a user by --disable-userns (or the filter)
    with Session() as s:
        obs = s.execute(
            "import subprocess, threading\n"
            "print(subprocess.run(['unshare', '-U', 'true'], capture_output=True).returncode)\n"
            "seen = []\n"
            "t = threading.Thread(target=lambda: seen.append(1)); t.start(); t.join()\n"
            "print(seen, subprocess.run(['echo', 'hi'], capture_output=True, text=True)"
            ".stdout.strip())\n"
            "from multiprocessing import Pool\n"
            "with Pool(2) as p:\n"
            "    print(p.map(abs, [-1, -2]))", timeout=120)
        assert obs.stdout.splitlines() == ["1", "[1] hi", "[1, 2]"], obs


def test_check_bwrap_works_here():
    ok, message = check_bwrap()
    assert ok, message


def test_missing_bwrap_gives_install_hint(monkeypatch):
    monkeypatch.setattr(bwrap.shutil, "which", lambda name: None)
    with pytest.raises(SandboxUnavailable, match="apt-get install bubblewrap"):
        Session("bwrap")
    ok, message = check_bwrap()
    assert not ok and "apt-get install bubblewrap" in message


def test_kernel_runs_as_unprivileged_user():
    with Session() as s:
        obs = s.execute("import os; print(os.getuid(), os.geteuid(), os.getcwd())")
        uid, euid, cwd = obs.stdout.split()
        assert uid != "0" and euid != "0" and cwd == "/workspace"
        caps = s.execute("print(open('/proc/self/status').read())").stdout
        eff = [ln.split()[1] for ln in caps.splitlines() if ln.startswith("CapEff")]
        assert eff == ["0000000000000000"]
        # files written inside belong to an unprivileged host user
        s.execute("open('made.txt', 'w').write('x')")
        assert os.stat(s.workspace / "made.txt").st_uid != 0 or os.geteuid() != 0


def test_shared_memory_is_private_and_writable():
    """multiprocessing's locks live in /dev/shm: a root-owned one made `import sklearn`
    warn that joblib runs serially on every import."""
    with Session() as s:
        obs = s.execute("import multiprocessing\nmultiprocessing.Semaphore()\n"
                        "open('/dev/shm/probe', 'w').write('x')\nprint('ok')")
        assert obs.ok and obs.stdout == "ok\n", obs
        assert not Path("/dev/shm/probe").exists()  # not the host's
