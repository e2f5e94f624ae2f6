"""``litellm`` backend (extra ``litellm``): any provider litellm supports, streaming.

``litellm`` is imported only when the backend is built, with a clear error if missing.
Stops are sent to the provider and also applied client-side (for providers that cap or
ignore them, and to know which stop ended the reply).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from .base import BaseLLM, LLMError, Message, StreamEnd, StreamRequest


def _import_litellm() -> Any:
    try:
        # an optional extra, not installed where pyright runs in CI
        import litellm  # pyright: ignore[reportMissingImports]
    except ImportError as exc:
        raise LLMError("the litellm backend needs litellm: pip install 'codeact[litellm]'") from exc
    return litellm


class LiteLLM(BaseLLM):
    """``litellm.completion(model=..., stream=True)`` behind the LLM protocol."""

    in_process = False  # a remote provider: calls may overlap

    def __init__(
        self,
        model: str,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        max_attempts: int = 4,
        max_server_stops: int = 4,
        stop_tokens: Sequence[str] = (),
        **kwargs: Any,
    ):
        self._litellm = _import_litellm()
        self.model = model
        self.name = f"litellm:{model}"
        self.base_url = base_url
        self.api_key = api_key
        self.max_attempts = max(1, max_attempts)
        self.max_server_stops = max_server_stops
        self.stop_tokens = list(stop_tokens)
        self.kwargs = kwargs

    def _raw_stream(self, messages: list[Message],
                    request: StreamRequest) -> Iterator[str | StreamEnd]:
        kwargs: dict[str, Any] = dict(model=self.model, messages=messages, stream=True,
                                      max_tokens=request.max_tokens,
                                      temperature=request.temperature,
                                      num_retries=self.max_attempts - 1, **self.kwargs)
        if request.stop and self.max_server_stops > 0:
            kwargs["stop"] = request.stop[: self.max_server_stops]
        if request.seed is not None:
            kwargs["seed"] = request.seed
        if self.base_url:
            kwargs["api_base"] = self.base_url
        if self.api_key:
            kwargs["api_key"] = self.api_key
        finish = "stop"
        try:
            response = self._litellm.completion(**kwargs)
            for chunk in response:
                choices = getattr(chunk, "choices", None) or []
                if not choices:
                    continue
                delta = getattr(choices[0].delta, "content", None)
                if delta:
                    yield delta
                    if request.stopped is not None:
                        break
                if getattr(choices[0], "finish_reason", None):
                    finish = choices[0].finish_reason
        except LLMError:
            raise
        except Exception as exc:  # noqa: BLE001 - provider errors become one line
            line = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            raise LLMError(f"litellm {self.model}: {type(exc).__name__}: {line}") from exc
        yield StreamEnd(finish_reason=finish)
