"""Tests for codeact.server.routes.openai_api: the OpenAI-compatible agent endpoint.

Everything goes over a real uvicorn on 127.0.0.1 with the real ``openai`` client (and
the project's own ``openai:`` backend), so the wire format is the protocol library's,
not ours; code runs in real sandboxed kernels; the model is scripted.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from test_server_app import ThreadServer, make_app, script_reply

from codeact.llm import LLMError
from codeact.llm.scripted import ScriptedLLM
from codeact.server.routes.openai_api import (
    CONVERSATION_HEADER,
    ChatMessage,
    conversation_id_for,
    split_messages,
)
from codeact.server.store import Store

TOKEN = "openai-test-token-" + "z" * 16


def recall_reply(messages: list[dict[str, Any]]) -> str:
    """``script_reply``, plus ``recall``: list what the model was given before it."""
    last = str(messages[-1]["content"])
    if last.endswith("recall"):
        earlier = [f"{m['role']}={m['content']}" for m in messages[1:-1]]
        return "history: " + " | ".join(earlier) + f" | last={last}"
    return script_reply(messages)


def factory(spec: str) -> ScriptedLLM:
    """``broken`` fails mid-run (no replies); ``unloadable`` cannot be built at all."""
    if spec == "unloadable":
        raise LLMError("no such model file")
    return ScriptedLLM([] if spec == "broken" else recall_reply, chunk_size=3, name=spec)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadServer]:
    app = make_app(tmp_path_factory.mktemp("openai"), token=TOKEN, llm_factory=factory,
                   max_sessions=4, models=["scripted", "other", "broken", "unloadable"])
    with ThreadServer(app) as srv:
        yield srv


@pytest.fixture()
def client(server: ThreadServer) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=f"{server.url}/v1", api_key=TOKEN, max_retries=0,
                       timeout=120) as c:
        yield c


@pytest.fixture()
def api(server: ThreadServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=120,
                      headers={"Authorization": f"Bearer {TOKEN}"}) as c:
        yield c


def user(text: str) -> list[dict[str, Any]]:
    return [{"role": "user", "content": text}]


def stream_text(client: openai.OpenAI, messages: list[dict[str, Any]],
                **kwargs: Any) -> tuple[str, list[Any]]:
    chunks = list(client.chat.completions.create(model="scripted", messages=messages,
                                                 stream=True, **kwargs))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    return text, chunks


def timeline(api: httpx.Client, cid: str) -> dict[str, Any]:
    r = api.get(f"/api/conversations/{cid}")
    assert r.status_code == 200, r.text
    return r.json()


# --- models ------------------------------------------------------------------------------
def test_models_are_the_configured_backends(client: openai.OpenAI) -> None:
    models = client.models.list()
    assert [m.id for m in models.data] == ["scripted", "other", "broken", "unloadable"]
    assert all(m.object == "model" and m.owned_by == "codeact" for m in models.data)
    assert client.models.retrieve("other").id == "other"
    with pytest.raises(openai.NotFoundError) as err:
        client.models.retrieve("gpt-nothing")
    assert err.value.code == "model_not_found"


# --- completions -------------------------------------------------------------------------
def test_non_streaming_reply_with_usage(client: openai.OpenAI, api: httpx.Client) -> None:
    raw = client.chat.completions.with_raw_response.create(
        model="scripted", messages=user("hello there"))
    reply = raw.parse()
    assert reply.object == "chat.completion" and reply.id.startswith("chatcmpl-")
    assert reply.model == "scripted"
    choice = reply.choices[0]
    assert choice.message.role == "assistant"
    assert choice.message.content == "You said: hello there"
    assert choice.finish_reason == "stop"
    assert reply.usage is not None and reply.usage.completion_tokens > 0
    assert reply.usage.total_tokens == (reply.usage.prompt_tokens
                                        + reply.usage.completion_tokens)
    # a normal stored conversation: the web app lists and shows it
    cid = raw.headers[CONVERSATION_HEADER]
    listed = api.get("/api/conversations").json()["conversations"]
    assert cid in [c["id"] for c in listed]
    items = timeline(api, cid)["items"]
    assert [(i["role"], i["content"]) for i in items] == [
        ("user", "hello there"), ("assistant", "You said: hello there")]


def test_streaming_code_output_and_answer(client: openai.OpenAI) -> None:
    text, chunks = stream_text(client, user("run: print(6 * 7)"),
                               stream_options={"include_usage": True})
    assert text == ("Running it.\n\n```python\nprint(6 * 7)\n```\n\n```text\n42\n```\n\n"
                    "Done.\n\nResult: **42**")
    assert all(c.object == "chat.completion.chunk" for c in chunks)
    assert len({c.id for c in chunks}) == 1
    assert chunks[0].choices[0].delta.role == "assistant"
    assert len([c for c in chunks if c.choices and c.choices[0].delta.content]) >= 3
    finals = [c.choices[0].finish_reason for c in chunks if c.choices]
    assert finals[-1] == "stop" and set(finals[:-1]) == {None}
    usage = chunks[-1].usage
    assert chunks[-1].choices == [] and usage is not None and usage.completion_tokens > 0


def test_the_wire_is_sse_ending_with_done(api: httpx.Client) -> None:
    body = {"model": "scripted", "messages": user("hi"), "stream": True}
    with api.stream("POST", "/v1/chat/completions", json=body) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        lines = [line for line in r.iter_lines() if line]
    assert all(line.startswith("data: ") for line in lines)
    assert lines[-1] == "data: [DONE]"
    first = json.loads(lines[0][6:])
    assert first["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert "usage" not in first  # only with stream_options.include_usage


def test_a_conversation_header_keeps_the_kernel(client: openai.OpenAI,
                                                api: httpx.Client) -> None:
    headers = {CONVERSATION_HEADER: "notebook-1"}
    first = client.chat.completions.create(model="scripted", messages=user("run: x = 5"),
                                           extra_headers=headers)
    assert first.choices[0].message.content.startswith("Running it.")
    # the server keeps the history: earlier messages of the request are not used again
    again = [{"role": "user", "content": "not used"},
             {"role": "assistant", "content": "not used either"},
             {"role": "user", "content": "run: print(x * 2)"}]
    text, _ = stream_text(client, again, extra_headers=headers)
    assert "```text\n10\n```" in text
    cid = conversation_id_for("notebook-1")
    items = timeline(api, cid)["items"]
    users = [i["content"] for i in items if i.get("role") == "user"]
    assert users == ["run: x = 5", "run: print(x * 2)"]


def test_the_user_field_names_a_conversation_too(client: openai.OpenAI) -> None:
    client.chat.completions.create(model="scripted", messages=user("run: y = 'kept'"),
                                   user="alice")
    reply = client.chat.completions.create(model="scripted", messages=user("run: print(y)"),
                                           user="alice")
    assert "```text\nkept\n```" in (reply.choices[0].message.content or "")


def test_a_new_conversation_gets_the_earlier_messages(client: openai.OpenAI,
                                                      api: httpx.Client) -> None:
    messages = [{"role": "system", "content": "be terse"},
                {"role": "user", "content": "my name is Ada"},
                {"role": "assistant", "content": "Hello Ada"},
                {"role": "user", "content": [{"type": "text", "text": "recall"}]}]
    raw = client.chat.completions.with_raw_response.create(
        model="scripted", messages=messages, extra_headers={CONVERSATION_HEADER: "ada"})
    assert raw.parse().choices[0].message.content == (
        "history: user=be terse\n\nmy name is Ada | assistant=Hello Ada | last=recall")
    items = timeline(api, raw.headers[CONVERSATION_HEADER])["items"]
    assert [(i["role"], i["kind"]) for i in items] == [
        ("user", "text"), ("assistant", "answer"), ("user", "text"), ("assistant", "answer")]
    # known now: the same request again does not add the earlier messages twice
    reply = client.chat.completions.create(model="scripted", messages=messages,
                                           extra_headers={CONVERSATION_HEADER: "ada"})
    assert (reply.choices[0].message.content or "").endswith("| user=recall | assistant="
                                                             "history: user=be terse\n\nmy "
                                                             "name is Ada | assistant=Hello "
                                                             "Ada | last=recall | last=recall")
    users = [i["content"] for i in timeline(api, raw.headers[CONVERSATION_HEADER])["items"]
             if i["role"] == "user"]
    assert users == ["be terse\n\nmy name is Ada", "recall", "recall"]


def test_concurrent_requests_for_a_new_conversation_seed_it_once(
        server: ThreadServer, api: httpx.Client) -> None:
    messages = [{"role": "user", "content": "earlier"},
                {"role": "assistant", "content": "noted"},
                {"role": "user", "content": "recall"}]

    async def burst() -> list[int]:
        async with openai.AsyncOpenAI(base_url=f"{server.url}/v1", api_key=TOKEN,
                                      max_retries=0, timeout=120) as c:
            async def one() -> int:
                try:
                    await c.chat.completions.create(
                        model="scripted", messages=messages,
                        extra_headers={CONVERSATION_HEADER: "racy"})
                    return 200
                except openai.RateLimitError:
                    return 429
            return await asyncio.gather(*(one() for _ in range(4)))

    statuses = asyncio.run(burst())
    assert 200 in statuses and set(statuses) <= {200, 429}
    items = timeline(api, conversation_id_for("racy"))["items"]
    assert [i["content"] for i in items if i["role"] == "user"].count("earlier") == 1
    assert [i["content"] for i in items if i["role"] == "user"].count("recall") == \
        statuses.count(200)


def test_without_a_key_the_kernel_is_closed_after_the_reply(client: openai.OpenAI,
                                                            api: httpx.Client) -> None:
    raw = client.chat.completions.with_raw_response.create(
        model="scripted", messages=user("run: print('once')"))
    cid = raw.headers[CONVERSATION_HEADER]
    deadline = time.monotonic() + 30
    while timeline(api, cid)["kernel"]:
        assert time.monotonic() < deadline, "the kernel was not closed"
        time.sleep(0.2)


def test_an_existing_web_conversation_can_be_continued(client: openai.OpenAI,
                                                       api: httpx.Client) -> None:
    cid = api.post("/api/conversations", json={"model": "other"}).json()["id"]
    assert api.post(f"/api/conversations/{cid}/messages",
                    json={"content": "run: z = 3"}).status_code == 202
    deadline = time.monotonic() + 60
    while timeline(api, cid)["running"]:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    reply = client.chat.completions.create(model="scripted", messages=user("run: print(z)"),
                                           extra_headers={CONVERSATION_HEADER: cid})
    assert "```text\n3\n```" in (reply.choices[0].message.content or "")
    assert timeline(api, cid)["conversation"]["model"] == "scripted"  # switched backend


def test_a_deleted_conversation_is_a_404(client: openai.OpenAI, api: httpx.Client) -> None:
    headers = {CONVERSATION_HEADER: "deleted-later"}
    client.chat.completions.create(model="scripted", messages=user("run: w = 1"),
                                   extra_headers=headers)
    assert api.delete(f"/api/conversations/{conversation_id_for('deleted-later')}"
                      ).status_code == 204
    with pytest.raises(openai.NotFoundError) as nf:
        client.chat.completions.create(model="scripted", messages=user("run: print(w)"),
                                       extra_headers=headers)
    assert nf.value.code == "conversation_not_found" and "deleted" in nf.value.message


def test_a_busy_conversation_is_a_429(client: openai.OpenAI, api: httpx.Client) -> None:
    cid = api.post("/api/conversations", json={}).json()["id"]
    assert api.post(f"/api/conversations/{cid}/messages",
                    json={"content": "sleep"}).status_code == 202
    try:
        with pytest.raises(openai.RateLimitError) as err:
            client.chat.completions.create(model="scripted", messages=user("hi"),
                                           extra_headers={CONVERSATION_HEADER: cid})
        assert err.value.code == "conversation_busy"
        assert err.value.response.headers["retry-after"] == "5"
    finally:
        api.post(f"/api/conversations/{cid}/stop")


def test_a_client_that_goes_away_stops_the_run(server: ThreadServer,
                                               api: httpx.Client) -> None:
    body = {"model": "scripted", "messages": user("sleep"), "stream": True}
    headers = {CONVERSATION_HEADER: "leaver"}
    with api.stream("POST", "/v1/chat/completions", json=body, headers=headers) as r:
        for line in r.iter_lines():
            if "tick 1" in line:
                break
    cid = conversation_id_for("leaver")
    deadline = time.monotonic() + 60
    while timeline(api, cid)["running"]:
        assert time.monotonic() < deadline, "the run went on without its client"
        time.sleep(0.2)
    assert any(i.get("content") == "Stopped." for i in timeline(api, cid)["items"])


# --- errors ------------------------------------------------------------------------------
def test_errors_have_openai_shape(client: openai.OpenAI, api: httpx.Client) -> None:
    with pytest.raises(openai.NotFoundError) as nf:
        client.chat.completions.create(model="gpt-4o", messages=user("hi"))
    assert nf.value.code == "model_not_found" and "gpt-4o" in nf.value.message
    with pytest.raises(openai.BadRequestError) as bad:
        client.chat.completions.create(model="scripted", messages=[
            {"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}])
    assert "last message must be a user message" in bad.value.message
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model="scripted", messages=[])
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model="scripted", messages=user("hi"), n=2)
    for body in (b"{not json", b'{"model": "scripted"}', b'{"model": 3, "messages": []}'):
        r = api.post("/v1/chat/completions", content=body,
                     headers={"content-type": "application/json"})
        assert r.status_code == 400, r.text
        error = r.json()["error"]
        assert set(error) == {"message", "type", "param", "code"}
        assert error["type"] == "invalid_request_error"


def test_model_failures(client: openai.OpenAI, api: httpx.Client) -> None:
    # a backend that fails during the run: the run's error is part of the reply
    reply = client.chat.completions.create(model="broken", messages=user("hi"))
    content = reply.choices[0].message.content or ""
    assert content.startswith("**Error:**") and "ran out of replies" in content
    assert reply.choices[0].finish_reason == "stop"
    # one that cannot even be built: a 502, and no empty conversation left behind
    before = len(api.get("/api/conversations").json()["conversations"])
    with pytest.raises(openai.APIStatusError) as err:
        client.chat.completions.create(model="unloadable", messages=user("hi"))
    assert err.value.status_code == 502 and err.value.code == "model_unavailable"
    assert "no such model file" in err.value.message
    assert len(api.get("/api/conversations").json()["conversations"]) == before


def test_the_token_is_required_in_openai_shape(server: ThreadServer) -> None:
    with openai.OpenAI(base_url=f"{server.url}/v1", api_key="wrong", max_retries=0) as c:
        with pytest.raises(openai.AuthenticationError) as err:
            c.models.list()
    assert err.value.code == "invalid_api_key"
    r = httpx.post(f"{server.url}/v1/chat/completions", json={})
    assert r.status_code == 401 and r.json()["error"]["type"] == "authentication_error"
    r = httpx.get(f"{server.url}/api/models")  # the rest of the API keeps its shape
    assert r.status_code == 401 and "detail" in r.json()


# --- the project's own openai: backend ---------------------------------------------------
def test_the_openai_backend_talks_to_it(server: ThreadServer) -> None:
    from codeact.llm import make_llm

    llm = make_llm("openai:scripted", base_url=f"{server.url}/v1", api_key=TOKEN)
    messages = [{"role": "system", "content": "be brief"},
                {"role": "user", "content": "hello"}]
    done = llm.complete(messages, max_tokens=512)
    assert done.text == "You said: be brief\n\nhello"
    pieces = [p for p in llm.stream(user("run: print(2 ** 10)"), max_tokens=512)
              if isinstance(p, str)]
    assert len(pieces) > 1 and "```text\n1024\n```" in "".join(pieces)


# --- a kernel cap: busy is a 503 ---------------------------------------------------------
def test_no_free_kernel_is_a_503(tmp_path: Path) -> None:
    app = make_app(tmp_path, llm_factory=factory, max_sessions=1, pool_size=0)
    with ThreadServer(app) as srv, \
            openai.OpenAI(base_url=f"{srv.url}/v1", api_key="x", max_retries=0) as c:
        started, release = threading.Event(), threading.Event()

        def hold() -> None:  # a long cell keeps the only kernel busy
            # keep reading until released: a client that goes away stops its run, which
            # frees the kernel (on a loaded machine, before the second request below)
            for chunk in c.chat.completions.create(model="scripted", messages=user("sleep"),
                                                   stream=True, user="holder"):
                if chunk.choices and "tick" in (chunk.choices[0].delta.content or ""):
                    started.set()
                if release.is_set():
                    break

        t = threading.Thread(target=hold, daemon=True)
        t.start()
        assert started.wait(60)
        with pytest.raises(openai.InternalServerError) as err:
            c.chat.completions.create(model="scripted", messages=user("hi"), user="other")
        assert err.value.status_code == 503 and err.value.code == "kernels_busy"
        before = httpx.get(f"{srv.url}/api/conversations").json()["conversations"]
        with pytest.raises(openai.InternalServerError):  # no key: nothing is left behind
            c.chat.completions.create(model="scripted", messages=user("hi"))
        after = httpx.get(f"{srv.url}/api/conversations").json()["conversations"]
        assert len(after) == len(before)
        workspaces = {p.name for p in (tmp_path / "data" / "workspaces").iterdir()}
        assert workspaces <= {conv["id"] for conv in after}
        release.set()
        t.join(30)


# --- helpers -----------------------------------------------------------------------------
def test_split_messages_merges_roles() -> None:
    msgs = [ChatMessage(role=r, content=c) for r, c in (
        ("system", "sys"), ("developer", "dev"), ("assistant", "a"), ("tool", "t"),
        ("user", [{"type": "image_url", "image_url": {"url": "x"}}]), ("user", "last"))]
    task, history = split_messages(msgs)
    assert history == [{"role": "user", "content": "sys\n\ndev"},
                       {"role": "assistant", "content": "a"}]
    assert task == "t\n\nlast"
    with pytest.raises(ValueError, match="no text"):
        split_messages([ChatMessage(role="user", content="  ")])


def test_conversation_ids_from_keys() -> None:
    assert conversation_id_for("a" * 32) == "a" * 32  # an id is taken as is
    key_id = conversation_id_for("my-notebook")
    assert len(key_id) == 32 and key_id == conversation_id_for("my-notebook")
    assert key_id != conversation_id_for("my-notebook2")


def test_store_ensure_conversation(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    conv, created = store.ensure_conversation("b" * 32, "t", "m")
    assert created and conv["id"] == "b" * 32 and conv["model"] == "m"
    again, created = store.ensure_conversation("b" * 32, "other", "x")
    assert not created and again["title"] == "t"
    store.close()
