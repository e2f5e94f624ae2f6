"""API tests for codeact.server.app against a live uvicorn on 127.0.0.1.

The model is scripted (see ``script_reply``); code runs in real sandboxed kernels. The
helpers here (``ThreadServer``, ``scripted_factory``, ``Client``) are also used by the other
``test_server_*`` modules and, through ``--llm-factory test_server_app:scripted_factory``,
by servers started in a subprocess.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from codeact.llm.scripted import ScriptedLLM

PLOT_CODE = ("import matplotlib.pyplot as plt\nimport numpy as np\n"
             "x = np.linspace(0, 6.28, 50)\nplt.plot(x, np.sin(x))\n"
             "print('plotted', len(x))\nplt.show()")
LONG_CELL = ("import time\nfor i in range(3000):\n    print('tick', i, flush=True)\n"
             "    time.sleep(0.1)")


def script_reply(messages: list[dict[str, Any]]) -> str:
    """A deterministic 'model': reacts to the last message.

    ``run: CODE`` runs CODE; ``plot`` plots; ``sleep`` runs a long cell; after an
    observation it answers with the observation's first line; anything else is echoed.
    """
    last = str(messages[-1]["content"])
    if last.startswith("Observation:"):
        lines = last.splitlines()
        first = lines[1] if len(lines) > 1 else ""
        return f"Done.\n<solution>Result: **{first}**</solution>"
    text = last.split("]\n\n", 1)[-1] if last.startswith("[Note:") else last
    if text.startswith("run:"):
        return f"Running it.\n<execute>\n{text[4:].strip()}\n</execute>"
    if "plot" in text.lower():
        return f"I'll plot it.\n<execute>\n{PLOT_CODE}\n</execute>"
    if "sleep" in text.lower():
        return f"A long cell.\n<execute>\n{LONG_CELL}\n</execute>"
    return f"You said: {text}"


def scripted_factory(spec: str) -> ScriptedLLM:
    return ScriptedLLM(script_reply, chunk_size=3, name=spec)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ThreadServer:
    """uvicorn serving ``app`` on a free 127.0.0.1 port in a background thread."""

    def __init__(self, app: Any) -> None:
        import uvicorn

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port,
                                                    log_level="warning", lifespan="on"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> ThreadServer:
        self.thread.start()
        deadline = time.monotonic() + 60
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(60)


def make_app(tmp_path: Path, **kwargs: Any) -> Any:
    from codeact.server.app import create_app

    options: dict[str, Any] = {"db": f"sqlite:///{tmp_path / 'chat.db'}",
                               "data_dir": tmp_path / "data", "models": ["scripted", "other"],
                               "llm_factory": scripted_factory, "max_sessions": 4,
                               "pool_size": 1, "agent_options": {"exec_timeout": 120}}
    options.update(kwargs)
    return create_app(**options)


class Client:
    """A small API client over httpx for the tests."""

    def __init__(self, url: str, **kwargs: Any) -> None:
        self.http = httpx.Client(base_url=url, timeout=60, **kwargs)

    def new(self, **body: Any) -> dict[str, Any]:
        r = self.http.post("/api/conversations", json=body)
        assert r.status_code == 201, r.text
        return r.json()

    def send(self, cid: str, content: str) -> httpx.Response:
        return self.http.post(f"/api/conversations/{cid}/messages", json={"content": content})

    def events(self, cid: str, after: int = 0, until: str = "done",
               timeout: float = 120) -> list[dict[str, Any]]:
        """Read the SSE stream until an event of type ``until`` (or the stream ends)."""
        out: list[dict[str, Any]] = []
        with self.http.stream("GET", f"/api/conversations/{cid}/events",
                              params={"after": after}, timeout=timeout) as r:
            assert r.status_code == 200
            assert r.headers["content-type"].startswith("text/event-stream")
            for line in r.iter_lines():
                if line.startswith("data:"):
                    ev = json.loads(line[5:])
                    out.append(ev)
                    if ev["type"] in (until, "idle"):
                        break
        return out

    def chat(self, cid: str, content: str) -> list[dict[str, Any]]:
        r = self.send(cid, content)
        assert r.status_code == 202, r.text
        return self.events(cid)

    def get(self, cid: str) -> dict[str, Any]:
        r = self.http.get(f"/api/conversations/{cid}")
        assert r.status_code == 200, r.text
        return r.json()

    def close(self) -> None:
        self.http.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, runtime: str,
           request: pytest.FixtureRequest) -> Iterator[ThreadServer]:
    """The app with kernels on this machine, then with kernels on a real gateway."""
    from gateway_helpers import runtime_config

    tmp = tmp_path_factory.mktemp("app")
    sandbox = runtime_config(runtime, request)
    with ThreadServer(make_app(tmp, max_sessions=3, sandbox=sandbox)) as srv:
        yield srv


@pytest.fixture()
def client(server: ThreadServer) -> Iterator[Client]:
    c = Client(server.url)
    yield c
    c.close()


def kinds(items: list[dict[str, Any]]) -> list[str]:
    return [i["type"] if i["type"] == "code" else f"{i['role']}:{i['kind']}" for i in items]


def test_health_models_and_openapi(client: Client) -> None:
    assert client.http.get("/api/health").json() == {"ok": True}
    assert client.http.get("/api/models").json() == {"models": ["scripted", "other"],
                                                      "default": "scripted"}
    spec = client.http.get("/openapi.json").json()
    assert "/api/conversations/{cid}/messages" in spec["paths"]
    assert client.http.get("/docs").status_code == 200


def test_index_and_static_assets(client: Client) -> None:
    r = client.http.get("/")
    assert r.status_code == 200 and "codeact" in r.text
    assert "script-src 'self'" in r.headers["content-security-policy"]
    for asset in ("app.js", "render.js", "style.css", "share.js"):
        assert client.http.get(f"/static/{asset}").status_code == 200


def test_plain_chat_reply_is_persisted_and_streamed(client: Client) -> None:
    conv = client.new()
    assert conv["title"] == "New chat" and conv["model"] == "scripted"
    events = client.chat(conv["id"], "hello there")
    assert events[-1] == {"type": "done", "stop_reason": "no_action", "i": events[-1]["i"]}
    assert [e["i"] for e in events] == list(range(len(events)))
    data = client.get(conv["id"])
    assert kinds(data["items"]) == ["user:text", "assistant:answer"]
    assert data["items"][1]["content"] == "You said: hello there"
    assert data["conversation"]["title"] == "hello there"
    assert data["running"] is False


def test_code_action_output_image_and_answer(client: Client) -> None:
    conv = client.new()
    events = client.chat(conv["id"], "please plot a sine")
    types = [e["type"] for e in events]
    assert "output" in types and "observation" in types
    obs = next(e for e in events if e["type"] == "observation")["observation"]
    assert obs["stdout"].startswith("plotted 50") and obs["error"] is None
    assert len(obs["images"]) == 1
    img = client.http.get(f"/api/conversations/{conv['id']}/images/{obs['images'][0]}")
    assert img.status_code == 200 and img.content.startswith(b"\x89PNG")
    items = client.get(conv["id"])["items"]
    assert kinds(items) == ["user:text", "assistant:text", "code", "assistant:text",
                            "assistant:answer"]
    assert "<execute>" in items[1]["content"]
    assert items[2]["code"] == PLOT_CODE and items[2]["message_id"] == items[1]["id"]
    assert items[4]["content"] == "Result: **plotted 50**"
    # text streamed in order: the offsets of the text deltas fit the final content
    text_id = items[1]["id"]
    first = next(e for e in events if e["type"] == "item"
                 and e["item"]["type"] == "message" and e["item"]["id"] == text_id)
    content = first["item"]["content"]
    for e in events:
        if e["type"] == "text" and e["message_id"] == text_id:
            assert e["offset"] == len(content)
            content += e["text"]
    assert content == items[1]["content"]


def test_variables_persist_within_a_conversation(client: Client) -> None:
    conv = client.new()
    client.chat(conv["id"], "run: secret = 41")
    client.chat(conv["id"], "run: print(secret + 1)")
    items = client.get(conv["id"])["items"]
    assert items[-1]["content"] == "Result: **42**"


def test_events_replay_from_an_index(client: Client) -> None:
    conv = client.new()
    events = client.chat(conv["id"], "hi")
    again = client.events(conv["id"], after=1)
    assert again == events[1:]


def test_events_without_a_run_say_idle(client: Client) -> None:
    conv = client.new()
    assert client.events(conv["id"]) == [{"type": "idle"}]


def test_validation_errors_are_clear_4xx(client: Client) -> None:
    conv = client.new()
    cid = conv["id"]
    r = client.http.post(f"/api/conversations/{cid}/messages", json={})
    assert r.status_code == 422 and "content" in r.json()["detail"]
    r = client.http.post(f"/api/conversations/{cid}/messages", json={"content": ""})
    assert r.status_code == 422
    r = client.http.post(f"/api/conversations/{cid}/messages", json={"content": "   "})
    assert r.status_code == 422 and "empty" in r.json()["detail"]
    r = client.http.post(f"/api/conversations/{cid}/messages",
                         json={"content": "x" * 100_001})
    assert r.status_code == 422 and "100000" in r.json()["detail"]
    r = client.http.post(f"/api/conversations/{cid}/messages",
                         json={"content": "hi", "extra": 1})
    assert r.status_code == 422
    r = client.http.post(f"/api/conversations/{cid}/messages", content=b"{not json",
                         headers={"content-type": "application/json"})
    assert r.status_code == 422
    r = client.http.post(f"/api/conversations/{cid}/messages",
                         content=b"x" * (2 * 1024 * 1024),
                         headers={"content-type": "application/json"})
    assert r.status_code == 413
    assert client.http.get("/api/conversations/not-an-id").status_code == 422
    assert client.http.get("/api/conversations/" + "0" * 32).status_code == 404
    r = client.http.post("/api/conversations", json={"model": "nope"})
    assert r.status_code == 422 and "configured models" in r.json()["detail"]
    r = client.http.patch(f"/api/conversations/{cid}", json={"title": "t" * 201})
    assert r.status_code == 422


def test_rename_switch_model_and_delete(client: Client) -> None:
    conv = client.new(title="first")
    cid = conv["id"]
    r = client.http.patch(f"/api/conversations/{cid}", json={"title": "renamed",
                                                              "model": "other"})
    assert r.status_code == 200 and r.json()["model"] == "other"
    client.chat(cid, "hello")
    listed = {c["id"]: c for c in client.http.get("/api/conversations").json()["conversations"]}
    assert listed[cid]["title"] == "renamed"
    assert client.http.delete(f"/api/conversations/{cid}").status_code == 204
    assert client.http.get(f"/api/conversations/{cid}").status_code == 404


def test_upload_download_and_names_cannot_escape(client: Client, tmp_path: Path) -> None:
    conv = client.new()
    cid = conv["id"]
    r = client.http.post(f"/api/conversations/{cid}/files",
                         files={"file": ("data.csv", b"a,b\n1,2\n", "text/csv")})
    assert r.status_code == 201 and r.json()["name"] == "data.csv"
    for bad in ("../evil.txt", "/etc/passwd", "a/../../x", ".bashrc", "..", "a\\..\\b"):
        r = client.http.post(f"/api/conversations/{cid}/files",
                             files={"file": ("x.txt", b"x", "text/plain")}, data={"name": bad})
        assert r.status_code == 400, bad
        assert "refused" in r.json()["detail"]
    # the agent sees the upload and writes a file of its own
    client.chat(cid, "run: import csv, os\nrows = list(csv.reader(open('data.csv')))\n"
                     "os.makedirs('out', exist_ok=True)\n"
                     "open('out/result.txt', 'w').write(str(len(rows)))\nprint(len(rows))")
    files = {f["name"]: f for f in client.http.get(f"/api/conversations/{cid}/files")
             .json()["files"]}
    assert files["data.csv"]["source"] == "upload"
    assert files["out/result.txt"]["source"] == "agent"
    r = client.http.get(f"/api/conversations/{cid}/files/out/result.txt")
    assert r.status_code == 200 and r.content == b"2"
    assert r.headers["content-disposition"] == 'attachment; filename="result.txt"'
    assert r.headers["content-type"] == "application/octet-stream"
    assert r.headers["content-length"] == "1"
    client.http.post(f"/api/conversations/{cid}/files",
                     files={"file": ("résumé.txt", b"cv", "text/plain")})
    r = client.http.get(f"/api/conversations/{cid}/files/résumé.txt")
    assert r.content == b"cv"
    assert r.headers["content-disposition"] == "attachment; filename*=utf-8''r%C3%A9sum%C3%A9.txt"
    for bad in ("..%2F..%2Fetc%2Fpasswd", "%2Fetc%2Fpasswd", ".%2E/chat.db"):
        r = client.http.get(f"/api/conversations/{cid}/files/{bad}")
        assert r.status_code in (400, 404), bad
    assert client.http.get(f"/api/conversations/{cid}/files/nope.txt").status_code == 404


def test_upload_size_limit(tmp_path: Path) -> None:
    with ThreadServer(make_app(tmp_path, max_upload_bytes=1000, pool_size=0)) as srv:
        c = Client(srv.url)
        cid = c.new()["id"]
        r = c.http.post(f"/api/conversations/{cid}/files",
                        files={"file": ("big.bin", b"x" * 5000, "application/octet-stream")})
        assert r.status_code == 413
        r = c.http.post(f"/api/conversations/{cid}/files",
                        files={"file": ("ok.bin", b"x" * 500, "application/octet-stream")})
        assert r.status_code == 201
        c.close()


def test_share_link_is_read_only(client: Client) -> None:
    conv = client.new()
    client.chat(conv["id"], "plot it")
    token = conv["share_token"]
    assert len(token) >= 32
    page = client.http.get(f"/r/{token}")
    assert page.status_code == 200 and "read-only" in page.text
    shared = client.http.get(f"/api/share/{token}").json()
    assert shared["read_only"] is True and "id" not in shared["conversation"]
    assert kinds(shared["items"])[:3] == ["user:text", "assistant:text", "code"]
    image = shared["items"][2]["observation"]["images"][0]
    assert client.http.get(f"/api/share/{token}/images/{image}").status_code == 200
    assert client.http.get(f"/r/{'x' * 32}").status_code == 404
    assert client.http.get(f"/api/share/{'x' * 32}").status_code == 404
    # nothing under /api/share changes anything
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        assert client.http.request(method, f"/api/share/{token}").status_code == 405


def test_a_new_share_link_revokes_the_old_one(client: Client) -> None:
    conv = client.new()
    old = conv["share_token"]
    r = client.http.post(f"/api/conversations/{conv['id']}/share")
    assert r.status_code == 200
    new = r.json()["share_token"]
    assert new != old and len(new) >= 32
    assert client.http.get(f"/api/share/{old}").status_code == 404
    assert client.http.get(f"/r/{old}").status_code == 404
    assert client.http.get(f"/api/share/{new}").status_code == 200
    assert client.http.get(f"/api/conversations/{conv['id']}").json()[
        "conversation"]["share_token"] == new
    assert client.http.post(f"/api/conversations/{'0' * 32}/share").status_code == 404


def test_second_message_while_running_is_409_and_stop_interrupts(client: Client) -> None:
    conv = client.new()
    cid = conv["id"]
    assert client.send(cid, "sleep please").status_code == 202
    seen = client.events(cid, until="output")
    assert seen[-1]["type"] == "output"
    r = client.send(cid, "another")
    assert r.status_code == 409
    assert client.http.post(f"/api/conversations/{cid}/stop").json() == {"stopping": True}
    rest = client.events(cid, after=seen[-1]["i"] + 1)
    assert rest[-1]["type"] == "done" and rest[-1]["stop_reason"] == "interrupted"
    items = client.get(cid)["items"]
    code = next(i for i in items if i["type"] == "code")
    assert code["observation"]["status"] == "done"
    assert "tick 0" in code["observation"]["stdout"]
    assert items[-1]["kind"] == "notice" and items[-1]["content"] == "Stopped."
    assert client.http.post(f"/api/conversations/{cid}/stop").json() == {"stopping": False}
    # the conversation goes on, same kernel
    assert client.chat(cid, "run: print(i >= 0)")[-1]["stop_reason"] == "solution"
    assert client.get(cid)["items"][-1]["content"] == "Result: **True**"


def test_busy_past_the_kernel_cap(tmp_path: Path) -> None:
    with ThreadServer(make_app(tmp_path, max_sessions=1, pool_size=0)) as srv:
        c = Client(srv.url)
        a, b = c.new()["id"], c.new()["id"]
        c.chat(a, "run: x = 1")
        # a is idle: its kernel is handed over to b (a is told about it later)
        assert c.chat(b, "hello")[-1]["type"] == "done"
        assert c.send(a, "sleep").status_code == 202  # takes the kernel back from b
        c.events(a, until="output")
        r = c.send(b, "hello")  # every kernel is busy now
        assert r.status_code == 503
        assert r.json()["detail"].startswith("busy, try again")
        assert r.headers["retry-after"]
        assert len(c.get(b)["items"]) == 2  # nothing half-stored for the refused message
        c.http.post(f"/api/conversations/{a}/stop")
        c.events(a)
        assert c.chat(b, "hello")[-1]["type"] == "done"
        notices = [i for i in c.get(a)["items"] if i.get("kind") == "notice"]
        assert "variables were lost" in notices[0]["content"]
        c.close()


def test_token_required_beyond_localhost(tmp_path: Path) -> None:
    from codeact.server import resolve_token

    assert resolve_token("127.0.0.1", None) == (None, False)
    token, generated = resolve_token("0.0.0.0", None)
    assert generated and token and len(token) >= 24
    assert resolve_token("0.0.0.0", "given-token-16chr") == ("given-token-16chr", False)
    with ThreadServer(make_app(tmp_path, token="s3cret-token", check_host=False,
                               pool_size=0)) as srv:
        anon = httpx.Client(base_url=srv.url)
        assert anon.get("/api/conversations").status_code == 401
        assert anon.get("/api/conversations",
                        headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert anon.get("/").status_code == 401
        assert anon.get("/api/health").status_code == 200
        assert anon.get("/static/app.js").status_code == 200
        login = anon.get("/?token=s3cret-token", follow_redirects=False)
        assert login.status_code == 303 and "HttpOnly" in login.headers["set-cookie"]
        assert anon.get("/api/conversations").status_code == 200  # the cookie now
        anon.close()
        c = Client(srv.url, headers={"Authorization": "Bearer s3cret-token"})
        conv = c.new()
        assert c.chat(conv["id"], "hi")[-1]["type"] == "done"
        # share links work without the token, read-only
        anon2 = httpx.Client(base_url=srv.url)
        assert anon2.get(f"/api/share/{conv['share_token']}").status_code == 200
        assert anon2.get(f"/api/conversations/{conv['id']}").status_code == 401
        anon2.close()
        c.close()


def test_localhost_guard_rejects_foreign_host_and_cross_origin(client: Client) -> None:
    r = client.http.get("/api/conversations", headers={"Host": "evil.example:8000"})
    assert r.status_code == 400
    r = client.http.post("/api/conversations", json={},
                         headers={"Origin": "http://evil.example"})
    assert r.status_code == 403
    r = client.http.post("/api/conversations", json={},
                         headers={"Origin": str(client.http.base_url).rstrip("/")})
    assert r.status_code == 201


def test_a_download_sends_the_size_it_announced(tmp_path: Path) -> None:
    # a file the kernel still writes to grows after it was opened for a download
    from codeact.server.routes.files import _chunks

    p = tmp_path / "log.txt"
    p.write_bytes(b"abc")
    with open(p, "rb") as f:
        with open(p, "ab") as w:
            w.write(b"def")
        assert b"".join(_chunks(f, 3, chunk=2)) == b"abc"
