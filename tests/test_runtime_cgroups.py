"""Per-session cgroups: v2 decisions and file writes against a fake cgroupfs, v1 for real."""

from __future__ import annotations

import errno
import subprocess
from pathlib import Path

import pytest

from codeact.runtime import SandboxConfig, Session
from codeact.runtime import cgroups as cg
from codeact.runtime.sandboxes.base import SandboxUnavailable
from codeact.runtime.sandboxes.bwrap import bwrap_path


def fake_v2(tmp_path: Path, own: str = "/user.slice/app.scope",
            controllers: str = "cpu io memory pids") -> Path:
    """A directory laid out like a cgroup2 mount, with our process in ``own``."""
    root = tmp_path / "cgroup"
    here = root / own.lstrip("/")
    here.mkdir(parents=True)
    (root / "cgroup.controllers").write_text(controllers + "\n")
    for d in (root, here):
        (d / "cgroup.controllers").write_text(controllers + "\n")
        (d / "cgroup.procs").write_text("")
        (d / "cgroup.subtree_control").write_text("")
    return root


def kernel_files(d: Path) -> None:
    """What the kernel creates in a new v2 group (the optional files we write to)."""
    d.mkdir(parents=True, exist_ok=True)
    for name in ("cgroup.procs", "memory.swap.max", "memory.oom.group", "cpu.weight",
                 "memory.events"):
        (d / name).write_text("")


def test_parse_proc_cgroup() -> None:
    own = cg.parse_proc_cgroup("4:memory:/a/b\n2:cpu,cpuacct:/\n0::/user.slice\nbad\n")
    assert own == {"memory": "/a/b", "cpu": "/", "cpuacct": "/", "": "/user.slice"}


def test_v2_delegated_subtree_plan_and_limits(tmp_path: Path) -> None:
    root = fake_v2(tmp_path)
    plan = cg.detect(root, "0::/user.slice/app.scope\n", pid=4242, try_systemd=False)
    here = root / "user.slice/app.scope"
    assert plan.mode == "v2" and plan.parents == {"": here}
    assert (here / "cgroup.subtree_control").read_text().split() == ["+memory", "+pids",
                                                                     "+cpu"]
    g = cg.SessionCgroup(plan, "s1", cg.Limits(memory_bytes=512 << 20, pids=64))
    kernel_files(here / "s1")
    g.create()
    d = here / "s1"
    assert (d / "memory.max").read_text() == f"{512 << 20}\n"
    assert (d / "memory.swap.max").read_text() == "0\n"
    assert (d / "memory.oom.group").read_text() == "1\n"
    assert (d / "pids.max").read_text() == "64\n"
    assert (d / "cpu.weight").read_text() == "100\n"
    # the wrapped command joins the group before it execs the real one
    argv = g.wrap(["/bin/sh", "-c", "echo $$"])
    out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout.split()
    assert (d / "cgroup.procs").read_text().split() == out
    (d / "memory.events").write_text("low 0\nhigh 0\nmax 3\noom 1\noom_kill 2\n")
    assert g.oom_kills() == 2 and g.new_oom_kills() == 2
    for f in d.iterdir():  # the kernel removes interface files itself on rmdir
        f.unlink()
    g.remove()
    assert not d.exists()


def test_v2_decisions_refuse_what_cannot_work(tmp_path: Path) -> None:
    root = fake_v2(tmp_path / "a", controllers="cpu memory")  # no pids controller
    assert cg.detect_v2(root, "/user.slice/app.scope", 1) is None
    root = fake_v2(tmp_path / "b")
    assert cg.detect_v2(root, "/not/there", 1) is None  # our cgroup is not in this tree
    plain = tmp_path / "c"
    plain.mkdir()
    assert cg.detect_v2(plain, "/", 1) is None  # not a cgroup2 mount


def test_v2_no_cpu_controller_still_caps_memory(tmp_path: Path) -> None:
    root = fake_v2(tmp_path, controllers="memory pids")
    plan = cg.detect_v2(root, "/user.slice/app.scope", 1)
    assert plan is not None and "cpu" not in plan.reason
    assert (root / "user.slice/app.scope/cgroup.subtree_control").read_text() == \
        "+memory +pids"


def test_v2_after_moving_into_host_leaf_uses_the_parent(tmp_path: Path) -> None:
    root = fake_v2(tmp_path)
    plan = cg.detect_v2(root, "/user.slice/app.scope/codeact.host", 1)
    assert plan is not None and plan.parents[""] == root / "user.slice/app.scope"


def test_off_when_nothing_is_writable(tmp_path: Path) -> None:
    plan = cg.detect(tmp_path, "0::/\n", pid=1, try_systemd=False)
    assert plan.mode == "off" and plan.reason and not plan.active
    with pytest.raises(ValueError):
        cg.SessionCgroup(plan, "x", cg.Limits(1, 1))


def test_v1_layout_decision(tmp_path: Path) -> None:
    for c in ("memory", "pids"):
        d = tmp_path / c / "svc"
        d.mkdir(parents=True)
        (d / "cgroup.procs").write_text("")
    plan = cg.detect(tmp_path, "4:memory:/svc\n8:pids:/svc\n1:cpu:/\n", pid=1,
                     try_systemd=False)
    assert plan.mode == "v1"
    assert plan.parents == {"memory": tmp_path / "memory/svc/codeact",
                            "pids": tmp_path / "pids/svc/codeact"}
    g = cg.SessionCgroup(plan, "s", cg.Limits(memory_bytes=100 << 20, pids=10))
    g.create()
    assert (tmp_path / "memory/svc/codeact/s/memory.limit_in_bytes").read_text() == \
        f"{100 << 20}\n"
    assert (tmp_path / "pids/svc/codeact/s/pids.max").read_text() == "10\n"
    assert g.wrap(["x"])[-2:] == ["--", "x"]


def test_systemd_scope_argv() -> None:
    plan = cg.Plan("systemd", "test")
    g = cg.SessionCgroup(plan, "abc", cg.Limits(memory_bytes=1 << 30, pids=50))
    argv = g.wrap(["bwrap", "--x"])
    assert "--scope" in argv and "--user" in argv and "--unit=codeact-abc.scope" in argv
    assert f"MemoryMax={1 << 30}" in argv and "TasksMax=50" in argv
    assert "MemorySwapMax=0" in argv and argv[-3:] == ["--", "bwrap", "--x"]


def test_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError, match="cgroups"):
        cg.plan_for("sometimes")
    with pytest.raises(ValueError, match="cgroups"):
        SandboxConfig.coerce(SandboxConfig(cgroups="yes"))
    assert cg.plan_for("off").mode == "off"
    monkeypatch.setattr(cg, "host_plan", lambda: cg.Plan("off", "no cgroupfs here"))
    with pytest.raises(cg.CgroupUnavailable, match="no cgroupfs here"):
        cg.plan_for("required")
    monkeypatch.setenv("CODEACT_CGROUPS", "off")
    assert SandboxConfig().cgroups == "off"


def test_required_without_cgroups_refuses_to_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cg, "host_plan", lambda: cg.Plan("off", "no cgroupfs here"))
    s = Session(SandboxConfig(backend="none", cgroups="required"))
    with pytest.raises(SandboxUnavailable, match="no cgroupfs here"):
        s.start()
    s.close()


needs_cgroups = pytest.mark.skipif(
    bwrap_path() is None or not cg.host_plan().active,
    reason="per-session cgroups are not writable here (needs root or delegation)")


@needs_cgroups
def test_session_runs_inside_its_cgroup_and_removes_it() -> None:
    with Session(SandboxConfig(memory_mb=1024, max_processes=64)) as s:
        g = s.cgroup
        assert g is not None
        pid = s.kernel_pid()
        assert pid in g.pids()
        inner = s.execute("import os\nprint(len(os.listdir('/proc')))").stdout
        assert inner  # the kernel runs
        assert len(g.pids()) >= 2  # bwrap and the kernel below it, all inside
        if g.plan.mode == "v1":
            mem = g.dirs["memory"]
            assert int((mem / "memory.limit_in_bytes").read_text()) == 1024 << 20
            assert (g.dirs["pids"] / "pids.max").read_text().strip() == "64"
        dirs = list(g.dirs.values())
    assert not any(d.exists() for d in dirs)


@needs_cgroups
def test_processes_over_the_session_cap_stop_the_session_only() -> None:
    cfg = SandboxConfig(memory_mb=512, interrupt_grace=1.0)
    code = ("import os, time\nn = 512 * 2**20 // 6\nkids = []\n"
            "for i in range(8):\n"
            "    pid = os.fork()\n"
            "    if pid == 0:\n"
            "        b = bytearray(n)\n"
            "        b[::4096] = b'x' * len(b[::4096])\n"
            "        time.sleep(60)\n"
            "        os._exit(0)\n"
            "    kids.append(pid)\n"
            "for p in kids:\n    os.waitpid(p, 0)\nprint('ALL8')\n")
    with Session(cfg) as s, Session(cfg) as bystander:
        bystander.execute("keep = 41")
        obs = s.execute(code, timeout=60)
        assert obs.restarted and "memory cap" in (obs.restart_reason or "")
        assert "ALL8" not in obs.stdout
        assert s.execute("1+1").result == "2"
        assert bystander.execute("keep + 1").result == "42"


def test_sweep_removes_groups_of_dead_processes_only(tmp_path: Path) -> None:
    parent = tmp_path / "codeact"
    dead = parent / "999999999.abc-123456"  # no such pid
    alive = parent / cg.group_name("def", "654321")
    foreign = parent / "not-ours"
    for d in (dead, alive, foreign):
        d.mkdir(parents=True)
    removed = cg.sweep_stale(cg.Plan("v1", "test", {"memory": parent}))
    assert removed == 1 and not dead.exists() and alive.exists() and foreign.exists()


def test_v2_inner_group_with_processes_moves_us_into_a_leaf(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = fake_v2(tmp_path)
    here = root / "user.slice/app.scope"
    real_enable = cg._enable

    def enable(d: Path, controllers: list[str]) -> None:
        # like the kernel: EBUSY while the group itself still holds our process
        if not (d / cg.HOST_LEAF / "cgroup.procs").exists():
            raise OSError(errno.EBUSY, "Device or resource busy")
        real_enable(d, controllers)

    monkeypatch.setattr(cg, "_enable", enable)
    plan = cg.detect_v2(root, "/user.slice/app.scope", 4242)
    assert plan is not None and plan.parents == {"": here}
    assert (here / cg.HOST_LEAF / "cgroup.procs").read_text() == "4242\n"
    assert "+memory" in (here / "cgroup.subtree_control").read_text()
