"""One background asyncio loop (a long-lived daemon thread) that owns all kernel I/O.

Kernels are spawned from this thread too: ``bwrap --die-with-parent`` ties the sandbox
to the thread that forked it, so that thread must live as long as the process.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None
_thread: threading.Thread | None = None


def runtime_loop() -> asyncio.AbstractEventLoop:
    global _loop, _thread
    with _lock:
        if _loop is None or not _thread or not _thread.is_alive():
            loop = asyncio.new_event_loop()
            ready = threading.Event()

            def run() -> None:
                asyncio.set_event_loop(loop)
                loop.call_soon(ready.set)
                loop.run_forever()

            _thread = threading.Thread(target=run, name="codeact-runtime", daemon=True)
            _thread.start()
            ready.wait()
            _loop = loop
        return _loop


def in_runtime_loop() -> bool:
    try:
        return asyncio.get_running_loop() is _loop
    except RuntimeError:
        return False


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` on the runtime loop and block until it is done."""
    if in_runtime_loop():
        coro.close()
        raise RuntimeError("blocking runtime call from inside the runtime loop; use the async API")
    fut: concurrent.futures.Future[T] = asyncio.run_coroutine_threadsafe(coro, runtime_loop())
    return fut.result()


async def run_async(coro: Coroutine[Any, Any, T]) -> T:
    """Await ``coro`` on the runtime loop from any event loop."""
    if in_runtime_loop():
        return await coro
    fut = asyncio.run_coroutine_threadsafe(coro, runtime_loop())
    return await asyncio.wrap_future(fut)
