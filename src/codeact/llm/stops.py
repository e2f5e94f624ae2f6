"""Client-side stop sequences for streamed text.

:class:`StopScanner` receives text deltas and releases only text that can no longer be
the start of a stop sequence, so a partial stop (``"</exe"``) is never emitted, and the
stop text itself never is. Backends use it when the engine cannot apply all the stops
(an OpenAI-compatible server capped at 4) or reports no stop at all (token streams).
"""

from __future__ import annotations

from collections.abc import Iterable


def truncate_at_stop(text: str, stop: Iterable[str]) -> tuple[str, str | None]:
    """Cut ``text`` at the earliest stop sequence: ``(text_before, stop_or_None)``."""
    best: tuple[int, int, str] | None = None
    for s in stop:
        if not s:
            continue
        i = text.find(s)
        if i >= 0 and (best is None or (i, -len(s)) < (best[0], best[1])):
            best = (i, -len(s), s)
    if best is None:
        return text, None
    return text[: best[0]], best[2]


class StopScanner:
    """Feed deltas; get back the text that is safe to emit and, once, the stop hit."""

    def __init__(self, stop: Iterable[str]):
        self.stop = [s for s in dict.fromkeys(stop) if s]
        self._held = ""
        self.stopped: str | None = None

    def feed(self, delta: str) -> str:
        """Add ``delta``; return the newly safe text (empty once a stop was hit)."""
        if self.stopped is not None:
            return ""
        buf = self._held + delta
        before, hit = truncate_at_stop(buf, self.stop)
        if hit is not None:
            self.stopped = hit
            self._held = ""
            return before
        keep = self._partial_suffix(buf)
        self._held = buf[len(buf) - keep:] if keep else ""
        return buf[: len(buf) - keep]

    def flush(self) -> str:
        """The held-back tail at the end of the stream (it was not a stop after all)."""
        rest, self._held = self._held, ""
        return rest if self.stopped is None else ""

    def _partial_suffix(self, buf: str) -> int:
        """Length of the longest suffix of ``buf`` that is a proper prefix of a stop."""
        longest = 0
        for s in self.stop:
            for n in range(min(len(s) - 1, len(buf)), longest, -1):
                if buf.endswith(s[:n]):
                    longest = n
                    break
        return longest
