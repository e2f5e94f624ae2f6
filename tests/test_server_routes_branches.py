"""API tests for regenerate, edit-and-resend and branch switching (routes/branches.py)
over live uvicorn, with the scripted model and real sandboxed kernels."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from test_server_app import Client, ThreadServer, make_app

from codeact.server.hub import EDIT_NOTICE, REGENERATE_NOTICE


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadServer]:
    with ThreadServer(make_app(tmp_path_factory.mktemp("branches"))) as srv:
        yield srv


def contents(data: dict) -> list[str]:
    return [i["content"] if i["type"] == "message" else "code:" + i["code"]
            for i in data["items"]]


def test_regenerate_keeps_the_kernel_and_the_old_answer(client: Client) -> None:
    cid = client.new()["id"]
    client.chat(cid, "run: counter = 41")
    client.chat(cid, "run: counter += 1\nprint(counter)")
    before = client.get(cid)
    assert before["items"][-1]["content"] == "Result: **42**"
    r = client.http.post(f"/api/conversations/{cid}/regenerate")
    assert r.status_code == 202, r.text
    assert [i["content"] for i in r.json()["items"]] == [REGENERATE_NOTICE]
    client.events(cid)
    after = client.get(cid)
    # the kernel was kept: counter was 42 already, so the rerun prints 43
    assert after["items"][-1]["content"] == "Result: **43**"
    texts = contents(after)
    assert texts.count("run: counter += 1\nprint(counter)") == 1  # the message is reused
    assert REGENERATE_NOTICE in texts and "Result: **42**" not in texts
    assert [b["number"] for b in after["branches"]] == [0, 1]
    assert after["conversation"]["branch"] == 1
    # the previous answer is still there: switch back to it
    r = client.http.post(f"/api/conversations/{cid}/branch", json={"branch": 0})
    assert r.status_code == 200
    assert client.get(cid)["items"][-1]["content"] == "Result: **42**"
    assert client.get(cid)["kernel"] is False  # switching restarts the kernel


def test_edit_forks_and_resets_variables(client: Client) -> None:
    cid = client.new()["id"]
    client.chat(cid, "run: secret = 7")
    client.chat(cid, "hello")
    data = client.get(cid)
    first = data["items"][0]
    r = client.http.post(f"/api/conversations/{cid}/messages/{first['id']}/edit",
                         json={"content": "run: print('secret' in globals())"})
    assert r.status_code == 202, r.text
    assert [i["content"] for i in r.json()["items"]] == [
        EDIT_NOTICE, "run: print('secret' in globals())"]
    client.events(cid)
    data = client.get(cid)
    assert contents(data)[0] == EDIT_NOTICE  # nothing before the edited message
    assert data["items"][-1]["content"] == "Result: **False**"  # variables were reset
    assert "hello" not in contents(data)
    branches = data["branches"]
    assert branches[-1]["kind"] == "edit" and branches[-1]["anchor_seq"] == first["seq"]
    r = client.http.post(f"/api/conversations/{cid}/branch", json={"branch": 0})
    old = client.get(cid)
    assert contents(old)[:1] == ["run: secret = 7"] and "hello" in contents(old)
    # the model's history came back with the branch: it answers on top of it
    client.chat(cid, "again")
    assert client.get(cid)["items"][-1]["content"] == "You said: again"


def test_errors(client: Client) -> None:
    cid = client.new()["id"]
    assert client.http.post(f"/api/conversations/{cid}/regenerate").status_code == 404
    assert client.http.post(f"/api/conversations/{cid}/messages/1/edit",
                            json={"content": "x"}).status_code == 404
    assert client.http.post(f"/api/conversations/{cid}/messages/1/edit",
                            json={"content": " "}).status_code == 422
    assert client.http.post(f"/api/conversations/{cid}/branch",
                            json={"branch": 5}).status_code == 404
    client.chat(cid, "hi")
    assistant = client.get(cid)["items"][-1]
    r = client.http.post(f"/api/conversations/{cid}/messages/{assistant['id']}/edit",
                         json={"content": "x"})
    assert r.status_code == 404  # only user messages can be edited
    client.send(cid, "sleep a long time")
    assert client.http.post(f"/api/conversations/{cid}/regenerate").status_code == 409
    client.http.post(f"/api/conversations/{cid}/stop")
    client.events(cid)


def test_an_edit_of_an_edit_is_another_version_of_the_first_message(client: Client) -> None:
    cid = client.new()["id"]
    client.chat(cid, "hello")
    first = client.get(cid)["items"][0]
    client.http.post(f"/api/conversations/{cid}/messages/{first['id']}/edit",
                     json={"content": "hello again"})
    client.events(cid)
    edited = next(i for i in client.get(cid)["items"] if i.get("role") == "user")
    assert edited["content"] == "hello again" and edited["branch"] == 1
    client.http.post(f"/api/conversations/{cid}/messages/{edited['id']}/edit",
                     json={"content": "hello a third time"})
    client.events(cid)
    data = client.get(cid)
    assert contents(data) == [EDIT_NOTICE, "hello a third time", "You said: hello a third time"]
    third = data["branches"][-1]
    assert (third["parent"], third["anchor_seq"]) == (0, first["seq"])  # same group
