"""First-token latency and tokens/s of ``codeact serve``'s OpenAI-compatible endpoint.

The server runs in this process under uvicorn on 127.0.0.1 (a free port), with real
sandboxed kernels; the client is the official ``openai`` SDK, streaming. Each request is
first a new conversation (no ``X-Codeact-Conversation`` key), so every first token also
pays for handing out a kernel ("new conv."); then the same requests are sent as
follow-ups in one conversation whose kernel is already up ("follow-up"). Two prompts:

* ``chat``: a plain reply (no code);
* ``code``: one code cell, its output, then the answer (two model calls).

First-token latency: from sending the request to the first content delta. Tokens/s:
the run's completion tokens (``usage``, as the backend counts them) over the time from
the first content delta to the end of the stream. With ``--model scripted`` (the default) the model
answers instantly, so the figures are the endpoint's own overhead and ceiling;
``--chunk-delay`` makes it stream at a chosen speed instead.

    python benchmarks/openai_endpoint.py                      # scripted, 20 requests each
    python benchmarks/openai_endpoint.py --chunk-delay 0.02   # a 50 chunks/s "model"
    python benchmarks/openai_endpoint.py --model qwen2.5-coder-1.5b -n 5   # default model
    python benchmarks/openai_endpoint.py --url http://127.0.0.1:8000 --token T --model M
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai

from codeact.llm.base import StreamEnd, StreamRequest
from codeact.llm.scripted import ScriptedLLM

PROSE = ("Sure. Here is a short explanation of how the agent works: the model writes "
         "Python code, a sandboxed Jupyter kernel runs it, and the output comes back as "
         "the next observation, until the model gives its final answer. ") * 3
PROMPTS = {"chat": "Explain briefly how you work.",
           "code": "Compute the sum of the squares of 1..100 with Python."}


def reply(messages: list[dict[str, Any]]) -> str:
    """The scripted model: prose for ``chat``; a cell then the answer for ``code``."""
    last = str(messages[-1]["content"])
    if last.startswith("Observation:"):
        return "The sum is printed above.\n<solution>338350</solution>"
    if "Python" in last:
        return ("I will compute it.\n<execute>\ntotal = sum(i * i for i in range(1, 101))\n"
                "print(total)\n</execute>")
    return PROSE


class PacedLLM(ScriptedLLM):
    """The scripted model, sleeping ``delay`` seconds before each streamed chunk."""

    def __init__(self, delay: float, name: str) -> None:
        super().__init__(reply, chunk_size=4, name=name)
        self.delay = delay

    def _raw_stream(self, messages: list[Any], request: StreamRequest
                    ) -> Iterator[str | StreamEnd]:
        for item in super()._raw_stream(messages, request):
            if self.delay and isinstance(item, str):
                time.sleep(self.delay)
            yield item


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def one_request(client: openai.OpenAI, model: str, prompt: str, key: str | None
                ) -> tuple[float, float, int]:
    """(first-token seconds, seconds from the first delta to the stream's end, completion
    tokens). ``key`` None: a conversation of its own (its kernel closed afterwards)."""
    t0 = time.perf_counter()
    first = None
    tokens = 0
    headers = {"X-Codeact-Conversation": key} if key else {}
    stream = client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": prompt}], stream=True,
        stream_options={"include_usage": True}, extra_headers=headers)
    for chunk in stream:
        if first is None and chunk.choices and chunk.choices[0].delta.content:
            first = time.perf_counter()
        if chunk.usage is not None:
            tokens = chunk.usage.completion_tokens
    end = time.perf_counter()
    if first is None:
        raise RuntimeError("the reply had no content")
    return first - t0, end - first, tokens


def run_prompt(client: openai.OpenAI, model: str, name: str, n: int,
               key: str | None) -> None:
    ttft: list[float] = []
    rates: list[float] = []
    tokens_total = 0
    gen_total = 0.0
    for _ in range(n):
        first, gen, tokens = one_request(client, model, PROMPTS[name], key)
        ttft.append(first)
        tokens_total += tokens
        gen_total += gen
        if gen > 0:
            rates.append(tokens / gen)
    overall = tokens_total / gen_total if gen_total > 0 else float("inf")
    where = "follow-up" if key else "new conv."
    print(f"{name:5s} {where:9s} n={n:3d}  first token p50 {percentile(ttft, 0.5) * 1000:7.1f} ms  "
          f"p95 {percentile(ttft, 0.95) * 1000:7.1f} ms  "
          f"tokens/s {overall:8.1f} (p50 per request "
          f"{statistics.median(rates) if rates else float('nan'):8.1f})  "
          f"tokens/request {tokens_total / n:.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="The default model: python benchmarks/openai_endpoint.py "
               "--model qwen2.5-coder-1.5b -n 5")
    parser.add_argument("--model", default="scripted",
                        help="'scripted' (default) or any model spec codeact serve takes")
    parser.add_argument("-n", type=int, default=20, help="requests per prompt")
    parser.add_argument("--prompts", nargs="+", default=["chat", "code"],
                        choices=sorted(PROMPTS))
    parser.add_argument("--chunk-delay", type=float, default=0.0,
                        help="scripted model: seconds before each 4-character chunk")
    parser.add_argument("--sandbox", default="bwrap", choices=["bwrap", "none"])
    parser.add_argument("--url", help="benchmark a running server instead of starting one")
    parser.add_argument("--token", default=None, help="its access token (--url)")
    args = parser.parse_args()

    if args.url:
        bench(args, args.url.rstrip("/"), args.token or "none")
        return
    import uvicorn

    from codeact.server.app import create_app
    from codeact.server.llms import LLMCache

    with tempfile.TemporaryDirectory(prefix="codeact-openai-bench-") as tmp:
        if args.model == "scripted":
            factory: Any = LLMCache(build=lambda spec: PacedLLM(args.chunk_delay, spec))
        else:
            factory = LLMCache()
        app = create_app(db=f"sqlite:///{tmp}/bench.db", data_dir=Path(tmp) / "data",
                         models=[args.model], llm_factory=factory, sandbox=args.sandbox,
                         max_sessions=4, pool_size=1, idle_timeout=30)
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0,
                                               log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            if not thread.is_alive():
                raise SystemExit("the server did not start")
            time.sleep(0.05)
        port = server.servers[0].sockets[0].getsockname()[1]
        try:
            bench(args, f"http://127.0.0.1:{port}", "none")
        finally:
            server.should_exit = True
            thread.join(60)


def bench(args: argparse.Namespace, url: str, token: str) -> None:
    print(f"model {args.model}  server {url}  chunk delay {args.chunk_delay}s")
    with openai.OpenAI(base_url=f"{url}/v1", api_key=token, max_retries=0,
                       timeout=600) as client:
        one_request(client, args.model, PROMPTS["chat"], None)  # loads the model
        tag = str(int(time.time()))
        for name in args.prompts:
            run_prompt(client, args.model, name, args.n, None)
            key = f"bench-{tag}-{name}"
            one_request(client, args.model, PROMPTS[name], key)  # its kernel, warm
            run_prompt(client, args.model, name, args.n, key)


if __name__ == "__main__":
    main()
