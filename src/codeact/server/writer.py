"""The one thread that saves every run's events, then hands them to the event loop.

Agents run in worker threads and queue their events here. The writer takes what has
queued up, merges deltas that arrived faster than the database commits, records each
run's share through its :class:`~codeact.server.recorder.Recorder` in one short
transaction, and only after the commit publishes the client events on the run's loop.
Nothing reaches a client before it is in the database.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from codeact.events import DoneEvent, ObservationEvent
from codeact.server.recorder import ClientEvent, RunEnded, coalesce, is_done
from codeact.server.runs import Run
from codeact.server.store import Store

__all__ = ["EventWriter"]

log = logging.getLogger("codeact.server")


class EventWriter:
    """Persist-then-publish for all runs of a hub, on one ``codeact-db-writer`` thread.

    ``sync_files(conversation_id)`` rescans a conversation's workspace; it is called after
    an observation or the end of a run so clients get a ``files`` event.
    """

    max_batch = 2000

    def __init__(self, store: Store,
                 sync_files: Callable[[str], Sequence[Mapping[str, Any]]]) -> None:
        self.store = store
        self.sync_files = sync_files
        self._queue: queue.Queue[tuple[Run, Any] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._loop, name="codeact-db-writer",
                                        daemon=True)

    def start(self) -> None:
        self._thread.start()

    def put(self, run: Run, event: Any) -> None:
        """Queue one event of ``run`` (any thread)."""
        self._queue.put((run, event))

    async def stop(self, timeout: float = 10) -> None:
        """Save what is queued, then end the thread."""
        self._queue.put(None)
        await asyncio.to_thread(self._thread.join, timeout)

    def _loop(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            stop = False
            while len(batch) < self.max_batch:
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
                self._persist_and_publish(run, coalesce(events))
            if stop:
                return

    def _persist_and_publish(self, run: Run, events: list[Any]) -> None:
        out: list[ClientEvent] = []
        try:
            with self.store.session() as s:
                for event in events:
                    out.extend(run.recorder.record(event, s))
        except Exception as exc:
            log.exception("could not save events of %s", run.conversation_id)
            out = [{"type": "error", "message": f"could not save the conversation: {exc}"}]
            if not any(is_done(e) for e in events):
                run.interrupt()
            else:
                out.append({"type": "done", "stop_reason": "error"})
        # after the commit: publish (only now can a client see it)
        self._after_commit(run, events, out)

    def _after_commit(self, run: Run, events: list[Any], out: list[ClientEvent]) -> None:
        extra: list[ClientEvent] = []
        for event in events:
            if isinstance(event, ObservationEvent | DoneEvent | RunEnded):
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
