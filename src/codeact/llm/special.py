"""Message text cannot forge a chat template's turn markers.

A local backend renders the chat template to one string and tokenizes it with special
tokens recognised, so ``<|im_end|>\\n<|im_start|>system`` inside a message (a tool result,
kernel output, a file the agent printed, an API client's text) would become a real turn
boundary: a forged system or user turn. Before rendering, every control token's text inside
a message gets a zero-width space after its first character, so it tokenizes as plain
text; the model sees the same characters, and messages without such text are unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

__all__ = ["ZERO_WIDTH_SPACE", "defuse_messages", "defuse_text", "hf_markers", "marker_pattern"]

ZERO_WIDTH_SPACE = "\u200b"


def marker_pattern(specials: Iterable[str]) -> re.Pattern[str] | None:
    """One pattern for the control tokens' texts (longest first); None when there are
    none worth guarding (empty or one-character texts)."""
    texts = sorted({s for s in specials if s and len(s) > 1}, key=len, reverse=True)
    return re.compile("|".join(map(re.escape, texts))) if texts else None


def defuse_text(text: str, pattern: re.Pattern[str] | None) -> str:
    """``text`` with every control token's text broken by a zero-width space."""
    if pattern is None:
        return text
    return pattern.sub(lambda m: m[0][0] + ZERO_WIDTH_SPACE + m[0][1:], text)


def defuse_messages(messages: Sequence[Any], pattern: re.Pattern[str] | None
                    ) -> list[dict[str, Any]]:
    """Copies of chat messages with :func:`defuse_text` applied to their text (a string
    content, or the ``text`` of content parts)."""
    out = []
    for message in messages:
        m = dict(message)
        content = m.get("content")
        if isinstance(content, str):
            m["content"] = defuse_text(content, pattern)
        elif isinstance(content, list):
            m["content"] = [{**p, "text": defuse_text(p["text"], pattern)}
                            if isinstance(p, dict) and isinstance(p.get("text"), str) else p
                            for p in content]
        out.append(m)
    return out


def hf_markers(tokenizer: Any) -> re.Pattern[str] | None:
    """:func:`marker_pattern` of a Hugging Face tokenizer's special tokens (added ones
    marked special included: ChatML's turn markers are among them)."""
    added = getattr(tokenizer, "added_tokens_decoder", {}) or {}
    return marker_pattern([*getattr(tokenizer, "all_special_tokens", []),
                           *(str(getattr(t, "content", t)) for t in added.values()
                             if getattr(t, "special", False))])
