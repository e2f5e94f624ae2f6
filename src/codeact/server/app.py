"""The FastAPI app: JSON API (with OpenAPI at /docs), SSE event streams and the static UI.

``create_app(...)`` builds everything from explicit arguments so tests and the benchmark
can run it under uvicorn with a scripted model; ``codeact serve`` (see ``cli.py``) wires
the defaults.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qs, urlsplit

from fastapi import FastAPI, File, Form, HTTPException, Query, Request, UploadFile
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from fastapi.responses import (
    FileResponse,
    JSONResponse,
    Response,
    StreamingResponse,
)
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field

from codeact.server import workspace as ws
from codeact.server.hub import Busy, ChatHub, Conflict
from codeact.server.llms import LLMCache
from codeact.server.store import NotFound, Store, default_data_dir

STATIC_DIR = Path(__file__).parent / "static"
MAX_MESSAGE_CHARS = 100_000
DEFAULT_MAX_UPLOAD = 50 * 1024 * 1024
MAX_JSON_BODY = 1024 * 1024
TOKEN_COOKIE = "codeact_token"
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}
CSP = ("default-src 'self'; img-src 'self' data: blob:; style-src 'self'; "
       "script-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
       "frame-ancestors 'none'; form-action 'self'")

ConversationId = Annotated[str, PathParam(pattern=r"^[0-9a-f]{32}$",
                                          description="conversation id (32 hex digits)")]
ShareToken = Annotated[str, PathParam(pattern=r"^[A-Za-z0-9_-]{16,64}$",
                                      description="the share token of a conversation")]
# database ids are signed 64-bit: a bigger number is a 422, not an overflow (found by fuzzing)
MAX_DB_INT = 2**63 - 1
ImageId = Annotated[int, PathParam(ge=0, le=MAX_DB_INT, description="image id")]


class NewConversation(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str | None = Field(None, min_length=1, max_length=200)
    model: str | None = Field(None, min_length=1, max_length=200)


class ConversationPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str | None = Field(None, min_length=1, max_length=200)
    model: str | None = Field(None, min_length=1, max_length=200)


class NewMessage(BaseModel):
    model_config = ConfigDict(extra="forbid")
    content: str = Field(..., min_length=1, max_length=MAX_MESSAGE_CHARS)


def is_local_host(host: str) -> bool:
    return host in LOCAL_HOSTS or host.startswith("127.")


class Guard:
    """ASGI middleware: Host check (DNS rebinding), Origin check (CSRF), access token."""

    PUBLIC_PREFIXES = ("/r/", "/api/share/", "/static/", "/api/health", "/favicon.ico")

    def __init__(self, app: Any, *, token: str | None, check_host: bool,
                 max_upload_bytes: int = DEFAULT_MAX_UPLOAD) -> None:
        self.app = app
        self.token = token
        self.check_host = check_host
        self.max_upload_bytes = max_upload_bytes

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1")
                   for k, v in scope.get("headers", [])}
        host_header = headers.get("host", "")
        host = urlsplit(f"//{host_header}").hostname or ""
        if self.check_host and host_header and not is_local_host(host):
            return await _send_json(send, 400, "this server only answers to localhost "
                                               "(the Host header names another host)")
        method = scope["method"]
        path: str = scope["path"]
        origin = headers.get("origin")
        if method not in ("GET", "HEAD", "OPTIONS") and origin and origin != "null":
            if urlsplit(origin).netloc != host_header:
                return await _send_json(send, 403, "cross-origin request refused")
        elif method not in ("GET", "HEAD", "OPTIONS") and origin == "null":
            return await _send_json(send, 403, "cross-origin request refused")
        if self.token and not path.startswith(self.PUBLIC_PREFIXES):
            given = _token_from(headers, scope)
            if given is None or not secrets.compare_digest(given.encode(), self.token.encode()):
                if path == "/" and method == "GET":
                    query = parse_qs(scope.get("query_string", b"").decode())
                    if secrets.compare_digest(query.get("token", [""])[0].encode(),
                                              self.token.encode()):
                        return await _send_login_redirect(send, self.token)
                    return await _send_html(send, 401, _LOGIN_PAGE)
                return await _send_json(send, 401, "missing or wrong access token: send "
                                                   "'Authorization: Bearer TOKEN'")
        limit = (self.max_upload_bytes + 65536 if path.endswith("/files")
                 else MAX_JSON_BODY)
        length = headers.get("content-length", "")
        if length.isdigit() and int(length) > limit:
            return await _send_json(send, 413, f"the request body is larger than the limit "
                                               f"of {limit} bytes")
        await self.app(scope, _limited(receive, limit), send)


def _limited(receive: Callable, limit: int) -> Callable:
    """Stop reading a body (chunked uploads too) once it passes ``limit`` bytes."""
    seen = 0

    async def wrapped() -> dict:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                return {"type": "http.disconnect"}
        return message

    return wrapped


def _token_from(headers: dict[str, str], scope: dict) -> str | None:
    auth = headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    for part in headers.get("cookie", "").split(";"):
        name, _, value = part.strip().partition("=")
        if name == TOKEN_COOKIE:
            return value
    return None


async def _send_json(send: Callable, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


async def _send_html(send: Callable, status: int, html: str) -> None:
    body = html.encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/html; charset=utf-8"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


async def _send_login_redirect(send: Callable, token: str) -> None:
    cookie = f"{TOKEN_COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/"
    await send({"type": "http.response.start", "status": 303,
                "headers": [(b"location", b"/"), (b"set-cookie", cookie.encode()),
                            (b"content-length", b"0")]})
    await send({"type": "http.response.body", "body": b""})


_LOGIN_PAGE = """<!doctype html><meta charset="utf-8"><title>codeact: access token needed</title>
<body style="font-family:sans-serif;max-width:40em;margin:4em auto">
<h1>Access token needed</h1><p>This server requires its access token. Open the link that
<code>codeact serve</code> printed when it started (it ends in <code>/?token=...</code>).</p>
</body>"""


def create_app(
    *,
    db: str | Path | None = None,
    store: Store | None = None,
    data_dir: str | Path | None = None,
    models: list[str] | None = None,
    default_model: str | None = None,
    llm_factory: Callable[[str], Any] | None = None,
    kernels: Any = None,
    token: str | None = None,
    check_host: bool = True,
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD,
    idle_timeout: float = 600.0,
    max_sessions: int = 8,
    pool_size: int = 1,
    sandbox: Any = "bwrap",
    agent_options: dict[str, Any] | None = None,
    agent_factory: Callable[..., Any] | None = None,
) -> FastAPI:
    """Build the chat app. ``token``: require it on every private route (None: open).

    ``check_host``: answer only to localhost Host headers (use when bound to loopback).
    ``kernels``: a kernel provider (default: the runtime's SessionManager with
    ``max_sessions``, ``pool_size`` and ``sandbox``).
    """
    from codeact.llm import DEFAULT_MODEL

    data_path = Path(data_dir) if data_dir is not None else default_data_dir()
    data_path.mkdir(parents=True, exist_ok=True)
    the_store = store if store is not None else Store(
        db if db is not None else f"sqlite:///{data_path / 'server.db'}")
    default = default_model or (models[0] if models else DEFAULT_MODEL)
    model_list = list(dict.fromkeys([default, *(models or [])]))
    if kernels is None:
        from codeact.server.hub import KernelProvider

        kernels = KernelProvider(max_sessions=max_sessions, pool_size=pool_size,
                                 sandbox=sandbox)
    hub = ChatHub(the_store, data_path, llm_factory=llm_factory or LLMCache(),
                  kernels=kernels, idle_timeout=idle_timeout, agent_options=agent_options,
                  agent_factory=agent_factory)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await hub.start()
        try:
            yield
        finally:
            await hub.close()
            if store is None:
                the_store.close()

    app = FastAPI(title="codeact chat", version="0.1.0", lifespan=lifespan,
                  description="Conversations with a code-executing agent: JSON API, "
                              "server-sent events, a static web UI.")
    app.state.hub = hub
    app.state.store = the_store
    app.state.models = model_list
    app.state.default_model = default

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        parts = []
        for e in errors[:5]:
            loc = ".".join(str(x) for x in e.get("loc", ()) if x not in ("body", "path",
                                                                          "query"))
            parts.append(f"{loc or 'request'}: {e.get('msg', 'invalid')}")
        return JSONResponse(status_code=422, content={
            "detail": "; ".join(parts) or "invalid request",
            "errors": json.loads(json.dumps(errors, default=str))})

    @app.middleware("http")
    async def _headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]
                       ) -> Response:
        response = await call_next(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        if not request.url.path.startswith(("/docs", "/redoc")):
            response.headers.setdefault("Content-Security-Policy", CSP)
            response.headers.setdefault("X-Frame-Options", "DENY")
        return response

    def conversation_or_404(cid: str) -> dict[str, Any]:
        try:
            return the_store.get_conversation(cid)
        except NotFound:
            raise HTTPException(404, "no such conversation") from None

    def check_model(model: str) -> None:
        if model not in model_list:
            raise HTTPException(422, f"model: {model!r} is not one of the configured models "
                                     f"({', '.join(model_list)})")

    # pages -------------------------------------------------------------------------------
    @app.get("/", include_in_schema=False)
    async def index() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html", media_type="text/html")

    @app.get("/r/{share_token}", include_in_schema=False)
    async def share_page(share_token: ShareToken) -> FileResponse:
        try:
            await asyncio.to_thread(the_store.conversation_by_share_token, share_token)
        except NotFound:
            raise HTTPException(404, "no such shared conversation") from None
        return FileResponse(STATIC_DIR / "share.html", media_type="text/html")

    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon() -> Response:
        return FileResponse(STATIC_DIR / "favicon.svg", media_type="image/svg+xml")

    # API -----------------------------------------------------------------------------------
    @app.get("/api/health", tags=["meta"])
    async def health() -> dict[str, Any]:
        return {"ok": True}

    @app.get("/api/models", tags=["meta"])
    async def list_models() -> dict[str, Any]:
        return {"models": model_list, "default": default}

    @app.get("/api/conversations", tags=["conversations"])
    async def list_conversations() -> dict[str, Any]:
        rows = await asyncio.to_thread(the_store.list_conversations)
        for r in rows:
            r["running"] = hub.is_running(r["id"])
        return {"conversations": rows}

    @app.post("/api/conversations", status_code=201, tags=["conversations"])
    async def new_conversation(body: NewConversation | None = None) -> dict[str, Any]:
        body = body or NewConversation()
        model = body.model or default
        check_model(model)
        return await asyncio.to_thread(the_store.create_conversation,
                                       body.title or "New chat", model)

    @app.get("/api/conversations/{cid}", tags=["conversations"])
    async def get_conversation(cid: ConversationId) -> dict[str, Any]:
        run = hub.runs.get(cid)
        cursor = len(run.buffer) if run is not None else 0  # read before the snapshot
        conv = await asyncio.to_thread(conversation_or_404, cid)
        items = await asyncio.to_thread(the_store.timeline, cid)
        files = await asyncio.to_thread(the_store.list_files, cid)
        running = run is not None and not run.done
        return {"conversation": conv, "items": items, "files": files, "running": running,
                "run_id": run.id if running else None, "cursor": cursor if running else 0,
                "kernel": cid in hub.live}

    @app.patch("/api/conversations/{cid}", tags=["conversations"])
    async def patch_conversation(cid: ConversationId, body: ConversationPatch
                                 ) -> dict[str, Any]:
        if body.model is not None:
            check_model(body.model)
        try:
            return await asyncio.to_thread(the_store.update_conversation, cid,
                                           title=body.title, model=body.model)
        except NotFound:
            raise HTTPException(404, "no such conversation") from None

    @app.delete("/api/conversations/{cid}", status_code=204, tags=["conversations"])
    async def delete_conversation(cid: ConversationId) -> Response:
        await asyncio.to_thread(conversation_or_404, cid)
        await hub.close_conversation(cid)
        await asyncio.to_thread(the_store.delete_conversation, cid)
        import shutil

        await asyncio.to_thread(shutil.rmtree, data_path / "workspaces" / cid, True)
        return Response(status_code=204)

    @app.post("/api/conversations/{cid}/messages", status_code=202, tags=["runs"],
              responses={409: {"description": "a reply is still being generated"},
                         503: {"description": "busy, try again (kernel cap reached)"}})
    async def post_message(cid: ConversationId, body: NewMessage) -> dict[str, Any]:
        if not body.content.strip():
            raise HTTPException(422, "content: the message is empty")
        await asyncio.to_thread(conversation_or_404, cid)
        try:
            run, items = await hub.start_run(cid, body.content)
        except Conflict as exc:
            raise HTTPException(409, str(exc)) from None
        except Busy:
            raise HTTPException(503, "busy, try again: every sandboxed kernel is in use",
                                headers={"Retry-After": "5"}) from None
        except NotFound:
            raise HTTPException(404, "no such conversation") from None
        except Exception as exc:
            from codeact.llm import LLMError

            if isinstance(exc, LLMError):
                raise HTTPException(502, f"the model is not available: {exc}") from None
            raise
        return {"run_id": run.id, "items": items}

    @app.get("/api/conversations/{cid}/events", tags=["runs"],
             response_class=StreamingResponse,
             description="Server-sent events of the conversation's current (or last) run, "
                         "from index `after`. Each `data:` line is one JSON event.")
    async def events(cid: ConversationId, after: Annotated[int, Query(ge=0, le=MAX_DB_INT)] = 0,
                     run_id: Annotated[str | None, Query(max_length=32)] = None
                     ) -> StreamingResponse:
        await asyncio.to_thread(conversation_or_404, cid)
        run = hub.runs.get(cid)

        async def stream() -> AsyncIterator[bytes]:
            if run is None or (run_id is not None and run.id != run_id):
                yield b'data: {"type": "idle"}\n\n'
                return
            async for ev in run.follow(after):
                if ev is None:
                    yield b": keep-alive\n\n"
                    continue
                data = json.dumps(ev, ensure_ascii=False, separators=(",", ":"))
                yield f"id: {ev['i']}\ndata: {data}\n\n".encode()

        return StreamingResponse(stream(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache",
                                          "X-Accel-Buffering": "no"})

    @app.post("/api/conversations/{cid}/stop", tags=["runs"])
    async def stop(cid: ConversationId) -> dict[str, Any]:
        await asyncio.to_thread(conversation_or_404, cid)
        run = hub.runs.get(cid)
        if run is None or run.done:
            return {"stopping": False}
        await asyncio.to_thread(run.interrupt)
        return {"stopping": True}

    @app.get("/api/conversations/{cid}/files", tags=["files"])
    async def list_files(cid: ConversationId) -> dict[str, Any]:
        await asyncio.to_thread(conversation_or_404, cid)
        if hub.is_running(cid):
            files = await asyncio.to_thread(the_store.list_files, cid)
        else:
            files = await asyncio.to_thread(hub.sync_files, cid)
        return {"files": files}

    @app.post("/api/conversations/{cid}/files", status_code=201, tags=["files"],
              responses={413: {"description": "the file is too large"}})
    async def upload(request: Request, cid: ConversationId,
                     file: Annotated[UploadFile, File(description="the file")],
                     name: Annotated[str | None, Form(max_length=1024)] = None
                     ) -> dict[str, Any]:
        await asyncio.to_thread(conversation_or_404, cid)
        target = name or file.filename or ""
        try:
            rel = ws.safe_relative_name(target)
        except ws.UnsafeName as exc:
            raise HTTPException(400, f"file name {target!r} refused: {exc}") from None
        chunks, size = [], 0
        while chunk := await file.read(1 << 20):
            size += len(chunk)
            if size > max_upload_bytes:
                raise HTTPException(413, f"the file is larger than the limit of "
                                         f"{max_upload_bytes} bytes")
            chunks.append(chunk)
        data = b"".join(chunks)
        try:
            await asyncio.to_thread(ws.write_file, hub.workspace(cid), rel, data)
            live = hub.live.get(cid)
            if live is not None:
                await asyncio.to_thread(live.session.write_file, rel, data)
        except (ws.UnsafeName, ValueError) as exc:
            raise HTTPException(400, f"file name {target!r} refused: {exc}") from None
        except OSError as exc:
            raise HTTPException(400, f"could not store {target!r}: {exc.strerror}") from None
        return await asyncio.to_thread(the_store.upsert_file, cid, rel, len(data), "upload")

    @app.get("/api/conversations/{cid}/files/{name:path}", tags=["files"],
             response_class=FileResponse)
    async def download(cid: ConversationId, name: str) -> FileResponse:
        await asyncio.to_thread(conversation_or_404, cid)
        roots = [p for p in (hub.live_workspace(cid), hub.workspace(cid)) if p is not None]
        for root in roots:
            try:
                path = ws.open_for_download(root, name)
            except ws.UnsafeName as exc:
                raise HTTPException(400, f"file name refused: {exc}") from None
            except FileNotFoundError:
                continue
            return FileResponse(path, media_type="application/octet-stream",
                                filename=Path(name).name,
                                content_disposition_type="attachment")
        raise HTTPException(404, "no such file in the workspace")

    @app.get("/api/conversations/{cid}/images/{image_id}", tags=["files"])
    async def image(cid: ConversationId, image_id: ImageId) -> Response:
        try:
            png = await asyncio.to_thread(the_store.get_image, cid, image_id)
        except NotFound:
            raise HTTPException(404, "no such image") from None
        return Response(png, media_type="image/png",
                        headers={"Cache-Control": "private, max-age=86400"})

    # read-only share links ----------------------------------------------------------------
    @app.get("/api/share/{share_token}", tags=["share"])
    async def shared(share_token: ShareToken) -> dict[str, Any]:
        try:
            conv = await asyncio.to_thread(the_store.conversation_by_share_token, share_token)
        except NotFound:
            raise HTTPException(404, "no such shared conversation") from None
        items = await asyncio.to_thread(the_store.timeline, conv["id"])
        return {"conversation": {"title": conv["title"], "model": conv["model"],
                                 "created_at": conv["created_at"]},
                "items": items, "read_only": True}

    @app.get("/api/share/{share_token}/images/{image_id}", tags=["share"])
    async def shared_image(share_token: ShareToken, image_id: ImageId) -> Response:
        try:
            conv = await asyncio.to_thread(the_store.conversation_by_share_token, share_token)
            png = await asyncio.to_thread(the_store.get_image, conv["id"], image_id)
        except NotFound:
            raise HTTPException(404, "no such image") from None
        return Response(png, media_type="image/png")

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.add_middleware(Guard, token=token, check_host=check_host,
                       max_upload_bytes=max_upload_bytes)
    return app
