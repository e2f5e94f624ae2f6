"""Live conversations: one agent and one sandboxed kernel each, and the runs going on.

The agent is synchronous, so each run iterates ``agent.stream()`` in a worker thread and
queues its events for the :class:`~codeact.server.writer.EventWriter`, which saves them
(through the run's :class:`~codeact.server.recorder.Recorder`) before any client sees
them. Kernels come from a kernel provider (``kernels.py``); idle ones are reaped here.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from codeact.events import CodeActionEvent, DoneEvent, ErrorEvent, ToolCallEvent, TurnStarted
from codeact.server import workspace as ws
from codeact.server.errors import Busy, Conflict, NotFound
from codeact.server.recorder import (
    ApprovalAsked,
    ApprovalGiven,
    Recorder,
    RunEnded,
    Snapshot,
)
from codeact.server.resume import model_history
from codeact.server.runs import Live, PendingApproval, Run
from codeact.server.store import Store
from codeact.server.store.records import FileRecord, MessageItem
from codeact.server.writer import EventWriter

__all__ = ["AGENT_SETTINGS", "EDIT_NOTICE", "KERNEL_LOST_HINT", "KERNEL_LOST_NOTICE",
           "REGENERATE_NOTICE", "ChatHub"]

log = logging.getLogger("codeact.server")

KERNEL_LOST_NOTICE = ("The Python kernel of this conversation was closed (idle time, a "
                      "server restart or a lost kernel gateway), so its variables were lost. "
                      "Files in the workspace are kept.")
KERNEL_LOST_HINT = ("[Note: the Python kernel was restarted since the last message: earlier "
                    "variables and imports are gone; files in the working directory remain.]"
                    "\n\n")
EDIT_NOTICE = ("You edited an earlier message: the conversation continues from there (the "
               "previous version is kept as a branch). The Python kernel was restarted, so "
               "variables were reset; files in the workspace are kept.")
REGENERATE_NOTICE = ("Regenerating the last answer (the previous one is kept as a branch). "
                     "The Python kernel was kept: variables from the previous answer still "
                     "exist.")
# conversation settings that map to Agent arguments (the rest, e.g. approval, do not)
AGENT_SETTINGS = {"temperature": "temperature", "max_turns": "max_turns",
                  "max_new_tokens": "max_new_tokens", "prompt": "prompt"}


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
        undo_seconds: float = 60.0,
    ) -> None:
        self.store = store
        self.evict_idle = evict_idle
        self.undo_seconds = undo_seconds  # a deleted conversation can be restored this long
        self.data_dir = Path(data_dir)
        self.llm_factory = llm_factory
        self.kernels = kernels
        self.agent_factory = agent_factory
        self.idle_timeout = idle_timeout
        self.agent_options = dict(agent_options or {})
        self.live: dict[str, Live] = {}
        self.runs: dict[str, Run] = {}  # latest run per conversation
        self._acquiring: dict[str, asyncio.Lock] = {}
        self._writer = EventWriter(store, self.sync_files)
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
        await self._writer.stop(10)
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

    def sync_files(self, conversation_id: str) -> list[FileRecord]:
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
    async def _get_live(self, conversation_id: str, model: str,
                        settings: dict[str, Any] | None = None) -> Live:
        settings = dict(settings or {})
        lock = self._acquiring.setdefault(conversation_id, asyncio.Lock())
        async with lock:
            live = self.live.get(conversation_id)
            if live is not None:
                if live.model != model or live.settings != settings:
                    live.agent = await asyncio.to_thread(
                        self._make_agent, model, live.session, live.agent.messages,
                        settings, conversation_id)
                    live.model, live.settings = model, settings
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
                agent = await asyncio.to_thread(self._make_agent, model, session, history,
                                                settings, conversation_id)
            except BaseException:
                await self.kernels.release(conversation_id, session, workspace)
                raise
            live = Live(conversation_id, agent, session, model, announce_lost_kernel=had_code,
                        settings=settings)
            self.live[conversation_id] = live
            return live

    def model_history(self, conversation_id: str) -> list[dict[str, Any]]:
        """The model's messages: the last snapshot plus whatever the user saw after it
        (a run cut off by a crash or kill -9), see ``resume.py``."""
        snapshot = self.store.agent_snapshot(conversation_id)
        timeline = self.store.timeline(conversation_id) if snapshot["seq"] is not None else []
        return model_history(snapshot, timeline, KERNEL_LOST_HINT)

    def _make_agent(self, model: str, session: Any, history: Sequence[dict[str, Any]],
                    settings: dict[str, Any] | None = None,
                    conversation_id: str | None = None) -> Any:
        llm = self.llm_factory(model)
        chosen = {arg: (settings or {})[key] for key, arg in AGENT_SETTINGS.items()
                  if (settings or {}).get(key) is not None}
        if self.agent_factory is not None:
            agent = self.agent_factory(llm, session=session, **self.agent_options)
        else:
            from codeact.agent import Agent

            options = {"max_turns": 10, **self.agent_options, **chosen}
            approve: Callable[[str], Any] | None = None
            if conversation_id is not None:
                cid = conversation_id
                approve = lambda code: self._approve(cid, code)  # noqa: E731
            agent = Agent(llm, session=session, chat=True, approve=approve, **options)
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
            try:
                await self.purge_deleted()
            except Exception:  # pragma: no cover - retried on the next round
                log.exception("purging deleted conversations failed")

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
    async def start_run(self, conversation_id: str, text: str, *,
                        approval: bool | None = None) -> tuple[Run, list[MessageItem]]:
        """Persist the user's message and start the agent; returns the run and new items.

        ``approval``: ask before each code action (None: the conversation's setting).
        """
        return await self._start(conversation_id, text, approval=approval)

    async def _start(self, conversation_id: str, text: str, *, approval: bool | None,
                     add_user: bool = True, notice: str | None = None,
                     reset_hint: bool = False) -> tuple[Run, list[MessageItem]]:
        """Start a run. ``notice`` is shown first; ``reset_hint`` tells the model its
        kernel was restarted; ``add_user`` False re-runs the last user message."""
        if self._closed:
            raise Busy("the server is shutting down")
        if self.is_running(conversation_id):
            raise Conflict("a reply is still being generated in this conversation")
        conv = await asyncio.to_thread(self.store.get_conversation, conversation_id)
        settings = conv.get("settings") or {}
        live = await self._get_live(conversation_id, conv["model"], settings)
        if self.is_running(conversation_id):  # another request won the race
            raise Conflict("a reply is still being generated in this conversation")
        live.last_used = time.monotonic()
        items: list[MessageItem] = []
        task = text
        if notice is not None:
            live.announce_lost_kernel = False
            items.append(await asyncio.to_thread(
                self.store.add_message, conversation_id, "system", "notice", notice))
            if reset_hint:
                task = KERNEL_LOST_HINT + text
        elif live.announce_lost_kernel:
            live.announce_lost_kernel = False
            items.append(await asyncio.to_thread(
                self.store.add_message, conversation_id, "system", "notice",
                KERNEL_LOST_NOTICE))
            task = KERNEL_LOST_HINT + text
        if add_user:
            items.append(await asyncio.to_thread(
                self.store.add_message, conversation_id, "user", "text", text))
        if conv["title"] == "New chat":
            title = " ".join(text.split())[:60] or "New chat"
            await asyncio.to_thread(self.store.update_conversation, conversation_id,
                                    title=title)
        run = Run(live, asyncio.get_running_loop(), Recorder(self.store, conversation_id))
        run.approval = bool(settings.get("approval")) if approval is None else approval
        self.runs[conversation_id] = run
        run.thread = threading.Thread(target=self._run_agent, args=(run, task),
                                      name=f"codeact-run-{conversation_id[:8]}", daemon=True)
        run.thread.start()
        return run, items

    def _history_before(self, conversation_id: str, seq: int) -> list[dict[str, Any]]:
        """The model's messages for the shown timeline before ``seq`` (a fork point)."""
        items = [i for i in self.store.timeline(conversation_id) if i["seq"] < seq]
        return model_history({"messages": [], "seq": 0, "open_code": None}, items,
                             KERNEL_LOST_HINT)

    def _user_message(self, conversation_id: str, message_id: int | None
                      ) -> MessageItem:
        """A user message of the shown timeline (None: the last one), else NotFound."""
        users = [i for i in self.store.timeline(conversation_id)
                 if i["type"] == "message" and i["role"] == "user"]
        for item in reversed(users):
            if message_id is None or item["id"] == message_id:
                return item
        raise NotFound("no such user message in this conversation")

    def _first_version(self, conversation_id: str, user: MessageItem) -> tuple[int, int]:
        """(branch, seq) of the message ``user`` is a version of: an edit's edit is one
        more version of the first message, so the UI lists them together."""
        own = next((b for b in self.store.branches(conversation_id)
                    if b["number"] == user["branch"]), None)
        if (own is not None and own["kind"] == "edit" and own["parent"] is not None
                and own["anchor_seq"] is not None):
            first = next((i for i in self.store.timeline(conversation_id)
                          if i["type"] == "message" and i["role"] == "user"
                          and i["branch"] == own["number"]), None)
            if first is not None and first["id"] == user["id"]:
                return own["parent"], own["anchor_seq"]
        return user["branch"], user["seq"]

    async def regenerate(self, conversation_id: str, *, approval: bool | None = None
                         ) -> tuple[Run, list[MessageItem]]:
        """Answer the last user message again on a new branch; the kernel is kept."""
        if self.is_running(conversation_id):
            raise Conflict("a reply is still being generated in this conversation")
        user = await asyncio.to_thread(self._user_message, conversation_id, None)
        history = await asyncio.to_thread(self._history_before, conversation_id, user["seq"])
        await asyncio.to_thread(self.store.fork, conversation_id, anchor_seq=user["seq"],
                                fork_seq=user["seq"] + 1, kind="regenerate", history=history,
                                parent=user["branch"])
        live = self.live.get(conversation_id)
        if live is not None:
            live.agent.load_messages(history)
        return await self._start(conversation_id, user["content"], approval=approval,
                                 add_user=False, notice=REGENERATE_NOTICE)

    async def edit(self, conversation_id: str, message_id: int, text: str, *,
                   approval: bool | None = None) -> tuple[Run, list[MessageItem]]:
        """Send an edited version of a user message: the conversation forks before it,
        the old branch is kept, the kernel restarts (variables reset)."""
        if self.is_running(conversation_id):
            raise Conflict("a reply is still being generated in this conversation")
        user = await asyncio.to_thread(self._user_message, conversation_id, message_id)
        history = await asyncio.to_thread(self._history_before, conversation_id, user["seq"])
        parent, anchor = await asyncio.to_thread(self._first_version, conversation_id, user)
        await asyncio.to_thread(self.store.fork, conversation_id, anchor_seq=anchor,
                                fork_seq=anchor, kind="edit", history=history, parent=parent)
        await self._close_live(conversation_id)
        return await self._start(conversation_id, text, approval=approval,
                                 notice=EDIT_NOTICE, reset_hint=True)

    async def switch_branch(self, conversation_id: str, number: int) -> None:
        """Show another branch; the kernel restarts (its variables belong to the other)."""
        if self.is_running(conversation_id):
            raise Conflict("a reply is still being generated in this conversation")
        await asyncio.to_thread(self.store.switch_branch, conversation_id, number)
        await self._close_live(conversation_id)

    def _approve(self, conversation_id: str, code: str) -> Any:
        """Agent hook (worker thread): in approval mode, wait for Run / Edit / Skip."""
        from codeact.agent import Approval

        run = self.runs.get(conversation_id)
        if run is None or not run.approval or run.done:
            return Approval()
        pending = PendingApproval(code)
        run.pending = pending
        self._writer.put(run, ApprovalAsked(code, pending))
        stopped = getattr(run.live.agent, "_interrupted", None)
        if stopped is not None and stopped.is_set():  # stopped just before we asked
            pending.answer("skip")
        pending.answered.wait()
        run.pending = None
        action, new_code = pending.decision
        self._writer.put(run, ApprovalGiven(action, new_code if action == "edit" else None))
        if action == "edit" and new_code is not None:
            return Approval("edit", new_code)
        return Approval("skip") if action == "skip" else Approval()

    async def purge_deleted(self, now: float | None = None) -> list[str]:
        """Delete for good the conversations whose undo window is over."""
        import shutil

        when = (time.time() if now is None else now) - self.undo_seconds
        gone = await asyncio.to_thread(self.store.deleted_before, when)
        for cid in gone:
            await self.close_conversation(cid)
            await asyncio.to_thread(self.store.delete_conversation, cid)
            await asyncio.to_thread(shutil.rmtree, self.data_dir / "workspaces" / cid, True)
        return gone

    def _run_agent(self, run: Run, task: str) -> None:
        """Worker thread: iterate the agent and queue its events for the writer."""
        done = False
        agent = run.live.agent

        def snapshot(open_code: bool = False) -> Snapshot:
            # the generator is paused at its yield: the list is consistent right now
            msgs = [dict(m) for m in agent.messages if m.get("role") != "system"]
            return Snapshot(msgs, open_code)

        try:
            for event in agent.stream(task):
                if isinstance(event, TurnStarted):  # everything before this turn
                    self._writer.put(run, snapshot())
                self._writer.put(run, event)
                if isinstance(event, CodeActionEvent | ToolCallEvent):  # the reply, not
                    self._writer.put(run, snapshot(open_code=True))  # its observation
                if isinstance(event, DoneEvent):
                    done = True
        except Exception as exc:  # the agent promises not to raise; be safe anyway
            log.exception("agent run failed")
            self._writer.put(run, ErrorEvent(run.turn, f"internal error: {exc}"))
        finally:
            if not done:
                self._writer.put(run, RunEnded())
            session = run.live.session
            if getattr(session, "remote", False) and not session.alive:
                # its gateway went away mid-run: the next message says so, to the user and
                # to the model (a new kernel on another gateway has none of the variables)
                run.live.announce_lost_kernel = True
