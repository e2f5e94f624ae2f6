"""A kernel on a gateway: the workspace copy, and failure without loss (a gateway killed
with SIGKILL mid-cell is noticed at once, the cell fails in one line, the next cell gets
a new kernel on the other gateway with every file). Real ``jupyter kernelgateway``
processes on 127.0.0.1; the kill lands once the cell's first output has arrived."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest
from gateway_helpers import remote_config, start_gateway

from codeact.runtime import Session
from codeact.runtime.gateway import GatewayLost, GatewayUnavailable

pytest.importorskip("kernel_gateway", reason="needs the gateway extra")


@pytest.fixture()
def pair(tmp_path):
    a = start_gateway(tmp_path / "a")
    b = start_gateway(tmp_path / "b", token=a.token)
    yield a, b
    a.stop()
    b.stop()


def _kill_when_started(session: Session, gateway, code: str):
    """Run ``code`` (which prints 'started' first); SIGKILL ``gateway`` once that output
    has arrived. Returns (the exception execute raised, seconds from kill to it)."""
    started = threading.Event()
    killed_at: list[float] = []

    def on_output(name: str, text: str) -> None:
        if "started" in text:
            started.set()

    def killer() -> None:
        assert started.wait(60)
        gateway.kill()
        killed_at.append(time.monotonic())

    t = threading.Thread(target=killer)
    t.start()
    try:
        session.execute(code, timeout=120, on_output=on_output)
    except Exception as exc:  # noqa: BLE001 - the test inspects it
        t.join()
        return exc, time.monotonic() - killed_at[0]
    t.join()
    raise AssertionError("the cell finished although its gateway was killed")


def test_a_killed_gateway_fails_the_cell_at_once_and_the_next_cell_moves(pair):
    a, b = pair
    with Session(remote_config(a, b)) as s:
        if s._kernel.gateway.url != a.url:  # make a the one that dies
            a, b = b, a
        s.write_file("notes/kept.txt", "acknowledged before the crash")
        assert s.execute("x = 41\nopen('made.txt', 'w').write('by the kernel')").ok
        err, seconds = _kill_when_started(
            s, a, "import time\nprint('started', flush=True)\ntime.sleep(60)")
        assert isinstance(err, GatewayLost), err
        assert seconds < 5, seconds  # seen at once, no hang
        message = str(err)
        assert "\n" not in message and a.url in message and "workspace files are kept" in message
        assert not s.alive
        obs = s.execute("'x' in dir(), open('notes/kept.txt').read(), open('made.txt').read()")
        assert obs.ok, obs.error
        assert obs.result == "(False, 'acknowledged before the crash', 'by the kernel')"
        assert s._kernel.gateway.url == b.url


def _launchers(kernel_id: str) -> list[int]:
    """Pids of the codeact kernelspec launchers running the kernel ``kernel_id``."""
    out = []
    for entry in Path("/proc").iterdir():
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"codeact.runtime.kernelspec_launch" in argv and any(
                kernel_id.encode() in a for a in argv):
            out.append(int(entry.name))
    return out


def test_a_sandboxed_kernel_stops_when_its_gateway_dies(tmp_path):
    """The launcher (in a session of its own, as Jupyter starts kernels) notices that the
    gateway that started it is gone and stops the sandbox, as a plain ipykernel would."""
    gw = start_gateway(tmp_path)
    try:
        with Session(remote_config(gw)) as s:
            assert s.execute("1").ok
            kernel_id = s._kernel.kernel_id
            assert kernel_id and len(_launchers(kernel_id)) == 1
            gw.kill()
            deadline = time.monotonic() + 20
            while _launchers(kernel_id):
                assert time.monotonic() < deadline, "the kernel outlived its gateway"
                time.sleep(0.2)  # polling for the launcher's exit
    finally:
        gw.stop()


def test_with_one_gateway_gone_the_next_cell_says_so_in_one_line(tmp_path):
    gw = start_gateway(tmp_path)
    try:
        with Session(remote_config(gw)) as s:
            err, seconds = _kill_when_started(
                s, gw, "import time\nprint('started', flush=True)\ntime.sleep(60)")
            assert isinstance(err, GatewayLost) and seconds < 5
            with pytest.raises(GatewayUnavailable) as info:
                s.execute("1+1")
            assert "\n" not in str(info.value) and gw.url in str(info.value)
    finally:
        gw.stop()


def test_workspace_changes_come_back_after_each_cell(gateway):
    # a plain python3 kernel (opted in): its gateway-side workspace is on this host's
    # /tmp, so its removal with the kernel can be seen (a sandboxed one's is in its tmpfs)
    cfg = remote_config(gateway, gateway_kernel="python3", gateway_allow_unsandboxed=True)
    with Session(cfg) as s:
        obs = s.execute("import os\nos.makedirs('d', exist_ok=True)\n"
                        "open('d/a.bin', 'wb').write(bytes(range(256)) * 1000)\n"
                        "open('gone.txt', 'w').write('x')")
        assert obs.ok, obs.error
        assert s.read_file("d/a.bin") == bytes(range(256)) * 1000
        assert (s.workspace / "gone.txt").exists()
        assert s.execute("os.remove('gone.txt')").ok
        assert not (s.workspace / "gone.txt").exists()
        assert s.list_files() == ["d/a.bin"]
        s.write_file("from_host.txt", b"\x00\xff binary")
        assert s.execute("open('from_host.txt', 'rb').read()").result == "b'\\x00\\xff binary'"
        s.restart()  # a new kernel gets every file
        assert s.execute("sorted(os.listdir('.')) if 'os' in dir() else "
                         "sorted(__import__('os').listdir('.'))").result == \
            "['d', 'from_host.txt']"
        remote_dir = s.execute("__import__('os').getcwd()").result.strip("'")
        assert remote_dir.startswith("/tmp/codeact-ws-") and Path(remote_dir).is_dir()
    assert not Path(remote_dir).exists()  # the gateway-side copy went with the kernel


def test_a_workspace_of_many_files_comes_back_whole(gateway):
    with Session(remote_config(gateway)) as s:
        obs = s.execute("import os\nos.makedirs('many', exist_ok=True)\n"
                        "for i in range(1500):\n"
                        "    open(f'many/{i}.txt', 'w').write(str(i))")
        assert obs.ok, obs.error
        assert len(s.list_files()) == 1500
        assert s.read_file("many/1499.txt") == b"1499"


def test_big_files_travel_in_parts(gateway):
    """Past the 10 MB a gateway's WebSocket takes in one message, both ways."""
    import hashlib
    import os as host_os

    data = host_os.urandom(9 << 20)
    with Session(remote_config(gateway)) as s:
        s.write_file("in.bin", data)
        obs = s.execute("import hashlib, os\nhashlib.sha256(open('in.bin', 'rb').read())"
                        ".hexdigest()")
        assert obs.result == repr(hashlib.sha256(data).hexdigest()), obs
        obs = s.execute("out = os.urandom(20 << 20)\nopen('out.bin', 'wb').write(out)\n"
                        "hashlib.sha256(out).hexdigest()")
        assert obs.ok and s.alive, obs
        assert repr(hashlib.sha256(s.read_file("out.bin")).hexdigest()) == obs.result


# Enterprise Gateway lives in its own venv (it pins jupyter_client 6): .ci/run makes
# .venv-gateway from deploy/docker/gateway-lock.txt; $CODEACT_TEST_EG names another binary
EG = Path(os.environ.get("CODEACT_TEST_EG", Path(__file__).resolve().parent.parent
                         / ".venv-gateway/bin/jupyter-enterprisegateway"))


@pytest.mark.skipif(not EG.exists(), reason=f"no Enterprise Gateway at {EG}")
def test_a_session_on_enterprise_gateway(tmp_path):
    from gateway_helpers import start_enterprise_gateway

    from codeact.tools import tool

    @tool
    def add(a: int, b: int) -> int:
        """Add on the host."""
        return a + b

    gw = start_enterprise_gateway(str(EG), tmp_path)
    try:
        # its kernelspec is a plain python3 (Enterprise Gateway's own venv): opted in
        cfg = remote_config(gw, interrupt_grace=2.0, gateway_kernel="python3",
                            gateway_allow_unsandboxed=True)
        with Session(cfg, tools=[add]) as s:
            assert s.execute("x = add(40, 2)\nx").result == "42"  # the comm bridge
            s.write_file("in.txt", "host")
            assert s.execute("open('in.txt').read()").result == "'host'"
            assert s.execute("open('out.txt', 'w').write('k')").ok
            assert s.read_file("out.txt") == b"k"
            obs = s.execute("import time\nwhile True: time.sleep(0.1)", timeout=1)
            assert obs.timed_out and s.execute("x").result == "42"
            obs = s.execute("import os\nos._exit(1)")
            assert obs.restarted and s.execute("open('in.txt').read()").result == "'host'"
    finally:
        gw.stop()
