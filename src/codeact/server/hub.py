"""Live conversations: one agent and one sandboxed kernel each, runs and their events.

The agent is synchronous, so each run iterates ``agent.stream()`` in a worker thread. Its
events go through one writer thread that persists them (one short transaction per batch,
so deltas that arrive faster than the database commits are merged) and only then hands
them to the event loop, where any number of SSE clients read them. Nothing reaches a
client before it is in the database.

Client events are JSON objects with a ``type``; text and output deltas carry the offset
(in UTF-16 code units, as JavaScript counts) where they start, so a client that loaded
the timeline while a run was going can apply the live events without duplicating text.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import queue
import secrets
import threading
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codeact.server import workspace as ws
from codeact.server.resume import model_history
from codeact.server.store import Store

log = logging.getLogger("codeact.server")

KERNEL_LOST_NOTICE = ("The Python kernel of this conversation was closed (idle time or a "
                      "server restart), so its variables were lost. Files in the workspace "
                      "are kept.")
KERNEL_LOST_HINT = ("[Note: the Python kernel was restarted since the last message: earlier "
                    "variables and imports are gone; files in the working directory remain.]"
                    "\n\n")


@dataclass
class Snapshot:
    """The model's messages at a turn boundary, queued in order with the run's events.

    ``open_code``: taken right after a code action, whose observation the model has not
    seen yet. Saved in the same transaction as the events before it, so after a crash
    the timeline past the snapshot is exactly what the model has not been shown.
    """

    messages: list[dict[str, Any]]
    open_code: bool = False


class Busy(RuntimeError):
    """No kernel can be started now (the live-kernel cap is reached)."""


class Conflict(RuntimeError):
    """The conversation already has a run in progress."""


def u16len(text: str) -> int:
    """Length as JavaScript counts it (UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2


class KernelProvider:
    """Hands out one sandboxed kernel per conversation; the app's seam to the runtime.

    Kernels come from :class:`codeact.runtime.SessionManager`'s warm pool, so a pooled
    kernel works in its own fresh workspace. The conversation's files live in a
    persistent directory: they are copied into the kernel's workspace when it is handed
    out, and the workspace is mirrored back after every code action and on release, so
    files survive the kernel (and the server). Idle kernels are closed by the hub, not by
    the manager, so that the last mirror happens first.
    """

    def __init__(self, *, max_sessions: int = 8, pool_size: int = 1,
                 sandbox: Any = "bwrap", output_limit: int = 10_000,
                 start_concurrency: int = 4) -> None:
        from codeact.runtime import SessionManager

        self.start_concurrency = start_concurrency
        self._starts: asyncio.Semaphore | None = None

        self.manager = SessionManager(sandbox, pool_size=pool_size,
                                      max_sessions=max_sessions, idle_timeout=None,
                                      output_limit=output_limit)
        self.max_sessions = max_sessions

    async def start(self) -> None:
        await self.manager.start()

    async def acquire(self, conversation_id: str, workspace: Path) -> Any:
        from codeact.runtime import SessionLimitError

        if self._starts is None:
            self._starts = asyncio.Semaphore(self.start_concurrency)
        async with self._starts:  # many kernels starting at once thrash a small machine
            try:
                session = await self.manager.acquire()
            except SessionLimitError as exc:
                raise Busy(str(exc)) from exc
            except Exception as exc:
                log.warning("could not start a kernel: %s", exc)
                raise Busy(f"could not start a sandboxed kernel: {exc}") from exc
        try:
            await asyncio.to_thread(_copy_in, workspace, session)
        except BaseException:
            await self.manager.release(session)
            raise
        return session

    def sync(self, session: Any, workspace: Path) -> None:
        """Mirror the kernel's workspace into the persistent one (any thread)."""
        ws.mirror(Path(session.workspace), workspace)

    async def release(self, conversation_id: str, session: Any, workspace: Path) -> None:
        try:
            await asyncio.to_thread(self.sync, session, workspace)
        finally:
            await self.manager.release(session)

    @property
    def live_count(self) -> int:
        return len(self.manager.sessions)

    async def close(self) -> None:
        await self.manager.aclose()


def _copy_in(workspace: Path, session: Any) -> None:
    for rel in ws.scan(workspace, limit=None):
        session.write_file(rel, (workspace / rel).read_bytes())


@dataclass
class Live:
    """A conversation with a kernel and an agent in memory."""

    conversation_id: str
    agent: Any
    session: Any
    model: str
    last_used: float = field(default_factory=time.monotonic)
    announce_lost_kernel: bool = False


class Run:
    """One user message and everything the agent does about it."""

    def __init__(self, hub: ChatHub, live: Live, loop: asyncio.AbstractEventLoop) -> None:
        self.id = secrets.token_hex(8)
        self.hub = hub
        self.live = live
        self.conversation_id = live.conversation_id
        self.loop = loop
        self.buffer: list[dict[str, Any]] = []  # published client events
        self.done = False
        self.stop_reason: str | None = None
        self._changed = asyncio.Event()
        self.thread: threading.Thread | None = None
        # writer-thread state
        self.message_id: int | None = None
        self.message_len = 0
        self.message_text = ""
        self.code_action_id: int | None = None
        self.observation_id: int | None = None
        self.output_len = {"stdout": 0, "stderr": 0}
        self.turn = 0

    # called on the event loop ---------------------------------------------------------
    def _publish(self, events: list[dict[str, Any]]) -> None:
        for ev in events:
            ev["i"] = len(self.buffer)
            self.buffer.append(ev)
            if ev["type"] == "done":
                self.done = True
        self._changed.set()
        self._changed = asyncio.Event()

    async def follow(self, after: int = 0, keepalive: float = 15.0
                     ) -> AsyncIterator[dict[str, Any] | None]:
        """Published events from index ``after`` on, until ``done``; None = keep-alive."""
        index = max(0, after)
        while True:
            while index < len(self.buffer):
                ev = self.buffer[index]
                index += 1
                yield ev
                if ev["type"] == "done":
                    return
            if self.done:
                return
            changed = self._changed
            try:
                await asyncio.wait_for(changed.wait(), timeout=keepalive)
            except TimeoutError:
                yield None

    def interrupt(self) -> None:
        self.live.agent.interrupt()


class ChatHub:
    """Owns live conversations, their kernels, and the runs going on."""

    def __init__(
        self,
        store: Store,
        data_dir: Path,
        *,
        llm_factory: Callable[[str], Any],
        kernels: Any,
        agent_factory: Callable[..., Any] | None = None,
        idle_timeout: float = 600.0,
        agent_options: dict[str, Any] | None = None,
        evict_idle: bool = True,
    ) -> None:
        self.store = store
        self.evict_idle = evict_idle
        self.data_dir = Path(data_dir)
        self.llm_factory = llm_factory
        self.kernels = kernels
        self.agent_factory = agent_factory
        self.idle_timeout = idle_timeout
        self.agent_options = dict(agent_options or {})
        self.live: dict[str, Live] = {}
        self.runs: dict[str, Run] = {}  # latest run per conversation
        self._acquiring: dict[str, asyncio.Lock] = {}
        self._queue: queue.Queue[tuple[Run, Any] | None] = queue.Queue()
        self._writer = threading.Thread(target=self._writer_loop, name="codeact-db-writer",
                                        daemon=True)
        self._reaper: asyncio.Task[None] | None = None
        self._closed = False

    # lifecycle ------------------------------------------------------------------------
    async def start(self) -> None:
        await asyncio.to_thread(self.store.close_dangling)
        self._writer.start()
        if hasattr(self.kernels, "start"):
            await self.kernels.start()
        self._reaper = asyncio.create_task(self._reap_loop())

    async def close(self) -> None:
        self._closed = True
        for run in list(self.runs.values()):
            if not run.done:
                run.interrupt()
        for run in list(self.runs.values()):
            if run.thread is not None:
                await asyncio.to_thread(run.thread.join, 10)
        self._queue.put(None)
        await asyncio.to_thread(self._writer.join, 10)
        if self._reaper is not None:
            self._reaper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reaper
        for cid in list(self.live):
            await self._close_live(cid)
        if hasattr(self.kernels, "close"):
            await self.kernels.close()

    def workspace(self, conversation_id: str) -> Path:
        path = self.data_dir / "workspaces" / conversation_id
        path.mkdir(parents=True, exist_ok=True)
        return path

    def live_workspace(self, conversation_id: str) -> Path | None:
        """The kernel's own workspace while the conversation has a kernel, else None."""
        live = self.live.get(conversation_id)
        return Path(live.session.workspace) if live is not None else None

    def sync_files(self, conversation_id: str) -> list[dict[str, Any]]:
        """Mirror the live workspace (if any) and update the files table (any thread)."""
        path = self.workspace(conversation_id)
        live = self.live.get(conversation_id)
        if live is not None:
            self.kernels.sync(live.session, path)
        return self.store.sync_files(conversation_id, ws.scan(path))

    def is_running(self, conversation_id: str) -> bool:
        run = self.runs.get(conversation_id)
        return run is not None and not run.done

    # kernels --------------------------------------------------------------------------
    async def _get_live(self, conversation_id: str, model: str) -> Live:
        lock = self._acquiring.setdefault(conversation_id, asyncio.Lock())
        async with lock:
            live = self.live.get(conversation_id)
            if live is not None:
                if live.model != model:
                    live.agent = await asyncio.to_thread(self._make_agent, model, live.session,
                                                         live.agent.messages)
                    live.model = model
                live.last_used = time.monotonic()
                return live
            workspace = self.workspace(conversation_id)
            try:
                session = await self.kernels.acquire(conversation_id, workspace)
            except Busy:
                # at the cap: take the kernel of the least recently used idle conversation
                if not self.evict_idle or not await self._evict_one():
                    raise
                session = await self.kernels.acquire(conversation_id, workspace)
            try:
                history = await asyncio.to_thread(self.model_history, conversation_id)
                had_code = await asyncio.to_thread(self.store.has_code_actions,
                                                   conversation_id)
                agent = await asyncio.to_thread(self._make_agent, model, session, history)
            except BaseException:
                await self.kernels.release(conversation_id, session, workspace)
                raise
            live = Live(conversation_id, agent, session, model, announce_lost_kernel=had_code)
            self.live[conversation_id] = live
            return live

    def model_history(self, conversation_id: str) -> list[dict[str, Any]]:
        """The model's messages: the last snapshot plus whatever the user saw after it
        (a run cut off by a crash or kill -9), see ``resume.py``."""
        snapshot = self.store.agent_snapshot(conversation_id)
        timeline = self.store.timeline(conversation_id) if snapshot["seq"] is not None else []
        return model_history(snapshot, timeline, KERNEL_LOST_HINT)

    def _make_agent(self, model: str, session: Any, history: Sequence[dict[str, Any]]) -> Any:
        llm = self.llm_factory(model)
        if self.agent_factory is not None:
            agent = self.agent_factory(llm, session=session, **self.agent_options)
        else:
            from codeact.agent import Agent

            options = {"max_turns": 10, **self.agent_options}
            agent = Agent(llm, session=session, chat=True, **options)
        if history:
            agent.load_messages(list(history))
        return agent

    async def _close_live(self, conversation_id: str) -> None:
        live = self.live.pop(conversation_id, None)
        if live is None:
            return
        try:
            await self.kernels.release(conversation_id, live.session,
                                       self.workspace(conversation_id))
        except Exception:  # pragma: no cover - best effort at shutdown
            log.exception("closing the kernel of %s failed", conversation_id)

    async def _evict_one(self) -> bool:
        idle = [live for cid, live in self.live.items() if not self.is_running(cid)]
        if not idle:
            return False
        victim = min(idle, key=lambda live: live.last_used)
        log.info("kernel cap reached: closing the idle kernel of %s", victim.conversation_id)
        await self._close_live(victim.conversation_id)
        return True

    async def close_conversation(self, conversation_id: str) -> None:
        """Stop a run and close the kernel (when the conversation is deleted)."""
        run = self.runs.get(conversation_id)
        if run is not None and not run.done:
            run.interrupt()
            if run.thread is not None:
                await asyncio.to_thread(run.thread.join, 30)
        self.runs.pop(conversation_id, None)
        await self._close_live(conversation_id)

    async def _reap_loop(self) -> None:
        interval = max(0.5, min(30.0, self.idle_timeout / 4))
        while not self._closed:
            await asyncio.sleep(interval)
            await self.reap_idle()

    async def reap_idle(self, now: float | None = None) -> list[str]:
        """Close the kernels of conversations idle for longer than ``idle_timeout``."""
        now = time.monotonic() if now is None else now
        closed = []
        for cid, live in list(self.live.items()):
            if self.is_running(cid):
                continue
            if now - live.last_used >= self.idle_timeout:
                await self._close_live(cid)
                closed.append(cid)
        return closed

    # runs -----------------------------------------------------------------------------
    async def start_run(self, conversation_id: str, text: str) -> tuple[Run, list[dict]]:
        """Persist the user's message and start the agent; returns the run and new items."""
        if self._closed:
            raise Busy("the server is shutting down")
        if self.is_running(conversation_id):
            raise Conflict("a reply is still being generated in this conversation")
        conv = await asyncio.to_thread(self.store.get_conversation, conversation_id)
        live = await self._get_live(conversation_id, conv["model"])
        if self.is_running(conversation_id):  # another request won the race
            raise Conflict("a reply is still being generated in this conversation")
        live.last_used = time.monotonic()
        items: list[dict[str, Any]] = []
        task = text
        if live.announce_lost_kernel:
            live.announce_lost_kernel = False
            items.append(await asyncio.to_thread(
                self.store.add_message, conversation_id, "system", "notice",
                KERNEL_LOST_NOTICE))
            task = KERNEL_LOST_HINT + text
        items.append(await asyncio.to_thread(
            self.store.add_message, conversation_id, "user", "text", text))
        if conv["title"] == "New chat":
            title = " ".join(text.split())[:60] or "New chat"
            await asyncio.to_thread(self.store.update_conversation, conversation_id,
                                    title=title)
        run = Run(self, live, asyncio.get_running_loop())
        self.runs[conversation_id] = run
        run.thread = threading.Thread(target=self._run_agent, args=(run, task),
                                      name=f"codeact-run-{conversation_id[:8]}", daemon=True)
        run.thread.start()
        return run, items

    def _run_agent(self, run: Run, task: str) -> None:
        """Worker thread: iterate the agent and queue its events for the writer."""
        from codeact.events import (
            CodeActionEvent,
            DoneEvent,
            ErrorEvent,
            ToolCallEvent,
            TurnStarted,
        )

        done = False
        agent = run.live.agent

        def snapshot(open_code: bool = False) -> Snapshot:
            # the generator is paused at its yield: the list is consistent right now
            msgs = [dict(m) for m in agent.messages if m.get("role") != "system"]
            return Snapshot(msgs, open_code)

        try:
            for event in agent.stream(task):
                if isinstance(event, TurnStarted):  # everything before this turn
                    self._queue.put((run, snapshot()))
                self._queue.put((run, event))
                if isinstance(event, CodeActionEvent | ToolCallEvent):  # the reply, not
                    self._queue.put((run, snapshot(open_code=True)))  # its observation
                if isinstance(event, DoneEvent):
                    done = True
        except Exception as exc:  # the agent promises not to raise; be safe anyway
            log.exception("agent run failed")
            self._queue.put((run, ErrorEvent(run.turn, f"internal error: {exc}")))
        finally:
            if not done:
                self._queue.put((run, "done"))

    # writer thread ----------------------------------------------------------------------
    def _writer_loop(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            stop = False
            while len(batch) < 2000:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stop = True
                    break
                batch.append(item)
            groups: dict[int, tuple[Run, list[Any]]] = {}
            for run, event in batch:
                groups.setdefault(id(run), (run, []))[1].append(event)
            for run, events in groups.values():
                self._persist_and_publish(run, _coalesce(events))
            if stop:
                return

    def _persist_and_publish(self, run: Run, events: list[Any]) -> None:
        out: list[dict[str, Any]] = []
        try:
            with self.store.session() as s:
                for event in events:
                    out.extend(self._persist(run, event, s))
        except Exception as exc:
            log.exception("could not save events of %s", run.conversation_id)
            out = [{"type": "error", "message": f"could not save the conversation: {exc}"}]
            if not any(_is_done(e) for e in events):
                run.interrupt()
            else:
                out.append({"type": "done", "stop_reason": "error"})
        # after the commit: publish (only now can a client see it)
        self._after_commit(run, events, out)

    def _after_commit(self, run: Run, events: list[Any], out: list[dict[str, Any]]) -> None:
        from codeact.events import DoneEvent, ObservationEvent

        extra: list[dict[str, Any]] = []
        for event in events:
            if isinstance(event, ObservationEvent | DoneEvent) or event == "done":
                try:
                    files = self.sync_files(run.conversation_id)
                    extra.append({"type": "files", "files": files})
                except Exception:  # pragma: no cover - files are a convenience here
                    log.exception("workspace scan failed")
                break
        done = [e for e in out if e["type"] == "done"]
        rest = [e for e in out if e["type"] != "done"]
        final = rest + extra + done
        if done:
            run.stop_reason = done[-1].get("stop_reason")
            run.live.last_used = time.monotonic()
        try:
            run.loop.call_soon_threadsafe(run._publish, final)
        except RuntimeError:  # the event loop is gone (shutdown)
            pass

    def _finish_message(self, run: Run, s: Any) -> list[dict[str, Any]]:
        if run.message_id is None:
            return []
        self.store.finish_message(run.message_id, s=s)
        ev = {"type": "message_done", "id": run.message_id}
        run.message_id = None
        run.message_len = 0
        run.message_text = ""
        return [ev]

    def _persist(self, run: Run, event: Any, s: Any) -> list[dict[str, Any]]:
        from codeact.events import (
            CodeActionEvent,
            DoneEvent,
            ErrorEvent,
            FinalAnswerEvent,
            ObservationEvent,
            OutputDelta,
            TextDelta,
            ToolCallEvent,
            TurnStarted,
        )

        cid = run.conversation_id
        store = self.store
        if isinstance(event, Snapshot):
            store.save_agent_messages(cid, event.messages, s=s,
                                      open_code=run.code_action_id if event.open_code else None)
            return []
        if isinstance(event, TurnStarted):
            run.turn = event.turn
            return [*self._finish_message(run, s), {"type": "turn", "turn": event.turn}]
        if isinstance(event, TextDelta):
            if run.message_id is None:
                item = store.add_message(cid, "assistant", "text", event.text,
                                         turn=event.turn, status="streaming", s=s)
                run.message_id = item["id"]
                run.message_len = u16len(event.text)
                run.message_text = event.text
                return [{"type": "item", "item": item}]
            store.append_message_text(run.message_id, event.text, s=s)
            ev = {"type": "text", "message_id": run.message_id, "offset": run.message_len,
                  "text": event.text}
            run.message_len += u16len(event.text)
            run.message_text += event.text
            return [ev]
        if isinstance(event, CodeActionEvent | ToolCallEvent):
            message_id = run.message_id
            out = self._finish_message(run, s)
            if isinstance(event, CodeActionEvent):
                code = event.code
            else:
                code = json.dumps({"tool": event.tool, "arguments": event.arguments},
                                  ensure_ascii=False, default=repr)
            item, obs_id = store.add_code_action(cid, code, turn=event.turn,
                                                 message_id=message_id, s=s)
            run.code_action_id = item["id"]
            run.observation_id = obs_id
            run.output_len = {"stdout": 0, "stderr": 0}
            return [*out, {"type": "item", "item": item}]
        if isinstance(event, OutputDelta):
            if run.observation_id is None:
                return []
            stream = "stderr" if event.stream == "stderr" else "stdout"
            store.append_output(run.observation_id, stream, event.text, s=s)
            ev = {"type": "output", "code_action_id": run.code_action_id, "stream": stream,
                  "offset": run.output_len[stream], "text": event.text}
            run.output_len[stream] += u16len(event.text)
            return [ev]
        if isinstance(event, ObservationEvent):
            out = self._finish_message(run, s)
            if run.observation_id is not None:
                obs = store.finish_observation(run.observation_id, cid, text=event.text,
                                               observation=event.observation, s=s)
                ev = {"type": "observation", "code_action_id": run.code_action_id,
                      "observation": obs}
                run.observation_id = None
                run.code_action_id = None
                return [*out, ev]
            # feedback without a code action (an unusable reply): show it as a notice
            item = store.add_message(cid, "system", "feedback", event.text, turn=event.turn,
                                     s=s)
            return [*out, {"type": "item", "item": item}]
        if isinstance(event, FinalAnswerEvent):
            if run.message_id is not None and run.message_text.strip() == event.answer:
                # a chat reply without an action: the streamed text is the answer
                from sqlalchemy import update

                from codeact.server.store import Message

                s.execute(update(Message).where(Message.id == run.message_id)
                          .values(kind="answer"))
                ev = {"type": "message_kind", "id": run.message_id, "kind": "answer"}
                return [ev, *self._finish_message(run, s)]
            out = self._finish_message(run, s)
            item = store.add_message(cid, "assistant", "answer", event.answer,
                                     turn=event.turn, s=s)
            return [*out, {"type": "item", "item": item}]
        if isinstance(event, ErrorEvent):
            out = self._finish_message(run, s)
            item = store.add_message(cid, "system", "error", event.message, turn=event.turn,
                                     s=s)
            return [*out, {"type": "item", "item": item}]
        if isinstance(event, DoneEvent) or event == "done":
            out = self._finish_message(run, s)
            if run.observation_id is not None:
                obs = store.finish_observation(run.observation_id, cid,
                                               text="(interrupted)", s=s)
                out.append({"type": "observation", "code_action_id": run.code_action_id,
                            "observation": obs})
                run.observation_id = None
            reason = "error"
            if isinstance(event, DoneEvent):
                reason = event.trajectory.stop_reason or "done"
                messages = [m for m in event.trajectory.messages if m.get("role") != "system"]
                store.save_agent_messages(cid, messages, s=s)
            if reason == "interrupted":
                item = store.add_message(cid, "system", "notice", "Stopped.", s=s)
                out.append({"type": "item", "item": item})
            return [*out, {"type": "done", "stop_reason": reason}]
        return []


def _is_done(event: Any) -> bool:
    from codeact.events import DoneEvent

    return isinstance(event, DoneEvent) or event == "done"


def _coalesce(events: list[Any]) -> list[Any]:
    """Merge runs of text deltas (same turn) and output deltas (same stream)."""
    from codeact.events import OutputDelta, TextDelta

    out: list[Any] = []
    for ev in events:
        prev = out[-1] if out else None
        if isinstance(ev, TextDelta) and isinstance(prev, TextDelta) and prev.turn == ev.turn:
            out[-1] = TextDelta(ev.turn, prev.text + ev.text)
        elif (isinstance(ev, OutputDelta) and isinstance(prev, OutputDelta)
              and prev.stream == ev.stream and prev.turn == ev.turn):
            out[-1] = OutputDelta(ev.turn, ev.stream, prev.text + ev.text)
        else:
            out.append(ev)
    return out
