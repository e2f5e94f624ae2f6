"""The Jupyter messaging side of one kernel: zmq channels, requests, collected output.

A :class:`KernelClient` holds the host ends of a kernel's shell, control and iopub
sockets (``ipc`` transport in the kernel's run directory), signs and sends requests,
routes replies to their futures and iopub messages to the :class:`CellRun` of the cell
they belong to. It knows nothing of processes or sandboxes: the kernel's death reaches it
as the ``died`` future.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import zmq
import zmq.asyncio
from jupyter_client.session import Session as JupyterSession

from .kernel_code import DROP_MARK
from .observation import ExecutionError
from .output import BoundedText, strip_ansi

__all__ = ["IOPUB_GRACE", "MAX_IMAGES", "MAX_MSG_BYTES", "PROBE_TIMEOUT", "CellRun",
           "CommHandler", "KernelClient", "OutputCallback", "ProtocolClient"]

log = logging.getLogger("codeact.runtime")

OutputCallback = Callable[[str, str], Any]

MAX_MSG_BYTES = 32 << 20  # a bigger zmq message from a kernel drops that connection
MAX_IMAGES = 32
IOPUB_GRACE = 2.0  # seconds iopub may trail an execute_reply before we probe the channel
PROBE_TIMEOUT = 10.0  # seconds a healthy kernel needs to answer a probe on shell + iopub
_DROP_RE = re.compile(re.escape(DROP_MARK) + r"(\d+)\x00")
_ctx: zmq.asyncio.Context | None = None


def _zmq_ctx() -> zmq.asyncio.Context:
    global _ctx
    if _ctx is None:
        _ctx = zmq.asyncio.Context()
    return _ctx


class CellRun:
    """Collects what one execute_request produces (output capped, images, the error)."""

    def __init__(self, limit: int, on_output: OutputCallback | None) -> None:
        self.stdout = BoundedText(limit)
        self.stderr = BoundedText(limit)
        self.result: str | None = None
        self.images: list[bytes] = []
        self.error: ExecutionError | None = None
        self.on_output = on_output
        self.reply: asyncio.Future[dict] = asyncio.get_running_loop().create_future()
        self.idle = asyncio.Event()
        self.iopub_silent = False  # the reply came but its output stream never finished
        self.interrupt = asyncio.Event()
        self.final_answer: str | None = None  # what final_answer(...) submitted
        self.user_expressions: dict | None = None  # from the execute reply

    def stream(self, name: str, text: str) -> None:
        buf = self.stderr if name == "stderr" else self.stdout
        text = strip_ansi(text)  # pip and other coloured output: no escape codes for the model
        pos = 0
        for m in _DROP_RE.finditer(text):
            self._emit(buf, name, text[pos:m.start()])
            buf.add_dropped(int(m.group(1)))
            if self.on_output:
                self._callback(name, f"\n[... {int(m.group(1)):,} characters dropped ...]\n")
            pos = m.end()
        self._emit(buf, name, text[pos:])

    def _emit(self, buf: BoundedText, name: str, text: str) -> None:
        if not text:
            return
        buf.append(text)
        self._callback(name, text)

    def _callback(self, name: str, text: str) -> None:
        if self.on_output is None:
            return
        try:
            self.on_output(name, text)
        except Exception:  # a UI callback must not break execution
            log.exception("on_output callback failed")

    def data(self, data: dict, *, is_result: bool) -> None:
        png = data.get("image/png")
        if isinstance(png, str) and len(self.images) < MAX_IMAGES:
            try:
                self.images.append(base64.b64decode(png))
            except ValueError:
                pass
        text = data.get("text/plain")
        if is_result:
            if isinstance(text, str):
                self.result = text[: self.stdout.limit] if len(text) > self.stdout.limit else text
        elif png is None and isinstance(text, str):
            self._emit(self.stdout, "stdout", text + "\n")


CommHandler = Callable[[dict], Any]


class ProtocolClient:
    """The Jupyter messaging of one kernel, whatever carries it: requests and their reply
    futures, iopub routed to the :class:`CellRun` of its cell, comm messages to
    ``on_comm``. A transport subclass sends with :meth:`_send` and hands every message
    it receives to :meth:`deliver` (zmq here, a gateway's WebSocket in ``gateway/``)."""

    def __init__(self, died: asyncio.Future[int | None]) -> None:
        self.died = died
        self.jsession = JupyterSession(signature_scheme="hmac-sha256",
                                       username="codeact", check_pid=False)
        self.tasks: list[asyncio.Task[None]] = []
        self.pending: dict[str, CellRun] = {}
        self.replies: dict[str, asyncio.Future[dict]] = {}
        self.saw_iopub = asyncio.Event()
        self.on_comm: CommHandler | None = None  # comm_msg from the kernel (tool bridge)

    @property
    def connected(self) -> bool:
        """The channels are open (requests can be sent)."""
        raise NotImplementedError

    def _send(self, channel: str, msg: dict) -> None:
        raise NotImplementedError

    def deliver(self, channel: str, msg: dict) -> None:
        """Route one message from the kernel: iopub to its cell, replies to their futures."""
        parent = (msg.get("parent_header") or {}).get("msg_id")
        if channel == "iopub":
            self.saw_iopub.set()
            if msg.get("msg_type") == "comm_msg" and self.on_comm is not None:
                try:
                    self.on_comm(msg)
                except Exception:  # a bad comm message must not stop the reader
                    log.exception("comm message handler failed")
                return
            ex = self.pending.get(parent) if parent else None
            if ex is not None:
                self._on_iopub(ex, msg)
        else:
            fut = self.replies.pop(parent, None) if parent else None
            if fut is not None and not fut.done():
                fut.set_result(msg)

    async def wait_ready(self, timeout: float, died: Callable[[], Exception],
                         stderr_text: Callable[[], str]) -> None:
        """Until the kernel answers on shell and iopub; ``died()`` is raised if it exits."""
        deadline = time.monotonic() + timeout
        while True:
            fut = self.send("shell", "kernel_info_request", {})
            remaining = deadline - time.monotonic()
            done, _ = await asyncio.wait({fut, self.died}, timeout=min(1.0, max(remaining, 0)),
                                         return_when=asyncio.FIRST_COMPLETED)
            if self.died in done:
                await asyncio.sleep(0.05)  # let stderr arrive
                raise died()
            if fut in done:
                try:
                    await asyncio.wait_for(self.saw_iopub.wait(), 0.5)
                    return
                except TimeoutError:
                    pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the kernel did not start within {timeout:.0f}s: "
                                   f"{stderr_text().strip()}")

    # -- messaging -----------------------------------------------------------------------
    def send(self, channel: str, msg_type: str, content: dict) -> asyncio.Future[dict]:
        return self.send_id(channel, msg_type, content)[1]

    def post(self, channel: str, msg_type: str, content: dict) -> None:
        """Send a message that gets no reply (e.g. a ``comm_msg``)."""
        self._send(channel, self.jsession.msg(msg_type, content))

    def send_id(self, channel: str, msg_type: str,
                content: dict) -> tuple[str, asyncio.Future[dict]]:
        msg = self.jsession.msg(msg_type, content)
        fut: asyncio.Future[dict] = asyncio.get_running_loop().create_future()
        msg_id = msg["header"]["msg_id"]
        self.replies[msg_id] = fut
        self._send(channel, msg)
        return msg_id, fut

    @staticmethod
    def _on_iopub(ex: CellRun, msg: dict) -> None:
        t = msg["msg_type"]
        c = msg.get("content") or {}
        if t == "stream":
            ex.stream(str(c.get("name", "stdout")), str(c.get("text", "")))
        elif t == "execute_result":
            ex.data(c.get("data") or {}, is_result=True)
        elif t in ("display_data", "update_display_data"):
            ex.data(c.get("data") or {}, is_result=False)
        elif t == "error":
            tb = strip_ansi("\n".join(str(x) for x in c.get("traceback") or []))
            ex.error = ExecutionError(str(c.get("ename", "Error")), str(c.get("evalue", "")),
                                      tb[-20000:])
        elif t == "status" and c.get("execution_state") == "idle":
            ex.idle.set()

    async def iopub_works(self, timeout: float = PROBE_TIMEOUT) -> bool:
        """Probe both channels: a kernel_info_request must get its reply on shell and its
        busy/idle status on iopub. False means the channels desynchronised (e.g. the host
        dropped an oversized message and with it the subscription)."""
        ex = CellRun(1000, None)
        msg_id, fut = self.send_id("shell", "kernel_info_request", {})
        self.pending[msg_id] = ex
        try:
            await asyncio.wait_for(asyncio.gather(fut, ex.idle.wait()), timeout)
            return True
        except TimeoutError:
            return False
        finally:
            self.pending.pop(msg_id, None)
            self.replies.pop(msg_id, None)

    async def run_silent(self, code: str, timeout: float,
                         stderr_text: Callable[[], str] = str,
                         user_expressions: dict[str, str] | None = None) -> dict:
        """Run setup code; raise if it fails (``stderr_text``: the kernel's, for the error).
        Returns the reply's content (with ``user_expressions`` evaluated after the code)."""
        fut = self.send("shell", "execute_request",
                        {"code": code, "silent": True, "store_history": False,
                         "user_expressions": user_expressions or {}, "allow_stdin": False,
                         "stop_on_error": True})
        done, _ = await asyncio.wait({fut, self.died}, timeout=timeout,
                                     return_when=asyncio.FIRST_COMPLETED)
        if fut not in done:
            raise RuntimeError(f"kernel setup failed: {stderr_text()}")
        content = fut.result().get("content") or {}
        if content.get("status") != "ok":
            raise RuntimeError(f"kernel setup failed: {content.get('ename')}: "
                               f"{content.get('evalue')}")
        return content

    def close(self) -> None:
        """Stop reading, cancel what still waits for a reply."""
        for t in self.tasks:
            t.cancel()
        for fut in self.replies.values():
            if not fut.done():
                fut.cancel()
        self.replies.clear()


class KernelClient(ProtocolClient):
    """The host ends of one local kernel's zmq channels."""

    def __init__(self, key: str, died: asyncio.Future[int | None]) -> None:
        super().__init__(died)
        self.jsession = JupyterSession(key=key.encode(), signature_scheme="hmac-sha256",
                                       username="codeact", check_pid=False)
        self.sockets: dict[str, zmq.asyncio.Socket] = {}

    @property
    def connected(self) -> bool:
        return bool(self.sockets)

    def _send(self, channel: str, msg: dict) -> None:
        self.jsession.send(self.sockets[channel], msg)

    def connect(self, ipc_dir: Path) -> None:
        """Connect shell, control and iopub to the kernel's sockets and start reading."""
        loop = asyncio.get_running_loop()
        ctx = _zmq_ctx()
        host = f"ipc://{ipc_dir}/k"
        for name, kind, port in (("shell", zmq.DEALER, 1), ("control", zmq.DEALER, 4),
                                 ("iopub", zmq.SUB, 2)):
            sock = ctx.socket(kind)
            sock.setsockopt(zmq.LINGER, 0)
            sock.setsockopt(zmq.MAXMSGSIZE, MAX_MSG_BYTES)
            sock.setsockopt(zmq.RCVHWM, 64)
            if kind == zmq.SUB:
                sock.setsockopt(zmq.SUBSCRIBE, b"")
            sock.connect(f"{host}-{port}")
            self.sockets[name] = sock
        for name in ("shell", "control", "iopub"):
            self.tasks.append(loop.create_task(self._reader(name)))

    async def _reader(self, name: str) -> None:
        sock = self.sockets[name]
        while True:
            try:
                parts = await sock.recv_multipart()
            except (asyncio.CancelledError, zmq.ZMQError):
                return
            try:
                _idents, parts = self.jsession.feed_identities(parts)
                msg = self.jsession.deserialize(parts)
            except Exception:
                log.debug("dropped a malformed kernel message on %s", name)
                continue
            self.deliver(name, msg)

    def close(self) -> None:
        """Stop reading, close the sockets, cancel what still waits for a reply."""
        for t in self.tasks:
            t.cancel()
        for sock in self.sockets.values():
            sock.close(linger=0)
        self.sockets.clear()
        super().close()
