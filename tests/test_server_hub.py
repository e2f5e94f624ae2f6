"""Tests for codeact.server.hub: runs, persistence before publication, kernel lifecycle.

Real sandboxed kernels from the runtime's SessionManager, a scripted model.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from test_server_app import script_reply

from codeact.llm.scripted import ScriptedLLM
from codeact.server.errors import Conflict
from codeact.server.hub import KERNEL_LOST_NOTICE, ChatHub
from codeact.server.kernels import KernelProvider
from codeact.server.recorder import u16len
from codeact.server.runs import Run
from codeact.server.store import Store


class Recorder:
    """An llm_factory that keeps the ScriptedLLMs it made (to look at their calls)."""

    def __init__(self) -> None:
        self.llms: list[ScriptedLLM] = []

    def __call__(self, spec: str) -> ScriptedLLM:
        llm = ScriptedLLM(script_reply, chunk_size=2, name=spec)
        self.llms.append(llm)
        return llm


def make_hub(tmp_path: Path, store: Store, factory: Any, **kwargs: Any) -> ChatHub:
    return ChatHub(store, tmp_path / "data", llm_factory=factory,
                   kernels=KernelProvider(max_sessions=2, pool_size=1), **kwargs)


async def finish(run: Run) -> list[dict[str, Any]]:
    return [ev async for ev in run.follow(0) if ev is not None]


async def test_every_event_is_in_the_database_before_it_is_published(tmp_path: Path) -> None:
    store = Store(tmp_path / "db.sqlite")
    hub = make_hub(tmp_path, store, Recorder())
    await hub.start()
    checked: list[str] = []
    original = Run._publish

    def checking_publish(run: Run, events: list[dict[str, Any]]) -> None:
        items = {(i["type"], i["id"]): i for i in store.timeline(run.conversation_id)}
        for ev in events:
            if ev["type"] == "item":
                assert (ev["item"]["type"], ev["item"]["id"]) in items
            elif ev["type"] == "text":
                stored = items[("message", ev["message_id"])]["content"]
                assert u16len(stored) >= ev["offset"] + u16len(ev["text"])
            elif ev["type"] == "output":
                obs = items[("code", ev["code_action_id"])]["observation"]
                assert u16len(obs[ev["stream"]]) >= ev["offset"] + u16len(ev["text"])
            elif ev["type"] == "observation":
                assert items[("code", ev["code_action_id"])]["observation"]["status"] == "done"
            checked.append(ev["type"])
        original(run, events)

    Run._publish = checking_publish  # type: ignore[method-assign]
    try:
        cid = store.create_conversation(model="scripted")["id"]
        run, items = await hub.start_run(cid, "run: for i in range(3): print(i, flush=True)")
        assert items[0]["content"].startswith("run:")
        events = await finish(run)
        assert events[-1]["type"] == "done"
        assert {"item", "output", "observation", "done"} <= set(checked)
        history = store.agent_messages(cid)
        assert history[0]["role"] == "user" and history[-1]["role"] == "assistant"
    finally:
        Run._publish = original  # type: ignore[method-assign]
        await hub.close()
        store.close()


async def test_idle_kernel_is_closed_and_the_user_is_told(tmp_path: Path) -> None:
    store = Store(tmp_path / "db.sqlite")
    rec = Recorder()
    hub = make_hub(tmp_path, store, rec, idle_timeout=3600)
    await hub.start()
    try:
        cid = store.create_conversation(model="scripted")["id"]
        run, _ = await hub.start_run(cid, "run: x = 5\nopen('keep.txt', 'w').write('kept')")
        await finish(run)
        assert cid in hub.live
        assert (tmp_path / "data/workspaces" / cid / "keep.txt").read_text() == "kept"
        closed = await hub.reap_idle(now=asyncio.get_running_loop().time() + 10**9)
        assert closed == [cid] and cid not in hub.live
        run, items = await hub.start_run(
            cid, "run: print(open('keep.txt').read(), 'x' in globals())")
        assert items[0]["kind"] == "notice" and items[0]["content"] == KERNEL_LOST_NOTICE
        events = await finish(run)
        assert events[-1]["stop_reason"] == "solution"
        timeline = store.timeline(cid)
        assert timeline[-1]["content"] == "Result: **kept False**"
        # the model was told too, and got its earlier history back
        last_call = rec.llms[-1].calls[0]
        assert last_call[-1]["content"].startswith("[Note: the Python kernel was restarted")
        assert any("x = 5" in str(m["content"]) for m in last_call)
    finally:
        await hub.close()
        store.close()


async def test_history_is_restored_in_a_new_hub(tmp_path: Path) -> None:
    store = Store(tmp_path / "db.sqlite")
    hub = make_hub(tmp_path, store, Recorder())
    await hub.start()
    cid = store.create_conversation(model="scripted")["id"]
    run, _ = await hub.start_run(cid, "remember the word pineapple")
    await finish(run)
    await hub.close()
    rec = Recorder()
    hub2 = make_hub(tmp_path, store, rec)
    await hub2.start()
    try:
        run, items = await hub2.start_run(cid, "what was the word?")
        assert [i["kind"] for i in items] == ["text"]  # no code ran: nothing was lost
        await finish(run)
        call = rec.llms[-1].calls[0]
        assert [m["role"] for m in call] == ["system", "user", "assistant", "user"]
        assert "pineapple" in call[1]["content"]
    finally:
        await hub2.close()
        store.close()


async def test_conflict_while_running(tmp_path: Path) -> None:
    store = Store(tmp_path / "db.sqlite")
    hub = make_hub(tmp_path, store, Recorder())
    await hub.start()
    try:
        cid = store.create_conversation(model="scripted")["id"]
        run, _ = await hub.start_run(cid, "sleep")
        async for ev in run.follow(0):
            if ev and ev["type"] == "output":
                break
        with pytest.raises(Conflict):
            await hub.start_run(cid, "again")
        run.interrupt()
        events = await finish(run)
        assert events[-1]["stop_reason"] == "interrupted"
    finally:
        await hub.close()
        store.close()
