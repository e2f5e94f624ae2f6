"""The OpenAI-compatible backend against real HTTP servers on 127.0.0.1: a tiny fake one
(fast: streaming, retries, errors) and, with --slow, the real ``llama_cpp.server``."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from codeact.llm.base import Completion, LLMError
from codeact.llm.openai_compat import OpenAICompatLLM

MSGS = [{"role": "user", "content": "hello"}]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class FakeOpenAI:
    """Scripted responses: ints are HTTP error statuses, ("sleep", s) delays, and lists of
    str are streamed as SSE chat-completion chunks (with a final usage chunk)."""

    def __init__(self) -> None:
        self.script: list[Any] = []
        self.requests: list[dict[str, Any]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                fake.requests.append(body)
                step = fake.script.pop(0) if fake.script else ["ok"]
                if isinstance(step, tuple) and step[0] == "sleep":
                    time.sleep(step[1])
                    step = ["late"]
                if isinstance(step, int):
                    payload = json.dumps({"error": {"message": f"status {step}\nsecond line",
                                                    "type": "x"}}).encode()
                    self.send_response(step)
                    if step == 429:
                        self.send_header("Retry-After", "0")
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Connection", "close")
                self.end_headers()
                try:
                    for i, piece in enumerate(step):
                        chunk = {"id": "c", "object": "chat.completion.chunk", "created": 0,
                                 "model": body["model"], "choices": [{
                                     "index": 0, "delta": {"content": piece},
                                     "finish_reason": "stop" if i == len(step) - 1 else None}]}
                        self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                        self.wfile.flush()
                    usage = {"id": "c", "object": "chat.completion.chunk", "created": 0,
                             "model": body["model"], "choices": [],
                             "usage": {"prompt_tokens": 11, "completion_tokens": len(step),
                                       "total_tokens": 11 + len(step)}}
                    self.wfile.write(f"data: {json.dumps(usage)}\n\ndata: [DONE]\n\n".encode())
                    self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    pass
                self.close_connection = True

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/v1"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    f = FakeOpenAI()
    yield f
    f.close()


def llm_for(fake: FakeOpenAI, **kw: Any) -> OpenAICompatLLM:
    kw.setdefault("backoff", 0.01)
    return OpenAICompatLLM("test-model", base_url=fake.url, api_key="k", **kw)


def split(items: list[Any]) -> tuple[list[str], Completion]:
    assert isinstance(items[-1], Completion)
    assert all(isinstance(i, str) for i in items[:-1])
    return items[:-1], items[-1]


def test_streams_deltas_and_usage(fake: FakeOpenAI) -> None:
    fake.script = [["Hel", "lo", " world"]]
    deltas, done = split(list(llm_for(fake).stream(MSGS, max_tokens=7, temperature=0.2)))
    assert "".join(deltas) == "Hello world" == done.text
    assert (done.prompt_tokens, done.completion_tokens) == (11, 3)
    assert done.finish_reason == "stop"
    req = fake.requests[0]
    assert req["model"] == "test-model" and req["stream"] is True
    assert req["max_tokens"] == 7 and req["temperature"] == 0.2
    assert req["messages"] == MSGS


def test_retries_429_and_5xx_then_succeeds(fake: FakeOpenAI) -> None:
    fake.script = [429, 500, 503, ["fine"]]
    assert llm_for(fake, max_attempts=4).complete(MSGS).text == "fine"
    assert len(fake.requests) == 4


def test_gives_up_after_max_attempts(fake: FakeOpenAI) -> None:
    fake.script = [500, 500, 500]
    with pytest.raises(LLMError) as err:
        llm_for(fake, max_attempts=2).complete(MSGS)
    assert len(fake.requests) == 2
    assert str(err.value) == f"LLM server at {fake.url} returned HTTP 500: status 500"


def test_client_errors_are_not_retried(fake: FakeOpenAI) -> None:
    fake.script = [401]
    with pytest.raises(LLMError, match="rejected the API key"):
        llm_for(fake).complete(MSGS)
    fake.script = [404]
    with pytest.raises(LLMError, match="model 'test-model' or endpoint not found"):
        llm_for(fake).complete(MSGS)
    fake.script = [400]
    with pytest.raises(LLMError, match="HTTP 400"):
        llm_for(fake).complete(MSGS)
    assert len(fake.requests) == 3


def test_timeout_is_retried(fake: FakeOpenAI) -> None:
    fake.script = [("sleep", 1.0), ["after timeout"]]
    llm = llm_for(fake, timeout=0.3, max_attempts=3)
    assert llm.complete(MSGS).text == "after timeout"
    assert len(fake.requests) == 2


def test_unreachable_server_is_one_clear_line() -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    llm = OpenAICompatLLM("m", base_url=url, backoff=0.01)
    with pytest.raises(LLMError) as err:
        llm.complete(MSGS)
    msg = str(err.value)
    assert msg.startswith(f"cannot reach LLM server at {url}: ")
    assert "\n" not in msg and "Traceback" not in msg
    port = url.split(":")[2].split("/")[0]
    secret = OpenAICompatLLM("m", base_url=f"http://me:s3cr3t@127.0.0.1:{port}/v1",
                             backoff=0.01, max_attempts=1)
    with pytest.raises(LLMError) as err:
        secret.complete(MSGS)
    assert "s3cr3t" not in str(err.value)
    assert f"http://[credentials]@127.0.0.1:{port}/v1" in str(err.value)


def test_extra_stops_are_applied_client_side(fake: FakeOpenAI) -> None:
    stops = ["<s1>", "<s2>", "<s3>", "<s4>", "</execute>"]
    fake.script = [["code\n</ex", "ecute>", " Observation: hallucinated"]]
    deltas, done = split(list(llm_for(fake).stream(MSGS, stop=stops)))
    assert fake.requests[0]["stop"] == stops[:4]  # servers cap stops at 4
    assert done.text == "code\n" and "".join(deltas) == "code\n"
    assert all("</" not in d for d in deltas)  # no partial stop text leaked
    assert done.stop_sequence == "</execute>" and done.finish_reason == "stop"


def test_stop_tokens_of_the_backend_are_added(fake: FakeOpenAI) -> None:
    fake.script = [["a<|im_end|>b"]]
    done = llm_for(fake, stop_tokens=["<|im_end|>"]).complete(MSGS, stop=["X"])
    assert done.text == "a" and done.stop_sequence == "<|im_end|>"
    assert fake.requests[0]["stop"] == ["X", "<|im_end|>"]


def test_env_base_url(monkeypatch: pytest.MonkeyPatch, fake: FakeOpenAI) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", fake.url)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    llm = OpenAICompatLLM("m")
    assert llm.base_url == fake.url and llm.name == "openai:m"
    assert llm.complete(MSGS).text == "ok"


@pytest.mark.slow
def test_real_llama_cpp_server(tmp_path: Path) -> None:
    pytest.importorskip("llama_cpp.server")
    from codeact.llm.models import pull

    model = pull("smollm2-135m", progress=False)
    port = free_port()
    log = open(tmp_path / "server.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--host",
         "127.0.0.1", "--port", str(port), "--n_ctx", "1024", "--n_threads", "2"],
        stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert proc.poll() is None, (tmp_path / "server.log").read_text()[-2000:]
                assert time.monotonic() < deadline, "llama_cpp.server did not start"
                time.sleep(0.5)
        llm = OpenAICompatLLM("smollm2", base_url=f"http://127.0.0.1:{port}/v1")
        msgs = [{"role": "user", "content": "Count from 1 to 20, separated by commas."}]
        items = list(llm.stream(msgs, max_tokens=24,
                                stop=["a1", "a2", "a3", "a4", "</execute>"]))
        deltas, done = split(items)
        assert len(deltas) >= 2  # really streamed
        assert "".join(deltas) == done.text and done.text.strip()
        assert done.prompt_tokens > 0 and done.completion_tokens > 0
        assert done.finish_reason in ("stop", "length")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def test_a_seed_is_sent_only_when_asked(fake: FakeOpenAI) -> None:
    fake.script = [["a"], ["b"]]
    llm = llm_for(fake)
    list(llm.stream(MSGS, temperature=0.7, seed=2001))
    list(llm.stream(MSGS))
    assert fake.requests[0]["seed"] == 2001 and "seed" not in fake.requests[1]
    assert llm.can_vary
