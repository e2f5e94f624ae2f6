"""One kernel on a gateway, as a :class:`~codeact.runtime.session.Session` drives it.

The session's lifecycle (timeouts, interrupts, restarts after a crash, output limits,
images, ``final_answer``) is the same code for local and remote kernels; this class is
the remote half of what ``session.py``'s local kernel does: place the kernel on a
gateway, open its channels, run the same start-up cells (the tool bridge over comm
messages, see ``comm_bridge.py``), and keep the workspace.

The workspace: the session keeps its host directory as the copy of record and the kernel
works in its own directory on the gateway's machine (``kernel/files.py``). Files the host
writes are pushed just before the next cell; after each cell the kernel's file list comes
back in the same execute reply (a user expression, no extra round trip) and changed files
are pulled. So ``session.workspace`` on the host is current after every cell, a new kernel
(after a crash, a restart or a lost gateway) starts with every file, and the server's
mirroring works unchanged.
"""

from __future__ import annotations

import ast
import asyncio
import base64
import io
import json
import logging
import tarfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from codeact.syntax import LITERAL_ERRORS

from .. import workspace as wsfiles
from ..comm_bridge import CommBridge
from ..kernel import source
from ..kernel_code import setup_code, tools_code
from .channels import GatewayChannels
from .endpoints import Gateway, GatewayError, GatewayLost, pool_for

if TYPE_CHECKING:
    from ..session import Session

__all__ = ["MAX_FILE_BYTES", "RemoteKernel"]

log = logging.getLogger("codeact.runtime")

MAX_FILE_BYTES = 64 << 20  # a bigger workspace file stays on the gateway (not mirrored)
# file bytes per request: base64 of it stays under the 10 MB a gateway's WebSocket takes
CHUNK_BYTES = 4 << 20
STATE_EXPR = "__import__('codeact_files').state()"


def _literal(expr_reply: Any) -> Any:
    """The value of a user expression's reply (its ``text/plain`` repr), or None."""
    if not isinstance(expr_reply, dict) or expr_reply.get("status") != "ok":
        return None
    text = (expr_reply.get("data") or {}).get("text/plain")
    try:
        return ast.literal_eval(text) if isinstance(text, str) else None
    except LITERAL_ERRORS:
        return None


def _json(expr_reply: Any) -> Any:
    """A user expression that returned JSON text: its decoded value, or None."""
    text = _literal(expr_reply)
    try:
        return json.loads(text) if isinstance(text, str) else None
    except ValueError:
        return None


class RemoteKernel:
    """A kernel on a gateway: its place, its channels, its comm bridge, its files."""

    def __init__(self, session: Session) -> None:
        self.s = session
        cfg = session.config
        self.pool = pool_for(cfg.gateway_urls, cfg.gateway_token)
        self.gateway: Gateway | None = None
        self.kernel_id: str | None = None
        self.died: asyncio.Future[int | None] = asyncio.get_running_loop().create_future()
        self._client: GatewayChannels | None = None  # set once placed
        self.bridge: CommBridge | None = None
        self.known: dict[str, tuple[int, int]] = {}  # the kernel's files as last seen
        self._closed = False

    # -- the session's view ---------------------------------------------------------------
    @property
    def client(self) -> GatewayChannels:
        """The kernel's channels (once :meth:`start` has placed it)."""
        if self._client is None:
            raise GatewayError("the remote kernel has not been started")
        return self._client

    @property
    def alive(self) -> bool:
        return self._client is not None and self._client.connected and not self.died.done()

    @property
    def pid(self) -> int | None:
        return None  # the process is on the gateway's machine

    @property
    def cgroup(self) -> None:
        return None

    @property
    def where(self) -> str:
        """``URL kernel-id`` (for messages and logs)."""
        return f"{self.gateway.url if self.gateway else '?'} {self.kernel_id or '?'}"

    def stderr_text(self) -> str:
        return ""  # the kernel's stderr stays in the gateway's log

    def exit_reason(self) -> str:
        lost = self._client.lost if self._client is not None else None
        return lost or "the kernel on the gateway stopped responding"

    def gateway_lost(self) -> GatewayLost | None:
        """The error for a cell whose gateway connection broke (None: the kernel merely
        died and the gateway is fine, so the session restarts it as for a local one)."""
        if self.gateway is not None and self.gateway.held_back and self._client is not None:
            return GatewayLost(f"{self._client.lost}; the kernel's variables are lost, the "
                               "workspace files are kept and the next cell starts a new "
                               "kernel")
        return None

    def user_expressions(self) -> dict[str, str]:
        return {"__codeact_ws": STATE_EXPR}

    # -- lifecycle ------------------------------------------------------------------------
    async def start(self) -> None:
        """Place the kernel and set it up; when its gateway goes away during the start,
        start again on another one (the pool leaves the broken one out)."""
        tries = len(self.pool.gateways)
        for attempt in range(tries):
            try:
                await self._start_once()
                return
            except (GatewayError, RuntimeError) as exc:
                broken = self.gateway is not None and self.gateway.held_back
                if not broken or attempt == tries - 1:
                    raise
                log.warning("session %s: starting a kernel on %s failed (%s); trying "
                            "another gateway", self.s.id, self.gateway.url if self.gateway
                            else "?", exc)
                await self._abandon()

    async def _abandon(self) -> None:
        """Forget a half-started kernel whose gateway broke (a fresh ``died`` too)."""
        if self.bridge is not None:
            await self.bridge.close()
        if self._client is not None:
            self._client.close()
        self._client, self.bridge, self.gateway, self.kernel_id = None, None, None, None
        self.died = asyncio.get_running_loop().create_future()

    async def _start_once(self) -> None:
        s, cfg = self.s, self.s.config
        self.gateway, self.kernel_id = await self.pool.place(
            cfg.gateway_kernel, allow_unsandboxed=cfg.gateway_allow_unsandboxed)
        self._client = GatewayChannels(self.gateway, self.kernel_id, self.died)
        await self._client.connect()
        self.bridge = CommBridge(self._client, s._tools, installer=self._pip)
        await self.bridge.start()
        await self._client.wait_ready(cfg.start_timeout, self._start_failure, self.stderr_text)
        root = await self._client.run_silent(
            source("files") + f"__codeact_files(None, {MAX_FILE_BYTES})\n",
            30.0, user_expressions={"root": "__import__('codeact_files').root"})
        log.info("session %s: kernel %s (workspace %s)", s.id, self.where,
                 _literal((root.get("user_expressions") or {}).get("root")))
        code = setup_code(s.output_limit, None, None, suggest=s.suggest)
        if s._tools:
            code += tools_code(s._tools)
        await self._client.run_silent(code, 30.0)
        self.known = {}
        await self.push(wsfiles.list_files(s.workspace))

    def _start_failure(self) -> Exception:
        return GatewayLost(f"the kernel on gateway {self.where} failed to start "
                           f"({self.exit_reason()})")

    async def kill(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self.bridge is not None:
            await self.bridge.close()
        client = self._client
        if client is not None and client.connected and client.idle:
            try:  # a temporary workspace on the gateway goes with the kernel (not when
                # a stuck cell would make the request wait)
                await asyncio.wait_for(client.run_silent(
                    "__import__('codeact_files').drop()", 5.0), 5.0)
            except Exception:
                pass
        if client is not None:
            client.close()
        if self.gateway is not None and self.kernel_id is not None and not \
                self.gateway.held_back:
            await self.gateway.delete_kernel(self.kernel_id)
        if not self.died.done():
            self.died.set_result(None)

    # -- workspace ------------------------------------------------------------------------
    async def push(self, rels: list[str]) -> None:
        """Copy these host workspace files into the kernel's workspace."""
        assert self._client is not None
        root = self.s.workspace
        batch: list[tuple[str, bytes]] = []
        size = 0
        for rel in rels:
            try:
                data = wsfiles.read_bytes(root, rel)
            except (OSError, ValueError):
                continue
            if len(data) > MAX_FILE_BYTES:
                log.warning("session %s: %s is over %d MB, not copied to the gateway",
                            self.s.id, rel, MAX_FILE_BYTES >> 20)
                continue
            if len(data) > CHUNK_BYTES:
                await self._write_parts(rel, data)
                continue
            if size + len(data) > CHUNK_BYTES:
                await self._write(batch)
                batch, size = [], 0
            batch.append((rel, data))
            size += len(data)
        if batch:
            await self._write(batch)

    async def _write_parts(self, rel: str, data: bytes) -> None:
        for start in range(0, len(data), CHUNK_BYTES):
            part = base64.b64encode(data[start:start + CHUNK_BYTES]).decode()
            last = start + CHUNK_BYTES >= len(data)
            expr = (f"__import__('codeact_files').write_part({rel!r}, {part!r}, "
                    f"{start == 0}, {last})")
            reply = await self.client.run_silent("", 120.0, user_expressions={"p": expr})
            st = _literal((reply.get("user_expressions") or {}).get("p"))
            if last and isinstance(st, list) and len(st) == 2:
                self.known[rel] = (int(st[0]), int(st[1]))

    async def _write(self, batch: list[tuple[str, bytes]]) -> None:
        assert self._client is not None
        exprs = {f"f{i}": f"__import__('codeact_files').write({rel!r}, "
                          f"{base64.b64encode(data).decode()!r})"
                 for i, (rel, data) in enumerate(batch)}
        reply = await self._client.run_silent("", 120.0, user_expressions=exprs)
        got = reply.get("user_expressions") or {}
        for i, (rel, _data) in enumerate(batch):
            st = _literal(got.get(f"f{i}"))
            if isinstance(st, list) and len(st) == 2:
                self.known[rel] = (int(st[0]), int(st[1]))

    async def after_cell(self, user_expressions: dict | None) -> None:
        """Pull what the cell changed, from the file list its reply carried."""
        await self.pull(_json((user_expressions or {}).get("__codeact_ws")))

    async def pull(self, state: Any = None) -> None:
        """Bring the kernel's changed files into the host workspace (``state``: the file
        list a cell's reply already carried; None: ask for it)."""
        assert self._client is not None
        if not isinstance(state, dict):
            reply = await self._client.run_silent("", 30.0,
                                                 user_expressions={"s": STATE_EXPR})
            state = _json((reply.get("user_expressions") or {}).get("s"))
            if not isinstance(state, dict):
                return
        now = {str(k): (v[0], v[1]) for k, v in state.items()
               if isinstance(v, (list, tuple)) and len(v) == 2
               and all(type(x) is int for x in v)}  # the kernel's answer: model code can forge it
        root = self.s.workspace
        for rel in set(self.known) - set(now):
            try:
                wsfiles.resolve_inside(root, rel).unlink(missing_ok=True)
            except (OSError, ValueError):
                pass
        changed = [rel for rel, st in now.items()
                   if self.known.get(rel) != st and st[0] <= MAX_FILE_BYTES]
        batch: list[str] = []
        size = 0
        for rel in changed:
            if now[rel][0] > CHUNK_BYTES:
                await self._read_parts(rel, now[rel][0])
                continue
            if size + now[rel][0] > CHUNK_BYTES:
                await self._read(batch)
                batch, size = [], 0
            batch.append(rel)
            size += now[rel][0]
        if batch:
            await self._read(batch)
        self.known = now

    async def _read_parts(self, rel: str, size: int) -> None:
        parts: list[bytes] = []
        for start in range(0, size, CHUNK_BYTES):
            expr = f"__import__('codeact_files').read_part({rel!r}, {start}, {CHUNK_BYTES})"
            reply = await self.client.run_silent("", 120.0, user_expressions={"r": expr})
            part = _literal((reply.get("user_expressions") or {}).get("r"))
            if not isinstance(part, str):
                return  # gone or unreadable meanwhile: the next cell's list says
            parts.append(base64.b64decode(part))
        self._store(rel, b"".join(parts))

    async def _read(self, rels: list[str]) -> None:
        assert self._client is not None
        reply = await self._client.run_silent(
            "", 120.0, user_expressions={"r": f"__import__('codeact_files').read({rels!r})"})
        files = _json((reply.get("user_expressions") or {}).get("r"))
        if not isinstance(files, dict):
            return
        for rel, b64 in files.items():
            try:
                data = base64.b64decode(b64, validate=True)
            except (TypeError, ValueError):  # binascii.Error is a ValueError
                log.warning("session %s: the gateway kernel sent %s garbled", self.s.id, rel)
                continue
            self._store(str(rel), data)

    def _store(self, rel: str, data: bytes) -> None:
        """Write a file that came from the kernel into the host workspace."""
        try:
            wsfiles.write_bytes(self.s.workspace, rel, data, mode=0o644)
        except (OSError, ValueError) as exc:
            log.warning("session %s: could not copy %s from the gateway: %s",
                        self.s.id, rel, exc)

    # -- %pip through the host ----------------------------------------------------------
    def _pip(self, args: list[str]) -> dict[str, Any]:
        """The host installs (policy, size cap, wheels only) into the session's overlay
        and ships the overlay to the kernel as a tar (it unpacks it onto ``sys.path``)."""
        reply = self.s.installer.install(args)
        if reply.get("ok") and reply.get("installed"):
            reply["archive"] = _tar_b64(self.s.installer.site_dir)
        return reply


def _tar_b64(directory: Path) -> str:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        tar.add(str(directory), arcname=".")
    return base64.b64encode(buf.getvalue()).decode()
