"""Resuming after a crash: the model's messages rebuilt from the snapshot and the timeline.

The unit tests build snapshots and timelines through the real Store; the last test runs
the load benchmark's --kill-restart mode with 5 conversations: a real ``codeact serve``
killed with SIGKILL mid-run, restarted, and checked.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from codeact.server.resume import CUT_OUTPUT_NOTE, model_history, observation_text
from codeact.server.store import Store

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture()
def store(tmp_path: Path) -> Store:
    s = Store(f"sqlite:///{tmp_path / 'r.db'}")
    yield s
    s.close()


def test_snapshot_alone_when_nothing_happened_after_it(store: Store) -> None:
    cid = store.create_conversation("t", "m")["id"]
    store.add_message(cid, "user", "text", "hi")
    msgs = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]
    store.add_message(cid, "assistant", "answer", "hello", turn=1)
    store.save_agent_messages(cid, msgs)
    snap = store.agent_snapshot(cid)
    assert snap["seq"] == 3 and snap["open_code"] is None
    assert model_history(snap, store.timeline(cid)) == msgs


def test_user_message_and_cut_reply_after_the_snapshot(store: Store) -> None:
    cid = store.create_conversation("t", "m")["id"]
    store.save_agent_messages(cid, [{"role": "user", "content": "a"},
                                    {"role": "assistant", "content": "b"}])
    store.add_message(cid, "user", "text", "second question")
    m = store.add_message(cid, "assistant", "text", "Half of a rep", turn=1,
                          status="streaming")
    store.close_dangling()
    hist = model_history(store.agent_snapshot(cid), store.timeline(cid))
    assert hist[2:] == [{"role": "user", "content": "second question"},
                        {"role": "assistant", "content": "Half of a rep"}]
    assert m["id"]


def test_open_code_action_gets_its_partial_output(store: Store) -> None:
    cid = store.create_conversation("t", "m")["id"]
    store.add_message(cid, "user", "text", "run it")
    store.add_message(cid, "assistant", "text", "<execute>\nprint(1)\n</execute>", turn=1)
    item, obs_id = store.add_code_action(cid, "print(1)", turn=1)
    msgs = [{"role": "user", "content": "run it"},
            {"role": "assistant", "content": "<execute>\nprint(1)\n</execute>"}]
    store.save_agent_messages(cid, msgs, open_code=item["id"])
    store.append_output(obs_id, "stdout", "step 1\n")
    store.close_dangling()  # the server died here
    hist = model_history(store.agent_snapshot(cid), store.timeline(cid))
    assert hist[:2] == msgs
    assert hist[2]["role"] == "user"
    assert hist[2]["content"] == f"Observation:\nstep 1\n{CUT_OUTPUT_NOTE}"
    assert len(hist) == 3


def test_code_action_past_the_snapshot_and_finished_observation(store: Store) -> None:
    cid = store.create_conversation("t", "m")["id"]
    store.save_agent_messages(cid, [{"role": "user", "content": "go"}])
    store.add_message(cid, "assistant", "text", "<execute>x</execute>", turn=1)
    _item, obs_id = store.add_code_action(cid, "x", turn=1)
    store.finish_observation(obs_id, cid, text="42")
    store.add_message(cid, "assistant", "answer", "42", turn=2)
    store.add_message(cid, "assistant", "answer", "42 again (same turn)", turn=2)
    store.add_message(cid, "system", "error", "never shown to the model")
    hist = model_history(store.agent_snapshot(cid), store.timeline(cid))
    assert hist == [{"role": "user", "content": "go"},
                    {"role": "assistant", "content": "<execute>x</execute>"},
                    {"role": "user", "content": "Observation:\n42"},
                    {"role": "assistant", "content": "42"}]


def test_kernel_lost_notice_adds_the_hint_and_roles_alternate(store: Store) -> None:
    cid = store.create_conversation("t", "m")["id"]
    store.save_agent_messages(cid, [{"role": "user", "content": "a"}])
    store.add_message(cid, "system", "notice", "The Python kernel of this conversation was "
                      "closed (idle time or a server restart)")
    store.add_message(cid, "user", "text", "b")
    hist = model_history(store.agent_snapshot(cid), store.timeline(cid), "[HINT] ")
    assert hist == [{"role": "user", "content": "a\n\n[HINT] b"}]


def test_old_list_format_is_taken_as_complete(store: Store) -> None:
    cid = store.create_conversation("t", "m")["id"]
    from sqlalchemy import update

    from codeact.server.schema import Conversation

    with store.session() as s:
        s.execute(update(Conversation).where(Conversation.id == cid)
                  .values(agent_messages='[{"role": "user", "content": "old"}]'))
    store.add_message(cid, "user", "text", "after")
    snap = store.agent_snapshot(cid)
    assert snap["seq"] is None
    assert model_history(snap, store.timeline(cid)) == [{"role": "user", "content": "old"}]
    assert store.agent_messages(cid) == [{"role": "user", "content": "old"}]


def test_observation_text_prefers_what_the_model_was_shown() -> None:
    assert observation_text({"text": "shown", "stdout": "x"}) == "shown"
    assert observation_text({"text": "(interrupted)", "stdout": "x\n", "stderr": "e"}) == \
        f"x\n[stderr]\ne\n{CUT_OUTPUT_NOTE}"
    assert observation_text(None) == CUT_OUTPUT_NOTE


def test_kill_minus_9_mid_run_loses_nothing_acknowledged(tmp_path: Path) -> None:
    """5 conversations over real SSE; the server is SIGKILLed once mid-run."""
    r = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "server_load.py"),
                        "--kill-restart", "--max-sessions", "5", "--turns", "3",
                        "--pool-size", "1"],
                       capture_output=True, text=True, timeout=400, cwd=tmp_path)
    out = r.stdout + r.stderr
    assert r.returncode == 0, out
    assert "kills 1" in out and "lost after the kill: 0 acknowledged" in out, out
    assert "model misses 0" in out, out
