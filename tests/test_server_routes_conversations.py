"""API tests for the conversation routes added for the chat app's parity: search,
pin, rename, delete with undo (and the purge after the undo window), over live uvicorn."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest
from test_server_app import Client, ThreadServer, make_app


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadServer]:
    with ThreadServer(make_app(tmp_path_factory.mktemp("conv"), undo_seconds=3600)) as srv:
        yield srv


def listed(client: Client) -> list[dict]:
    return client.http.get("/api/conversations").json()["conversations"]


def test_rename_and_pin(client: Client) -> None:
    a, b = client.new(title="alpha"), client.new(title="beta")
    r = client.http.patch(f"/api/conversations/{a['id']}", json={"pinned": True})
    assert r.status_code == 200 and r.json()["pinned"] is True
    ids = [c["id"] for c in listed(client)]
    assert ids.index(a["id"]) == 0 and ids.index(b["id"]) > 0  # pinned first
    r = client.http.patch(f"/api/conversations/{b['id']}", json={"title": "beta, renamed"})
    assert r.json()["title"] == "beta, renamed"
    client.http.patch(f"/api/conversations/{a['id']}", json={"pinned": False})
    assert client.get(a["id"])["conversation"]["pinned"] is False
    assert client.http.patch(f"/api/conversations/{a['id']}",
                             json={"pinned": "yes please"}).status_code == 422


def test_search_titles_and_messages(client: Client) -> None:
    conv = client.new(title="quarterly report")
    client.chat(conv["id"], "tell me about pelicans")
    hits = client.http.get("/api/search", params={"q": "pelic"}).json()["conversations"]
    assert [h["id"] for h in hits] == [conv["id"]]
    assert "pelicans" in hits[0]["match"]["snippet"]
    hits = client.http.get("/api/search", params={"q": "quarterly"}).json()["conversations"]
    assert hits[0]["id"] == conv["id"] and hits[0]["match"] == "title"
    assert client.http.get("/api/search", params={"q": ""}).status_code == 422
    assert client.http.get("/api/search", params={"q": "zzzqqq"}).json() == {
        "conversations": []}


def test_delete_then_undo(client: Client) -> None:
    conv = client.new(title="to delete")
    cid = conv["id"]
    client.chat(cid, "remember the walrus")
    r = client.http.delete(f"/api/conversations/{cid}")
    assert r.status_code == 204 and r.headers["x-undo-seconds"] == "3600"
    assert client.http.get(f"/api/conversations/{cid}").status_code == 404
    assert cid not in [c["id"] for c in listed(client)]
    assert client.http.get(f"/r/{conv['share_token']}").status_code == 404
    assert client.http.delete(f"/api/conversations/{cid}").status_code == 404
    r = client.http.post(f"/api/conversations/{cid}/restore")
    assert r.status_code == 200 and r.json()["title"] == "to delete"
    items = client.get(cid)["items"]
    assert items[0]["content"] == "remember the walrus"
    assert client.http.post(f"/api/conversations/{cid}/restore").status_code == 404
    # at once, no undo
    assert client.http.delete(f"/api/conversations/{cid}",
                              params={"now": "true"}).status_code == 204
    assert client.http.post(f"/api/conversations/{cid}/restore").status_code == 404


def test_the_undo_window_ends_with_a_purge(server: ThreadServer, client: Client) -> None:
    conv = client.new(title="purge me")
    cid = conv["id"]
    client.chat(cid, "run: open('kept.txt', 'w').write('x')")
    hub = server.server.config.app.state.hub
    workspace = hub.data_dir / "workspaces" / cid
    assert (workspace / "kept.txt").exists()
    assert client.http.delete(f"/api/conversations/{cid}").status_code == 204
    loop_result = asyncio.run_coroutine_threadsafe(  # the reaper's job, run now
        hub.purge_deleted(now=time.time() + 7200), server_loop(server)).result(60)
    assert cid in loop_result and not workspace.exists()
    assert client.http.post(f"/api/conversations/{cid}/restore").status_code == 404


def server_loop(server: ThreadServer) -> asyncio.AbstractEventLoop:
    """The event loop uvicorn runs the app on (the hub's coroutines belong there)."""
    reaper = server.server.config.app.state.hub._reaper
    assert reaper is not None
    return reaper.get_loop()
