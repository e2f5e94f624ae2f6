"""OpenAI-compatible HTTP backend (vLLM, Ollama, llama.cpp server, TGI, hosted APIs).

Uses the official ``openai`` SDK with its own retries turned off: this module retries
429, 5xx and timeouts itself, with exponential backoff (honouring ``Retry-After``), for a
configurable number of attempts, and only before the first text has been streamed.
A server that cannot be reached gives one ``LLMError`` line, not a traceback.

Many servers accept at most 4 stop sequences: the first ``max_server_stops`` go to the
server, and every stop is also applied client-side (which is also how ``stop_sequence``
is known), closing the stream as soon as one appears. ``prompt_seconds`` is the time to the
first streamed token (the server's prompt processing plus the network round trip), and
``cached_prompt_tokens`` comes from ``usage.prompt_tokens_details`` when the server sends it.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator, Sequence
from typing import Any, cast
from urllib.parse import urlsplit, urlunsplit

import httpx  # a dependency of codeact itself (and of the openai SDK)

from .base import BaseLLM, LLMError, Message, StreamEnd, StreamRequest

DEFAULT_BASE_URL = "https://api.openai.com/v1"
RETRY_STATUS = {408, 409, 429, 500, 502, 503, 504}


def _without_credentials(url: str) -> str:
    """``url`` as an error message may show it: ``user:password@`` blanked."""
    parts = urlsplit(url)
    if parts.password is None and parts.username is None:
        return url
    return urlunsplit(parts._replace(netloc="[credentials]@" + parts.netloc.rpartition("@")[2]))


def _first_line(text: object) -> str:
    lines = [ln.strip() for ln in str(text).splitlines() if ln.strip()]
    return lines[0] if lines else ""


def _status_message(exc: Any) -> str:
    """The server's own error message of an ``APIStatusError``, first line only."""
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        error = body.get("error")
        inner = error if isinstance(error, dict) else body
        msg = inner.get("message") or inner.get("detail")
        if msg:
            return _first_line(msg)
    msg = _first_line(getattr(exc, "message", exc))
    return re.sub(r"^Error code: \d+ - ", "", msg)


class OpenAICompatLLM(BaseLLM):
    """Chat completions over HTTP with the ``openai`` SDK, streaming."""

    in_process = False  # a server: calls may overlap

    def __init__(
        self,
        model: str,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        max_attempts: int = 4,
        backoff: float = 0.5,
        max_backoff: float = 8.0,
        timeout: float = 120.0,
        connect_timeout: float = 10.0,
        max_server_stops: int = 4,
        stop_tokens: Sequence[str] = (),
        include_usage: bool = True,
        extra_body: dict[str, Any] | None = None,
    ):
        import openai

        self.model = model
        self.name = f"openai:{model}"
        self.base_url = (base_url or os.environ.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL)
        self.base_url = self.base_url.rstrip("/")
        self.max_attempts = max(1, max_attempts)
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.max_server_stops = max_server_stops
        self.stop_tokens = list(stop_tokens)
        self.include_usage = include_usage
        self.extra_body = dict(extra_body or {})
        key = api_key or os.environ.get("OPENAI_API_KEY") or "not-needed"
        self._openai = openai
        self.client = openai.OpenAI(
            base_url=self.base_url,
            api_key=key,
            max_retries=0,
            # openai 3.x annotates httpx2's Timeout; it accepts httpx's (tested)
            timeout=cast(Any, httpx.Timeout(timeout, connect=connect_timeout)),
        )

    # ------------------------------------------------------------------ errors

    def _retry_delay(self, exc: Exception, attempt: int) -> float | None:
        """Seconds to wait before retrying after ``exc``; None when not retryable."""
        o = self._openai
        if isinstance(exc, o.APITimeoutError):
            pass
        elif isinstance(exc, o.APIStatusError):
            if exc.status_code not in RETRY_STATUS and exc.status_code < 500:
                return None
            retry_after = exc.response.headers.get("retry-after") if exc.response else None
            if retry_after:
                try:
                    return min(max(0.0, float(retry_after)), self.max_backoff)
                except ValueError:
                    pass
        else:
            return None
        return min(self.backoff * (2 ** attempt), self.max_backoff)

    def _as_llm_error(self, exc: Exception) -> LLMError:
        o = self._openai
        where = _without_credentials(self.base_url)
        if isinstance(exc, o.APITimeoutError):
            return LLMError(f"LLM server at {where} timed out")
        if isinstance(exc, o.APIConnectionError):
            cause = exc.__cause__ or exc
            return LLMError(f"cannot reach LLM server at {where}: {_first_line(cause)}")
        if isinstance(exc, o.AuthenticationError):
            return LLMError(f"LLM server at {where} rejected the API key (HTTP 401)")
        if isinstance(exc, o.NotFoundError):
            return LLMError(f"LLM server at {where}: model {self.model!r} or endpoint not "
                            f"found (HTTP 404): {_status_message(exc)}")
        if isinstance(exc, o.APIStatusError):
            return LLMError(f"LLM server at {where} returned HTTP {exc.status_code}: "
                            f"{_status_message(exc)}")
        return LLMError(f"LLM request to {where} failed: {type(exc).__name__}: "
                        f"{_first_line(exc)}")

    # ------------------------------------------------------------------ request

    def _open(self, messages: list[Message], stop: list[str], max_tokens: int,
              temperature: float, seed: int | None = None) -> Any:
        """Start the streaming request, retrying what is worth retrying."""
        kwargs: dict[str, Any] = dict(model=self.model, messages=messages, stream=True,
                                      max_tokens=max_tokens, temperature=temperature)
        if seed is not None:  # OpenAI, vLLM, llama.cpp server and Ollama's /v1 take it
            kwargs["seed"] = seed
        if stop and self.max_server_stops > 0:
            kwargs["stop"] = stop[: self.max_server_stops]
        if self.extra_body:
            kwargs["extra_body"] = self.extra_body
        attempt = 0
        while True:
            if self.include_usage:
                kwargs["stream_options"] = {"include_usage": True}
            else:
                kwargs.pop("stream_options", None)
            try:
                return self.client.chat.completions.create(**kwargs)
            except self._openai.BadRequestError as exc:
                if self.include_usage and "stream_options" in str(exc.message):
                    self.include_usage = False  # an older server: ask without it
                    continue
                raise self._as_llm_error(exc) from None
            except self._openai.OpenAIError as exc:
                delay = self._retry_delay(exc, attempt)
                attempt += 1
                if delay is None or attempt >= self.max_attempts:
                    raise self._as_llm_error(exc) from None
                time.sleep(delay)

    def _raw_stream(self, messages: list[Message],
                    request: StreamRequest) -> Iterator[str | StreamEnd]:
        response = self._open(messages, request.stop, request.max_tokens, request.temperature,
                              request.seed)
        finish = "stop"
        usage = None
        server_stop: str | None = None
        try:
            for chunk in response:
                if getattr(chunk, "usage", None):
                    usage = chunk.usage
                if not chunk.choices:
                    continue
                choice = chunk.choices[0]
                delta = choice.delta.content if choice.delta else None
                if delta:
                    yield delta
                    if request.stopped is not None:
                        break
                if choice.finish_reason:
                    finish = choice.finish_reason
                    reason = getattr(choice, "stop_reason", None)  # vLLM names the stop
                    if isinstance(reason, str) and reason in request.stop:
                        server_stop = reason
        except (self._openai.OpenAIError, httpx.HTTPError) as exc:
            raise self._as_llm_error(exc) from None
        finally:
            response.close()
        yield StreamEnd(
            finish_reason=finish,
            stop_sequence=server_stop,
            prompt_tokens=usage.prompt_tokens if usage else None,
            completion_tokens=usage.completion_tokens if usage else None,
            cached_prompt_tokens=_cached_tokens(usage),
        )


def _cached_tokens(usage: Any) -> int:
    details = getattr(usage, "prompt_tokens_details", None) if usage else None
    return int(getattr(details, "cached_tokens", 0) or 0) if details else 0
