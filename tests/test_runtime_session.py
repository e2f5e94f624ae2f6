"""Session: persistent state, rich output, errors, timeouts, crashes, files.

Every test that takes ``s`` or ``make`` runs twice: against a local bubblewrap kernel and
against a kernel on a real Jupyter Kernel Gateway (the ``runtime`` parameter)."""

import asyncio
import logging
import threading
import time

import pytest
from gateway_helpers import runtime_config

from codeact.runtime import Session


@pytest.fixture(scope="module")
def s(runtime, request):
    with Session(runtime_config(runtime, request, interrupt_grace=2.0)) as session:
        yield session


@pytest.fixture()
def make(runtime, request):
    """``make(workspace=..., output_limit=..., **config fields)``: a new Session of the
    module's runtime (not started)."""
    def new(*, workspace=None, output_limit=10_000, **fields):
        return Session(runtime_config(runtime, request, **fields), workspace=workspace,
                       output_limit=output_limit)

    return new


def test_state_persists_and_result(s):
    assert s.execute("x = 20").ok
    obs = s.execute("x + 22")
    assert obs.ok and obs.result == "42"
    assert obs.duration > 0


def test_stdout_stderr(s):
    obs = s.execute("import sys\nprint('out')\nprint('err', file=sys.stderr)")
    assert obs.stdout == "out\n" and obs.stderr == "err\n"


def test_error_has_plain_traceback(s):
    obs = s.execute("def f():\n    raise ValueError('bad value')\nf()")
    assert not obs.ok
    assert obs.error.name == "ValueError" and obs.error.message == "bad value"
    assert "\x1b[" not in obs.error.traceback and "f()" in obs.error.traceback


def test_syntax_error(s):
    obs = s.execute("def (:")
    assert obs.error is not None and obs.error.name == "SyntaxError"


def test_magics_and_shell_lines(s):
    obs = s.execute("%time y = 3\n!echo shell-$((1+2))")
    assert obs.ok and "shell-3" in obs.stdout
    assert s.execute("y").result == "3"


def test_matplotlib_figure_comes_back_as_png(s):
    obs = s.execute("import matplotlib.pyplot as plt\nplt.plot([1, 2, 3])\nplt.show()")
    assert obs.ok, obs.error
    assert len(obs.images) == 1 and obs.images[0].startswith(b"\x89PNG")


def test_display_text(s):
    obs = s.execute("display('shown'); 5")
    assert "'shown'" in obs.stdout and obs.result == "5"


def test_output_truncated_with_marker(s):
    obs = s.execute("for i in range(20000):\n    print(i)")
    assert obs.truncated
    assert obs.stdout.startswith("0\n1\n2\n")
    assert obs.stdout.rstrip().endswith("19999")
    assert "characters dropped" in obs.stdout
    assert len(obs.stdout) < 11_000


def test_output_limit_is_configurable(make):
    with make(output_limit=100) as small:
        obs = small.execute("print('z' * 1000)")
        assert obs.truncated and len(obs.stdout) < 200


def test_timeout_interrupts_and_keeps_state(s):
    s.execute("kept = 'yes'")
    obs = s.execute("import time\nwhile True:\n    time.sleep(0.01)", timeout=0.5)
    assert obs.timed_out and not obs.restarted and not obs.ok
    assert obs.error is not None and obs.error.name == "TimeoutError"
    assert s.execute("kept").result == "'yes'"


def test_uninterruptible_cell_is_killed_and_restarted(make):
    with make(interrupt_grace=0.5) as t:
        t.execute("v = 1")
        code = "import signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\ntime.sleep(60)"
        obs = t.execute(code, timeout=0.5)
        assert obs.timed_out and obs.restarted and "lost" in obs.restart_reason
        assert t.execute("'v' in dir()").result == "False"
        assert t.execute("1+1").result == "2"


def test_interrupt_from_another_thread(s):
    timer = threading.Timer(0.5, s.interrupt)
    timer.start()
    obs = s.execute("import time\ntime.sleep(30)", timeout=60)
    timer.join()
    assert obs.interrupted and not obs.timed_out and not obs.restarted
    assert obs.error is not None and obs.error.name == "KeyboardInterrupt"
    assert s.execute("1+1").result == "2"


async def test_aexecute_and_interrupt_from_task(s):
    obs = await s.aexecute("2 * 21")
    assert obs.result == "42"

    async def stop_soon():
        await asyncio.sleep(0.5)
        s.interrupt()

    stopper = asyncio.create_task(stop_soon())
    obs = await s.aexecute("import time\ntime.sleep(30)", timeout=60)
    await stopper
    assert obs.interrupted


async def test_on_output_streams_on_the_callers_loop(s):
    loop = asyncio.get_running_loop()
    seen = []

    def on_output(name, text):
        assert asyncio.get_running_loop() is loop
        seen.append((name, text))

    code = "import sys, time\nprint('a', flush=True)\ntime.sleep(0.3)\nprint('b', file=sys.stderr)"
    obs = await s.aexecute(code, on_output=on_output)
    await asyncio.sleep(0)
    assert obs.stdout == "a\n"
    assert ("stdout", "a\n") in seen and ("stderr", "b\n") in seen


def test_sync_on_output(s):
    seen = []
    s.execute("print('hi')", on_output=lambda n, t: seen.append((n, t)))
    assert seen == [("stdout", "hi\n")]


@pytest.mark.parametrize("code,why", [
    ("import os\nos._exit(3)", "status 3"),
    ("import ctypes\nctypes.string_at(0)", "SIGSEGV"),
])
def test_dead_kernel_is_restarted(s, runtime, code, why):
    if runtime == "gateway":  # the exit status stays on the gateway's machine
        why = "died on gateway"
    s.execute("gone = 1")
    s.write_file("survives.txt", b"still here")
    obs = s.execute(code)
    assert obs.restarted and why in obs.restart_reason, obs
    assert obs.error is not None and obs.error.name == "KernelRestarted"
    assert s.alive
    assert s.execute("'gone' in dir()").result == "False"
    assert s.execute("open('survives.txt').read()").result == "'still here'"


def test_restart_resets_state_keeps_files(s):
    s.execute("z = 5\nopen('kept.txt', 'w').write('k')")
    s.restart()
    assert s.execute("'z' in dir()").result == "False"
    assert s.read_file("kept.txt") == b"k"


def test_workspace_files(s):
    s.write_file("data/in.csv", b"a,b\n1,2\n")
    assert "data/in.csv" in s.list_files()
    obs = s.execute("import csv\nopen('out.txt', 'w').write(open('data/in.csv').read().upper())")
    assert obs.ok, obs.error
    assert s.read_file("out.txt") == b"A,B\n1,2\n"
    for bad in ("../x", "/etc/passwd", "data/../../x"):
        with pytest.raises(ValueError):
            s.read_file(bad)
        with pytest.raises(ValueError):
            s.write_file(bad, b"x")


def test_symlink_out_of_workspace_is_refused(s, runtime):
    s.execute("import os\nos.symlink('/etc/hostname', 'link')")
    # a gateway kernel's symlink is never copied to the host at all
    with pytest.raises(ValueError if runtime == "local" else FileNotFoundError):
        s.read_file("link")


def test_files_survive_in_given_workspace(make, tmp_path):
    with make(workspace=tmp_path) as t:
        assert t.workspace == tmp_path.resolve()
        t.execute("open('note.txt', 'w').write('n')")
    assert (tmp_path / "note.txt").read_text() == "n"


def test_close_removes_own_workspace_and_kernel(make, runtime, request):
    t = make().start()
    ws, pid = t.workspace, t.kernel_pid()
    kernel_id = getattr(t._kernel, "kernel_id", None)
    t.close()
    assert not ws.exists() and not t.alive
    if runtime == "local":
        assert not _pid_alive(pid)
    else:  # the gateway no longer has the kernel
        ids = [k["id"] for k in request.getfixturevalue("gateway").kernels()]
        assert kernel_id is not None and kernel_id not in ids


def test_unsafe_backend_warns_every_session(caplog):
    with caplog.at_level(logging.WARNING, logger="codeact.runtime"):
        with Session("none") as t:
            assert t.execute("1+1").result == "2"
    assert "UNSAFE" in caplog.text


def test_cold_start_then_execute_is_quick_enough_to_be_usable(make):
    t0 = time.monotonic()
    with make() as t:
        assert t.execute("1+1").result == "2"
    assert time.monotonic() - t0 < 60  # generous sanity bound, not a benchmark


def _pid_alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


async def test_cancelling_aexecute_interrupts_the_cell(s):
    task = asyncio.create_task(s.aexecute("import time\ntime.sleep(30)\nlate = 1", timeout=60))
    await asyncio.sleep(0.5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    obs = await s.aexecute("'late' in dir()", timeout=10)
    assert obs.result == "False"


@pytest.mark.parametrize("how", ["print", "sys.stdout.write", "sys.stderr.write"])
def test_output_flood_keeps_the_session_and_its_state(make, how):
    """1 to 200 MB in one session: truncated with the marker, state kept, 1+1 still 2."""
    with make() as session:
        assert session.execute("keep = 'set before the flood'").ok
        for mb in (1, 10, 50, 200):
            call = {"print": "print", "sys.stdout.write": "import sys; sys.stdout.write",
                    "sys.stderr.write": "import sys; sys.stderr.write"}[how]
            obs = session.execute(f"{call}('x' * {mb}_000_000)", timeout=120)
            text = obs.stderr if how == "sys.stderr.write" else obs.stdout
            assert not obs.restarted and obs.error is None, (mb, obs)
            assert obs.truncated and "characters dropped" in text, mb
            assert len(text) < 2 * session.output_limit, (mb, len(text))
            assert session.execute("1+1").result == "2", mb
            assert session.execute("keep").result == "'set before the flood'", mb


def test_lost_output_channel_is_noticed_and_the_kernel_restarted():
    """A reply without its iopub stream must not pass as an empty success."""
    from codeact.runtime._loop import run_sync

    with Session() as session:
        assert session.execute("x = 1").ok
        kernel = session._kernel

        async def unsubscribe() -> None:
            import zmq
            kernel.sockets["iopub"].setsockopt(zmq.UNSUBSCRIBE, b"")

        run_sync(unsubscribe())
        obs = session.execute("print('hello')\n1+1")
        assert obs.restarted and not obs.ok
        assert obs.error is not None and obs.error.name == "KernelRestarted"
        assert "output channel" in obs.restart_reason
        assert "variables were lost" in obs.restart_reason
        after = session.execute("1+1")
        assert after.ok and after.result == "2"


def test_ansi_escape_codes_never_reach_the_observation(s):
    seen: list[str] = []
    obs = s.execute("import sys\nprint('\\x1b[31mred\\x1b[0m plain')\n"
                    "print('\\x1b[1;33mwarn\\x1b[0m', file=sys.stderr)",
                    on_output=lambda name, text: seen.append(text))
    assert obs.stdout == "red plain\n" and obs.stderr == "warn\n"
    assert "\x1b" not in "".join(seen)
