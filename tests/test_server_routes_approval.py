"""API tests for approval mode (routes/approval.py): an ``approval`` event shows the
code, and Run / Edit / Skip answer it; stopping skips it. Live uvicorn, real kernels."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from test_server_app import Client, ThreadServer, make_app


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadServer]:
    with ThreadServer(make_app(tmp_path_factory.mktemp("approval"))) as srv:
        yield srv


def ask(client: Client, cid: str, content: str, **body: object) -> dict:
    """Send a message in approval mode; return the approval event."""
    r = client.http.post(f"/api/conversations/{cid}/messages",
                         json={"content": content, "approval": True, **body})
    assert r.status_code == 202, r.text
    events = client.events(cid, until="approval")
    assert events[-1]["type"] == "approval", events
    return events[-1]


def answer(client: Client, cid: str, **body: object) -> list[dict]:
    r = client.http.post(f"/api/conversations/{cid}/approval", json=body)
    assert r.status_code == 200, r.text
    return client.events(cid)


def test_run_edit_and_skip(client: Client) -> None:
    cid = client.new()["id"]
    ev = ask(client, cid, "run: print('as written')")
    assert ev["code"] == "print('as written')"
    waiting = client.get(cid)
    assert waiting["approval"] == {"code_action_id": ev["code_action_id"],
                                   "code": "print('as written')"}
    assert waiting["items"][-1]["observation"]["status"] == "running"  # not run yet
    events = answer(client, cid, action="run", code_action_id=ev["code_action_id"])
    assert any(e["type"] == "approval_done" and e["action"] == "run" for e in events)
    assert client.get(cid)["items"][-1]["content"] == "Result: **as written**"

    ask(client, cid, "run: print('original')")
    answer(client, cid, action="edit", code="print('edited by the user')")
    data = client.get(cid)
    code = [i for i in data["items"] if i["type"] == "code"][-1]
    assert code["code"] == "print('edited by the user')"  # what ran is what is stored
    assert "The user edited your code" in code["observation"]["text"]
    assert data["items"][-1]["content"].startswith("Result: **")

    ask(client, cid, "run: import shutil; shutil.rmtree('.')")
    answer(client, cid, action="skip")
    code = [i for i in client.get(cid)["items"] if i["type"] == "code"][-1]
    assert "declined" in code["observation"]["text"]
    assert code["observation"]["stdout"] == ""


def test_conversation_setting_and_stop_while_waiting(client: Client) -> None:
    cid = client.new(settings={"approval": True})["id"]
    r = client.send(cid, "run: print(1)")  # no flag: the conversation's setting
    assert r.status_code == 202
    assert client.events(cid, until="approval")[-1]["type"] == "approval"
    assert client.http.post(f"/api/conversations/{cid}/stop").json() == {"stopping": True}
    events = client.events(cid)
    assert events[-1]["type"] == "done"
    assert client.get(cid)["approval"] is None
    # the flag overrides the setting: this one runs without asking
    types = [e["type"] for e in client.chat_with(cid, "run: print(2)", approval=False)]
    assert "approval" not in types and "observation" in types


def test_answering_when_nothing_waits(client: Client) -> None:
    cid = client.new()["id"]
    r = client.http.post(f"/api/conversations/{cid}/approval", json={"action": "run"})
    assert r.status_code == 409
    ask(client, cid, "run: print(3)")
    assert client.http.post(f"/api/conversations/{cid}/approval",
                            json={"action": "edit", "code": " "}).status_code == 422
    assert client.http.post(f"/api/conversations/{cid}/approval",
                            json={"action": "run", "code_action_id": 10**9}
                            ).status_code == 409
    assert client.http.post(f"/api/conversations/{cid}/approval",
                            json={"action": "maybe"}).status_code == 422
    answer(client, cid, action="run")


def _chat_with(self: Client, cid: str, content: str, **body: object) -> list[dict]:
    r = self.http.post(f"/api/conversations/{cid}/messages",
                       json={"content": content, **body})
    assert r.status_code == 202, r.text
    return self.events(cid)


Client.chat_with = _chat_with  # type: ignore[attr-defined]
