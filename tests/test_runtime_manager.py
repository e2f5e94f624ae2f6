"""SessionManager: warm pool, cap, idle reaping, nothing left behind; with local kernels
and with kernels on a real Jupyter Kernel Gateway (the ``runtime`` parameter)."""

import asyncio
import os

import pytest
from gateway_helpers import runtime_config

from codeact.runtime import SessionLimitError, SessionManager, SyncSessionManager


@pytest.fixture()
def cfg(runtime, request):
    return runtime_config(runtime, request)


@pytest.fixture()
def gone(runtime, request):
    """``gone(ref)``: the kernel ``ref(session)`` named is no longer running anywhere."""
    if runtime == "local":
        return lambda ref: not _alive(ref)

    def not_on_gateway(ref):
        return ref not in {k["id"] for k in request.getfixturevalue("gateway").kernels()}

    return not_on_gateway


def ref(session):
    """What identifies a session's kernel: its pid, or its id on the gateway."""
    return session.kernel_pid() or session._kernel.kernel_id


def _alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split()[2] != "Z"
    except (FileNotFoundError, TypeError):
        return False


def _kernel_pids_of(session):
    return [session.kernel_pid()]


async def test_pool_acquire_tools_cap_and_clean_close(cfg, gone):
    def shout(text: str) -> str:
        """Upper-case text on the host."""
        return text.upper()

    mgr = SessionManager(cfg, pool_size=2, max_sessions=2, idle_timeout=None, tools=[shout])
    pids = []
    try:
        await mgr.wait_pool()
        assert mgr.pooled == 2
        a = await mgr.acquire()
        b = await mgr.acquire()
        pids += [ref(a), ref(b)]
        assert (await a.aexecute("shout('hi')")).result == "'HI'"
        assert (await b.aexecute("x = 1; x")).result == "1"
        assert (await a.aexecute("'x' in dir()")).result == "False"  # isolated sessions
        with pytest.raises(SessionLimitError, match="max_sessions=2"):
            await mgr.acquire()
        await mgr.release(a)
        assert gone(pids[0])
        c = await mgr.acquire()
        assert mgr.get(c.id) is c
        await mgr.wait_pool()
        pids += [ref(c)] + [ref(s) for s in mgr._pool]
        workspaces = [b.workspace, c.workspace]
    finally:
        await mgr.aclose()
    assert pids and all(gone(p) for p in pids)
    assert not any(w.exists() for w in workspaces)


async def test_idle_sessions_are_closed(cfg, gone):
    async with SessionManager(cfg, pool_size=0, idle_timeout=0.2) as mgr:
        s = await mgr.acquire()
        pid = ref(s)
        for _ in range(100):  # the reaper closes it (a remote kernel's DELETE takes a moment)
            if not mgr.sessions and gone(pid):
                break
            await asyncio.sleep(0.1)
        assert not mgr.sessions and not s.alive and gone(pid)


async def test_concurrent_sessions_from_asyncio(cfg):
    async with SessionManager(cfg, pool_size=0, max_sessions=4, idle_timeout=None) as mgr:
        sessions = await asyncio.gather(*(mgr.acquire() for _ in range(3)))
        outs = await asyncio.gather(*(s.aexecute(f"{i} * 2") for i, s in enumerate(sessions)))
        assert [o.result for o in outs] == ["0", "2", "4"]


def test_sync_manager(tmp_path, cfg, gone):
    with SyncSessionManager(cfg, pool_size=1, idle_timeout=None) as mgr:
        mgr.wait_pool()
        with mgr.session() as s:
            assert s.execute("1+1").result == "2"
        own = mgr.acquire(workspace=tmp_path)
        assert own.workspace == tmp_path.resolve()
        own.execute("open('f', 'w').write('1')")
        pid = ref(own)
    assert (tmp_path / "f").exists() and gone(pid)
    assert os.getpid()
