"""API tests for settings (routes/settings.py): defaults, per-conversation settings that
reach the agent (max turns, prompt variant), validation, and the share view."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from test_server_app import Client, ThreadServer, make_app

from codeact.prompts import variants


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadServer]:
    with ThreadServer(make_app(tmp_path_factory.mktemp("settings"))) as srv:
        yield srv


def test_defaults_apply_to_new_conversations(client: Client) -> None:
    got = client.http.get("/api/settings").json()
    assert got["defaults"] == {} and got["prompts"] == variants("code")
    assert got["models"] == ["scripted", "other"]
    r = client.http.put("/api/settings", json={"model": "other", "temperature": 0.4,
                                               "approval": True})
    assert r.status_code == 200
    conv = client.new()
    assert conv["model"] == "other"
    assert conv["settings"] == {"temperature": 0.4, "approval": True}
    conv = client.new(model="scripted", settings={"max_turns": 2})
    assert conv["model"] == "scripted"
    assert conv["settings"] == {"temperature": 0.4, "approval": True, "max_turns": 2}
    client.http.put("/api/settings", json={})
    assert client.new()["settings"] == {}


def test_validation(client: Client) -> None:
    for bad in ({"temperature": 3}, {"max_turns": 0}, {"max_new_tokens": 1},
                {"prompt": "no-such-variant"}, {"model": "nope"}, {"colour": "red"}):
        assert client.http.put("/api/settings", json=bad).status_code == 422, bad
    cid = client.new()["id"]
    r = client.http.patch(f"/api/conversations/{cid}", json={"settings": {"prompt": "x"}})
    assert r.status_code == 422


def test_conversation_settings_reach_the_agent_and_the_share_view(
        server: ThreadServer, client: Client) -> None:
    conv = client.new()
    cid = conv["id"]
    prompt = variants("code")[-1]
    r = client.http.patch(f"/api/conversations/{cid}", json={"settings": {
        "max_turns": 1, "prompt": prompt, "temperature": 0.3, "max_new_tokens": 300}})
    assert r.status_code == 200
    assert r.json()["settings"] == {"max_turns": 1, "prompt": prompt, "temperature": 0.3,
                                    "max_new_tokens": 300}
    events = client.chat(cid, "run: print('one turn only')")
    assert events[-1]["stop_reason"] == "max_turns"  # one turn: no room for the answer
    agent = server.server.config.app.state.hub.live[cid].agent
    assert (agent.max_turns, agent.temperature, agent.max_new_tokens) == (1, 0.3, 300)
    assert agent.prompt_name == prompt
    # a null setting goes back to the default, and the agent is rebuilt for the next run
    client.http.patch(f"/api/conversations/{cid}", json={"settings": {"max_turns": None}})
    events = client.chat(cid, "run: print('more turns')")
    assert events[-1]["stop_reason"] == "solution"
    shared = client.http.get(f"/api/share/{conv['share_token']}").json()
    assert shared["conversation"]["settings"] == {"prompt": prompt, "temperature": 0.3,
                                                  "max_new_tokens": 300}
