"""Model backends for the chat app: one instance per model spec, shared by conversations.

In-process backends (llama.cpp, transformers: ``in_process = True`` on the class) hold one
model in memory and cannot serve two generations at once, so they are wrapped in
:class:`~codeact.llm.serialized.SerializedLLM`; HTTP backends (``openai:``, ``litellm:``)
run concurrently. The decision is the backend class's, through the LLM registry.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from codeact.llm.serialized import serialize

__all__ = ["LLMCache"]


class LLMCache:
    """``cache(spec)`` builds the backend for ``spec`` once (thread-safe) and reuses it."""

    def __init__(self, build: Callable[[str], Any] | None = None,
                 options: dict[str, Any] | None = None) -> None:
        self._build = build
        self._options = dict(options or {})
        self._llms: dict[str, Any] = {}
        self._lock = threading.Lock()

    def _make(self, spec: str) -> Any:
        if self._build is not None:
            return self._build(spec)
        from codeact.llm import make_llm

        return serialize(make_llm(spec, progress=False, **self._options))

    def __call__(self, spec: str) -> Any:
        with self._lock:
            llm = self._llms.get(spec)
            if llm is None:
                llm = self._llms[spec] = self._make(spec)
            return llm
