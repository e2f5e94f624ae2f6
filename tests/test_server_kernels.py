"""Tests for codeact.server.kernels: real sandboxed kernels handed out per conversation."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from codeact.server.errors import Busy
from codeact.server.kernels import KernelProvider


async def test_files_go_in_come_back_and_the_cap_is_busy(tmp_path: Path) -> None:
    kernels = KernelProvider(max_sessions=1, pool_size=0)
    await kernels.start()
    persistent = tmp_path / "ws"
    (persistent / "data").mkdir(parents=True)
    (persistent / "data" / "in.txt").write_text("hello")
    try:
        session = await kernels.acquire("a" * 32, persistent)
        assert kernels.live_count == 1
        obs = await asyncio.to_thread(
            session.execute, "print(open('data/in.txt').read())\n"
                             "open('out.txt', 'w').write('made in the sandbox')")
        assert obs.ok and obs.stdout.strip() == "hello"
        with pytest.raises(Busy):  # one kernel at most
            await kernels.acquire("b" * 32, tmp_path / "other")
        await asyncio.to_thread(kernels.sync, session, persistent)
        assert (persistent / "out.txt").read_text() == "made in the sandbox"
        await asyncio.to_thread(session.execute, "import os; os.remove('out.txt')")
        await kernels.release("a" * 32, session, persistent)  # mirrors once more
        assert not (persistent / "out.txt").exists()
        assert (persistent / "data" / "in.txt").read_text() == "hello"
        assert kernels.live_count == 0
    finally:
        await kernels.close()
