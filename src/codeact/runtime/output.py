"""Bounded text capture: keep the head and the tail, count what was dropped."""

from __future__ import annotations

import collections
import re

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")


def strip_ansi(text: str) -> str:
    return _ANSI.sub("", text)


class BoundedText:
    """Accumulates text but never holds more than about ``limit`` characters.

    The first ``limit // 2`` characters and the last ``limit - limit // 2`` are kept;
    everything between is counted in ``dropped`` and replaced by a marker on ``value()``.
    """

    def __init__(self, limit: int) -> None:
        self.limit = max(0, int(limit))
        self.head_limit = self.limit // 2
        self.tail_limit = self.limit - self.head_limit
        self._head: list[str] = []
        self._head_len = 0
        self._tail: collections.deque[str] = collections.deque()
        self._tail_len = 0
        self.dropped = 0

    @property
    def truncated(self) -> bool:
        return self.dropped > 0

    def add_dropped(self, n: int) -> None:
        """Characters dropped before they reached us (counted, not seen)."""
        if n > 0:
            # what we hold in the tail so far came before the dropped part: it moves out
            self.dropped += n

    def append(self, text: str) -> None:
        if not text:
            return
        room = self.head_limit - self._head_len
        if room > 0:
            part = text[:room]
            self._head.append(part)
            self._head_len += len(part)
            text = text[room:]
            if not text:
                return
        if len(text) >= self.tail_limit:
            self.dropped += self._tail_len + len(text) - self.tail_limit
            keep = text[len(text) - self.tail_limit:] if self.tail_limit else ""
            self._tail = collections.deque([keep] if keep else [])
            self._tail_len = self.tail_limit
            return
        self._tail.append(text)
        self._tail_len += len(text)
        while self._tail_len > self.tail_limit:
            first = self._tail[0]
            excess = self._tail_len - self.tail_limit
            if len(first) <= excess:
                self._tail.popleft()
                self._tail_len -= len(first)
                self.dropped += len(first)
            else:
                self._tail[0] = first[excess:]
                self._tail_len -= excess
                self.dropped += excess

    def value(self) -> str:
        head = "".join(self._head)
        tail = "".join(self._tail)
        if not self.dropped:
            return head + tail
        marker = (f"\n[... output truncated: {self.dropped:,} characters dropped "
                  f"(limit {self.limit:,}) ...]\n")
        return head + marker + tail
