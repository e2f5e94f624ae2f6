"""SessionManager: warm pool, cap, idle reaping, nothing left behind."""

import asyncio
import os

import pytest

from codeact.runtime import SessionLimitError, SessionManager, SyncSessionManager


def _alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split()[2] != "Z"
    except (FileNotFoundError, TypeError):
        return False


def _kernel_pids_of(session):
    return [session.kernel_pid()]


async def test_pool_acquire_tools_cap_and_clean_close():
    def shout(text: str) -> str:
        """Upper-case text on the host."""
        return text.upper()

    mgr = SessionManager(pool_size=2, max_sessions=2, idle_timeout=None, tools=[shout])
    pids = []
    try:
        await mgr.wait_pool()
        assert mgr.pooled == 2
        a = await mgr.acquire()
        b = await mgr.acquire()
        pids += [a.kernel_pid(), b.kernel_pid()]
        assert (await a.aexecute("shout('hi')")).result == "'HI'"
        assert (await b.aexecute("x = 1; x")).result == "1"
        assert (await a.aexecute("'x' in dir()")).result == "False"  # isolated sessions
        with pytest.raises(SessionLimitError, match="max_sessions=2"):
            await mgr.acquire()
        await mgr.release(a)
        assert not _alive(pids[0])
        c = await mgr.acquire()
        assert mgr.get(c.id) is c
        await mgr.wait_pool()
        pids += [c.kernel_pid()] + [s.kernel_pid() for s in mgr._pool]
        workspaces = [b.workspace, c.workspace]
    finally:
        await mgr.aclose()
    assert pids and not any(_alive(p) for p in pids)
    assert not any(w.exists() for w in workspaces)


async def test_idle_sessions_are_closed():
    async with SessionManager(pool_size=0, idle_timeout=0.2) as mgr:
        s = await mgr.acquire()
        pid = s.kernel_pid()
        for _ in range(100):
            if not mgr.sessions:
                break
            await asyncio.sleep(0.1)
        assert not mgr.sessions and not s.alive and not _alive(pid)


async def test_concurrent_sessions_from_asyncio():
    async with SessionManager(pool_size=0, max_sessions=4, idle_timeout=None) as mgr:
        sessions = await asyncio.gather(*(mgr.acquire() for _ in range(3)))
        outs = await asyncio.gather(*(s.aexecute(f"{i} * 2") for i, s in enumerate(sessions)))
        assert [o.result for o in outs] == ["0", "2", "4"]


def test_sync_manager(tmp_path):
    with SyncSessionManager(pool_size=1, idle_timeout=None) as mgr:
        mgr.wait_pool()
        with mgr.session() as s:
            assert s.execute("1+1").result == "2"
        own = mgr.acquire(workspace=tmp_path)
        assert own.workspace == tmp_path.resolve()
        own.execute("open('f', 'w').write('1')")
        pid = own.kernel_pid()
    assert (tmp_path / "f").exists() and not _alive(pid)
    assert os.getpid()
