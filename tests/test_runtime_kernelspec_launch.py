"""A codeact kernelspec served by a real ``jupyter kernelgateway`` on 127.0.0.1: code run
through the gateway's REST + WebSocket API is sandboxed like a local kernel's.

The attacks are the sandbox self-test's own (``runtime/selftest.py``: same code, same
checks), run against a kernel the gateway started from the spec. Left out: the attacks
whose defence is the session's (output flood: the session's output cap; deep-recursion
crash and hang: the session's restart and timeout handling), which the gateway session's
own tests cover.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import threading
import time
from pathlib import Path

import pytest
from kernelspec_gateway import GatewayKernel, gateway_serving

from codeact.runtime import cgroups, selftest
from codeact.runtime.kernelspec import KernelspecError, KernelspecSettings, install
from codeact.runtime.kernelspec_launch import (
    OWNER_FILE,
    listen,
    mark_owner,
    read_connection,
    sweep_orphans,
)
from codeact.runtime.sandboxes.bwrap import check_bwrap

REPO = Path(__file__).resolve().parents[1]

ISOLATION = ["read host secret env var", "read file in host home dir",
             "read file in project checkout", "write outside the workspace",
             "open a TCP connection", "see host processes", "kill or signal the host"]
LIMITS = ["exhaust memory (30 GB)", "fill the disk (10 GB)", "fork bomb"]

KERNEL = "codeact-test"
SETTINGS = KernelspecSettings(memory_mb=1024, max_processes=64, file_size_mb=64,
                              tmp_size_mb=64, cpu_seconds=600)


THROUGH_OWN_SOCKETS = """
import os, socket
for fd in os.listdir('/proc/self/fd'):
    try:
        if not os.readlink(f'/proc/self/fd/{fd}').startswith('socket:'):
            continue
        s = socket.socket(fileno=os.dup(int(fd)))
    except OSError:
        continue
    if s.family in (socket.AF_INET, socket.AF_INET6):
        for addr in [('127.0.0.1', PORT), ('1.1.1.1', 53)]:
            try:
                s.connect(addr)
                print('CONNECTED')
            except OSError as e:
                print(type(e).__name__)
    s.close()
"""


@pytest.fixture(scope="module")
def gateway(tmp_path_factory):
    """The spec in a temp prefix, the self-test's bait, a gateway serving the spec."""
    if not check_bwrap()[0]:
        pytest.skip("bubblewrap unusable here")
    pytest.importorskip("kernel_gateway")
    work = tmp_path_factory.mktemp("kgw")
    where = install(SETTINGS, name=KERNEL, prefix=work / "prefix")
    assert where == work / "prefix/share/jupyter/kernels/codeact-test"
    with selftest.host_bait(REPO) as host, \
            gateway_serving(work / "prefix/share/jupyter", work) as gw:
        yield gw, host


def by_name(names: list[str]) -> list[selftest.Attack]:
    attacks = {a.name: a for a in selftest.ATTACKS}
    return [attacks[n] for n in names]


async def run_attacks(kernel: GatewayKernel, host: selftest.Host,
                      attacks: list[selftest.Attack]) -> list[str]:
    """Each attack through the gateway, judged by the self-test's own check; the
    kernel must still answer afterwards. Returns the failures."""
    bad = []
    for attack in attacks:
        obs = await kernel.execute(attack.code(host), timeout=attack.timeout)
        blocked, detail = attack.check(obs, host)
        after = await kernel.execute("1+1", timeout=60)
        if not blocked or after.result != "2":
            bad.append(f"{attack.name}: {detail} (then 1+1 -> {after.result!r}; "
                       f"stdout {obs.stdout[-300:]!r}, error {obs.error})")
    return bad


@pytest.mark.slow
async def test_isolation_attacks_are_blocked_through_the_gateway(gateway):
    gw, host = gateway
    kernel = await GatewayKernel.start(gw, KERNEL)
    try:
        assert await run_attacks(kernel, host, by_name(ISOLATION)) == []
        # the sandbox as the kernel sees it: no network interface but loopback, read-only
        # system, a private /tmp, the workspace its cwd, the sandbox user
        obs = await kernel.execute(
            "import os, socket\n"
            "print(sorted(n for _, n in socket.if_nameindex()))\n"
            "print(os.getcwd(), os.getuid(), socket.gethostname())\n"
            "print(os.access('/usr', os.W_OK), os.access('/tmp', os.W_OK))\n"
            "print(sorted(k for k in os.environ if k.startswith(('JPY', 'KERNEL', "
            "'CODEACT', 'JUPYTER'))))\n")
        assert obs.stdout.split("\n")[:4] == ["['lo']", "/workspace 1000 sandbox",
                                              "False True", "[]"], obs
        # the only host-network sockets it holds, the kernel's own (listening, and the
        # gateway's accepted connections), reach nothing else
        obs = await kernel.execute(THROUGH_OWN_SOCKETS.replace("PORT", str(host.port)))
        tried = obs.stdout.split()
        assert tried and "CONNECTED" not in tried and not host.accepted, obs
    finally:
        await kernel.close()


@pytest.mark.slow
async def test_the_specs_limits_apply_through_the_gateway(gateway):
    gw, host = gateway
    kernel = await GatewayKernel.start(gw, KERNEL)
    try:
        obs = await kernel.execute(
            "import resource as r\n"
            "print([r.getrlimit(getattr(r, n))[0] >> 20 for n in "
            "('RLIMIT_AS', 'RLIMIT_FSIZE')], r.getrlimit(r.RLIMIT_NPROC)[0])\n")
        assert obs.stdout.strip() == "[1024, 64] 64", obs
        assert await run_attacks(kernel, host, by_name(LIMITS)) == []
        assert host.victim.poll() is None
    finally:
        await kernel.close()


@pytest.mark.slow
async def test_each_kernel_gets_its_own_cgroup_and_leaves_nothing_behind(gateway):
    gw, _ = gateway
    kernel = await GatewayKernel.start(gw, KERNEL)
    try:
        launcher = _launcher_of(kernel.id)
        assert launcher is not None
        tree = _descendants(launcher)
        assert tree, "the launcher has no children"
        if selftest.cgroup_plan().active:
            groups = {_cgroup_of(p) for p in tree} - {None}
            assert groups and all(".gw-" in g for g in groups), groups
        run_dirs = _open_dirs(launcher)
    finally:
        await kernel.close()
    for _ in range(100):  # the launcher exits after the kernel, removing its directories
        if not any(Path(f"/proc/{p}").exists() for p in [launcher, *tree]):
            break
        await asyncio.sleep(0.1)
    assert not [p for p in [launcher, *tree] if Path(f"/proc/{p}").exists()]
    assert run_dirs and not [d for d in run_dirs if d.exists()]


@pytest.mark.slow
async def test_a_launcher_killed_with_sigkill_takes_its_sandbox_along(gateway):
    gw, _ = gateway
    kernel = await GatewayKernel.start(gw, KERNEL)
    try:
        launcher = _launcher_of(kernel.id)
        assert launcher is not None
        tree = _descendants(launcher)
        run_dirs = _open_dirs(launcher)
        os.kill(launcher, signal.SIGKILL)
        for _ in range(100):
            if not any(Path(f"/proc/{p}").exists() for p in tree):
                break
            await asyncio.sleep(0.1)
        assert not [p for p in tree if Path(f"/proc/{p}").exists()]
        assert run_dirs
        # the killed launcher could not clean up: the next launcher (the gateway's own
        # restart of the dead kernel, or this new kernel's) sweeps its run directory
        other = await GatewayKernel.start(gw, KERNEL)
        await other.close()
        assert not [d for d in run_dirs if d.exists()]
    finally:
        await kernel.close()


@pytest.mark.slow
def test_sandbox_check_runs_every_attack_through_the_gateway_session(gateway):
    """`codeact sandbox check --runtime URL`: the whole self-test, through codeact's own
    gateway session, on kernels of the codeact kernelspec."""
    from typer.testing import CliRunner

    from codeact.cli.root import app

    gw, _ = gateway
    r = CliRunner().invoke(app, ["sandbox", "check", "--runtime", gw.url, "--runtime-token",
                                 gw.token, "--runtime-kernel", KERNEL],
                           env={"COLUMNS": "200"})
    assert r.exit_code == 0, r.output
    assert f"all {len(selftest.ATTACKS)} attacks blocked" in r.output, r.output


def _launcher_of(kernel_id: str) -> int | None:
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"codeact.runtime.kernelspec_launch" in cmd and \
                any(kernel_id.encode() in c for c in cmd):
            return int(pid)
    return None


def _descendants(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        for task in Path(f"/proc/{p}/task").glob("*"):
            try:
                kids = (task / "children").read_text().split()
            except OSError:
                continue
            out += [int(k) for k in kids]
            todo += [int(k) for k in kids]
    return out


def _cgroup_of(pid: int) -> str | None:
    try:
        text = Path(f"/proc/{pid}/cgroup").read_text()
    except OSError:
        return None
    paths = cgroups.parse_proc_cgroup(text)
    return paths.get("memory") or paths.get("")


def _open_dirs(pid: int) -> list[Path]:
    """The kernel's run directory, found from the launcher's children's bwrap argv."""
    out = set()
    for p in _descendants(pid):
        try:
            argv = Path(f"/proc/{p}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        for i, a in enumerate(argv[:-1]):
            if a == b"--bind" and argv[i + 2:i + 3] == [b"/workspace"]:
                out.add(Path(argv[i + 1].decode()).parent)
    return sorted(out)


def test_a_connection_file_must_be_tcp_with_every_port(tmp_path):
    conn = tmp_path / "k.json"
    conn.write_text(json.dumps({"transport": "ipc", "ip": "/tmp/k"}))
    with pytest.raises(KernelspecError, match="only tcp"):
        read_connection(conn)
    conn.write_text(json.dumps({"transport": "tcp", "ip": "127.0.0.1", "shell_port": 1}))
    with pytest.raises(KernelspecError, match="iopub, stdin, control, hb"):
        read_connection(conn)
    with pytest.raises(KernelspecError, match="cannot read"):
        read_connection(tmp_path / "missing.json")


def test_listen_holds_the_ports_for_the_kernel():
    socks = listen("127.0.0.1", [0, 0])
    try:
        assert all(s.get_inheritable() for s in socks)
        port = socks[0].getsockname()[1]
        with pytest.raises(KernelspecError, match="cannot listen"):
            listen("127.0.0.1", [port])
    finally:
        for s in socks:
            s.close()


def test_an_unsafe_spec_serves_plain_jupyter_client_with_interrupts(tmp_path, monkeypatch):
    """--sandbox none through jupyter_client itself (no gateway): the same listening
    sockets, the kernel in the launcher's own workspace, interrupts as messages."""
    from jupyter_client.manager import start_new_kernel

    install(KernelspecSettings(sandbox="none", cgroups="off"), name="ca-none", prefix=tmp_path)
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "share/jupyter"))
    km, kc = start_new_kernel(kernel_name="ca-none", startup_timeout=60)
    out: list[str] = []

    def hook(msg: dict) -> None:
        if msg["msg_type"] == "stream":
            out.append(msg["content"]["text"])

    try:
        kc.execute_interactive("import os; print(os.getcwd())", timeout=30, output_hook=hook)
        workspace = Path(out[0].strip())
        assert workspace.name == "workspace" and workspace.is_dir()
        timer = threading.Timer(1.0, km.interrupt_kernel)
        timer.start()
        reply = kc.execute_interactive("import time; time.sleep(60)", timeout=30,
                                       output_hook=hook)
        assert reply["content"]["ename"] == "KeyboardInterrupt"
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=False)
    for _ in range(50):
        if not workspace.exists():
            break
        time.sleep(0.1)
    assert not workspace.exists()


def test_sweep_removes_only_run_dirs_whose_launcher_is_gone(tmp_path):
    import subprocess

    gone = subprocess.Popen(["true"])
    gone.wait()
    dead, alive, local = (tmp_path / f"codeact-{n}" for n in ("dead", "alive", "local"))
    for d in (dead, alive, local):
        (d / "workspace").mkdir(parents=True)
    (dead / OWNER_FILE).write_text(f"{gone.pid} 1\n")
    mark_owner(alive)
    assert sweep_orphans(tmp_path) == 1
    assert not dead.exists() and alive.exists() and local.exists()
