"""An OpenAI-compatible face of the agent: ``POST /v1/chat/completions``, ``GET /v1/models``.

Any OpenAI client can talk to ``codeact serve``: the "model" is the agent running on one
of the server's configured backends, and the reply is the whole run (thoughts, code,
outputs, answer) as Markdown in the assistant message, streamed as it happens
(``openai_render.py``). Nothing runs beside the web app's machinery: a request is a
message in a normal stored conversation (it shows in the web app), run by the hub with
its kernels and idle/cap rules, behind the same token and Host/Origin checks.

Which conversation: the ``X-Codeact-Conversation`` header, else the ``user`` field. A
known conversation keeps its own history on the server, so only the last user message
is new input; for a new one the request's earlier messages become the agent's history.
A key that is an existing conversation's id (32 hex digits, as in the web app's URL)
continues that conversation; any other key names the conversation ``sha256(key)``.
Without a key each request is a conversation of its own whose kernel is closed after
the reply. Errors have OpenAI's shape: ``{"error": {"message", "type", "param", "code"}}``.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import shutil
import time
from collections.abc import AsyncIterator
from typing import Any
from weakref import WeakKeyDictionary

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from codeact.server.errors import Busy, Conflict, NotFound
from codeact.server.hub import ChatHub
from codeact.server.openai_render import MarkdownRenderer, finish_reason
from codeact.server.routes.deps import AppState, ServerState
from codeact.server.routes.models import ErrorDetail, event_stream
from codeact.server.routes.openai_models import (
    ChatCompletion,
    ModelCard,
    ModelList,
    OpenAIError,
    openai_errors,
)
from codeact.server.runs import Run
from codeact.server.store import Store
from codeact.server.store.records import ConversationRecord

__all__ = ["CONVERSATION_HEADER", "ChatRequest", "conversation_id_for", "openai_error",
           "router", "split_messages"]

CONVERSATION_HEADER = "X-Codeact-Conversation"
MAX_KEY_CHARS = 200
_HEX_ID = re.compile(r"^[0-9a-f]{32}$")

router = APIRouter(tags=["openai"])
_background: set[asyncio.Task[None]] = set()  # strong references to fire-and-forget tasks
# per hub, the conversations whose request is being set up (between the busy check and
# the run's start, a second request for the same conversation is refused, not raced)
_starting: WeakKeyDictionary[ChatHub, set[str]] = WeakKeyDictionary()


class ChatMessage(BaseModel):
    """One message of the request; extra fields (name, tool_calls...) are ignored."""

    model_config = ConfigDict(extra="allow")
    role: str = Field(..., min_length=1, max_length=32)
    content: str | list[dict[str, Any]] | None = None


class ChatRequest(BaseModel):
    """The fields of a chat completion request that codeact uses; the rest are accepted
    and ignored (sampling settings and stops belong to the agent's backend)."""

    model_config = ConfigDict(extra="allow")
    model: str = Field(..., min_length=1, max_length=200)
    messages: list[ChatMessage] = Field(..., min_length=1)
    stream: bool | None = False
    stream_options: dict[str, Any] | None = None
    user: str | None = Field(None, max_length=MAX_KEY_CHARS)
    n: int | None = None


def openai_error(status: int, message: str, *, type_: str = "invalid_request_error",
                 code: str | None = None, param: str | None = None,
                 headers: dict[str, str] | None = None) -> JSONResponse:
    """An error response in OpenAI's shape, which its clients turn into exceptions."""
    return JSONResponse(status_code=status, headers=headers, content={
        "error": {"message": message, "type": type_, "param": param, "code": code}})


def _content_text(content: str | list[dict[str, Any]] | None) -> str:
    """The text of a message (content parts: the text parts, joined)."""
    if content is None or isinstance(content, str):
        return content or ""
    return "\n".join(str(p.get("text", "")) for p in content if p.get("type") == "text")


def split_messages(messages: list[ChatMessage]) -> tuple[str, list[dict[str, str]]]:
    """``(task, history)``: the last user message, and the earlier ones as agent history.

    The agent has its own system prompt, so the client's system (or developer) messages
    become user text; roles are merged so they alternate, and user text right before
    the last message is put in front of it. Raises ValueError for an unusable request.
    """
    last = messages[-1]
    if last.role != "user":
        raise ValueError("messages: the last message must be a user message")
    task = _content_text(last.content)
    if not task.strip():
        raise ValueError("messages: the last user message has no text (only text "
                         "content is supported)")
    history: list[dict[str, str]] = []
    for m in messages[:-1]:
        text = _content_text(m.content)
        if not text.strip():
            continue
        role = "assistant" if m.role == "assistant" else "user"
        if history and history[-1]["role"] == role:
            history[-1]["content"] += "\n\n" + text
        else:
            history.append({"role": role, "content": text})
    if history and history[-1]["role"] == "user":
        task = history.pop()["content"] + "\n\n" + task
    return task, history


def conversation_id_for(key: str) -> str:
    """The stored conversation a client's key names (an existing id is taken as is)."""
    if _HEX_ID.match(key):
        return key
    return hashlib.sha256(b"codeact-openai\0" + key.encode()).hexdigest()[:32]


def _open_conversation(store: Store, key: str | None, model: str
                       ) -> tuple[ConversationRecord, bool]:
    """``(conversation, fresh)``: fresh when it has no history the server keeps."""
    if key is None:
        return store.create_conversation("New chat", model), True
    conv, created = store.ensure_conversation(conversation_id_for(key), "New chat", model)
    return conv, created or not store.agent_messages(conv["id"])


def _seed_history(store: Store, cid: str, history: list[dict[str, str]]) -> None:
    """Show the request's earlier messages in the timeline and give them to the agent."""
    for m in history:
        role, kind = ("assistant", "answer") if m["role"] == "assistant" else ("user", "text")
        store.add_message(cid, role, kind, m["content"])
    store.save_agent_messages(cid, history)


async def _close_when_done(hub: ChatHub, run: Run) -> None:
    """Close the kernel of a conversation no client can come back to."""
    while not run.done:
        await asyncio.sleep(0.1)
    if hub.runs.get(run.conversation_id) is run:
        await hub.close_conversation(run.conversation_id)


def _spawn(coro: Any) -> None:
    task = asyncio.get_running_loop().create_task(coro)
    _background.add(task)
    task.add_done_callback(_background.discard)


def _usage(run: Run) -> dict[str, int]:
    """Token counts of the whole run (every turn), as the backend reported them."""
    traj = run.recorder.trajectory
    prompt = int(traj.prompt_tokens) if traj is not None else 0
    completion = int(traj.completion_tokens) if traj is not None else 0
    return {"prompt_tokens": prompt, "completion_tokens": completion,
            "total_tokens": prompt + completion}


def _busy_conversation(cid: str) -> JSONResponse:
    return openai_error(429, "a reply is still being generated in this conversation",
                        type_="rate_limit_error", code="conversation_busy",
                        headers={"Retry-After": "5", CONVERSATION_HEADER: cid})


async def _start(state: ServerState, conv: ConversationRecord, fresh: bool, model: str,
                 task: str, history: list[dict[str, str]]) -> Run | JSONResponse:
    """Switch the backend if asked, give a new conversation its history, start the run;
    an error response when it cannot start."""
    hub, store, cid = state.hub, state.store, conv["id"]
    if conv["model"] != model:
        await asyncio.to_thread(store.update_conversation, cid, model=model)
    if fresh and history:
        await asyncio.to_thread(_seed_history, store, cid, history)
    try:
        run, _ = await hub.start_run(cid, task)
    except Conflict:
        return _busy_conversation(cid)
    except Busy:
        return openai_error(503, "busy, try again: every sandboxed kernel is in use",
                            type_="server_error", code="kernels_busy",
                            headers={"Retry-After": "5", CONVERSATION_HEADER: cid})
    except NotFound:  # deleted meanwhile
        return openai_error(404, "the conversation was deleted", code="not_found")
    except Exception as exc:
        from codeact.llm import LLMError

        if isinstance(exc, LLMError):
            return openai_error(502, f"the model is not available: {exc}",
                                type_="server_error", code="model_unavailable")
        raise
    return run


@router.get("/v1/models", response_model=ModelList)
async def list_models(state: AppState) -> dict[str, Any]:
    return {"object": "list", "data": [_model_card(m) for m in state.models]}


@router.get("/v1/models/{model_id:path}", response_model=ModelCard,
            responses={404: {"model": OpenAIError | ErrorDetail,
                             "description": "no such model on this server (an id no URL "
                                            "path can hold gets the app's plain 404)"}})
async def get_model(state: AppState, model_id: str) -> dict[str, Any] | JSONResponse:
    if model_id not in state.models:
        return openai_error(404, f"The model {model_id!r} does not exist on this server",
                            code="model_not_found", param="model")
    return _model_card(model_id)


def _model_card(model: str) -> dict[str, Any]:
    return {"id": model, "object": "model", "created": 0, "owned_by": "codeact"}


@router.post("/v1/chat/completions", response_model=ChatCompletion,
             responses={**event_stream("the completion, or with `\"stream\": true` "
                                       "`chat.completion.chunk` events, `data: [DONE]` last"),
                        **openai_errors({400: "an invalid request", 404: "no such model",
                                   429: "a reply is still being generated in this "
                                        "conversation",
                                   502: "the model is not available",
                                   503: "busy, try again (kernel cap reached)"})},
             description="Run the agent on the last user message; the reply is the run "
                         "as Markdown (streamed as server-sent events with "
                         "`\"stream\": true`). Conversation: the `X-Codeact-Conversation` "
                         "header or the `user` field.")
async def chat_completions(state: AppState, request: Request) -> Response:
    try:
        req = ChatRequest.model_validate(json.loads(await request.body()))
        if req.n not in (None, 1):
            raise ValueError("n: only one choice (n=1) is supported")
        task, history = split_messages(req.messages)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(x) for x in first.get("loc", ())) or "request"
        return openai_error(400, f"{loc}: {first.get('msg', 'invalid')}",
                            param=loc, code="invalid_request")
    except ValueError as exc:  # bad JSON too
        return openai_error(400, f"invalid request: {exc}", code="invalid_request")
    if req.model not in state.models:
        return openai_error(404, f"The model {req.model!r} does not exist on this server "
                                 f"(models: {', '.join(state.models)})",
                            code="model_not_found", param="model")
    key = request.headers.get(CONVERSATION_HEADER) or req.user or None
    if key is not None and len(key) > MAX_KEY_CHARS:
        return openai_error(400, f"{CONVERSATION_HEADER}: at most {MAX_KEY_CHARS} "
                                 f"characters", code="invalid_request")
    hub, store = state.hub, state.store
    try:
        conv, fresh = await asyncio.to_thread(_open_conversation, store, key, req.model)
    except NotFound:  # the key names a conversation deleted in the web app (undo window)
        return openai_error(404, f"the conversation {key!r} was deleted: restore it in the "
                                 f"web app, or send another {CONVERSATION_HEADER}",
                            code="conversation_not_found", param=CONVERSATION_HEADER)
    cid = conv["id"]
    starting = _starting.setdefault(hub, set())
    if cid in starting or hub.is_running(cid):
        return _busy_conversation(cid)
    starting.add(cid)  # no await since the check: one request at a time sets it up
    try:
        started = await _start(state, conv, fresh, req.model, task, history)
    finally:
        starting.discard(cid)
    if not isinstance(started, Run):
        if key is None:  # nobody can come back to it: leave no empty conversation
            await asyncio.to_thread(store.delete_conversation, cid)
            await asyncio.to_thread(shutil.rmtree, state.data_dir / "workspaces" / cid, True)
        return started
    run = started
    if key is None:
        _spawn(_close_when_done(hub, run))
    base = {"id": f"chatcmpl-{run.id}", "created": int(time.time()), "model": req.model,
            "system_fingerprint": None}
    headers = {CONVERSATION_HEADER: cid}
    if req.stream:
        include_usage = bool((req.stream_options or {}).get("include_usage"))
        return StreamingResponse(_stream(run, base, include_usage),
                                 media_type="text/event-stream",
                                 headers={**headers, "Cache-Control": "no-cache",
                                          "X-Accel-Buffering": "no"})
    renderer = MarkdownRenderer()
    async for ev in run.follow(0):
        if ev is not None:
            renderer.feed(ev)
    return JSONResponse(headers=headers, content={
        **base, "object": "chat.completion",
        "choices": [{"index": 0, "logprobs": None,
                     "finish_reason": finish_reason(renderer.stop_reason),
                     "message": {"role": "assistant", "content": renderer.text,
                                 "refusal": None}}],
        "usage": _usage(run)})


async def _stream(run: Run, base: dict[str, Any], include_usage: bool
                  ) -> AsyncIterator[bytes]:
    """``chat.completion.chunk`` events, ``data: [DONE]`` last; a client that goes away
    stops the run (as the web app's Stop button would)."""

    def chunk(delta: dict[str, Any], finish: str | None = None,
              usage: dict[str, int] | None = None) -> bytes:
        body: dict[str, Any] = {**base, "object": "chat.completion.chunk",
                                "choices": [] if usage is not None else [
                                    {"index": 0, "delta": delta, "logprobs": None,
                                     "finish_reason": finish}]}
        if include_usage:
            body["usage"] = usage
        data = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
        return f"data: {data}\n\n".encode()

    renderer = MarkdownRenderer()
    finished = False
    try:
        yield chunk({"role": "assistant", "content": ""})
        async for ev in run.follow(0):
            if ev is None:
                yield b": keep-alive\n\n"
                continue
            text = renderer.feed(ev)
            if text:
                yield chunk({"content": text})
        finished = True
        yield chunk({}, finish_reason(renderer.stop_reason))
        if include_usage:
            yield chunk({}, usage=_usage(run))
        yield b"data: [DONE]\n\n"
    finally:
        if not finished and not run.done:
            asyncio.get_running_loop().run_in_executor(None, run.interrupt)
