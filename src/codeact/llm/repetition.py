"""Whether generated text has fallen into a loop: its end is one piece repeated.

Small models at temperature 0 sometimes repeat a phrase until the token budget runs out
(seen: "Chapel Row, Chapel Row, ..." for 512 tokens, a whole agent turn). A reply that
loops never ends, so a stream can stop there: nothing after the loop starts is worth
generating.
"""

from __future__ import annotations

MIN_REPEATS = 8  # a piece must repeat at least this often in a row ...
MIN_CHARS = 400  # ... over at least this many characters (one long line twice is no loop)
MAX_UNIT = 200  # the longest repeated piece looked for, in characters


def repeats_at_end(text: str, *, min_repeats: int = MIN_REPEATS, min_chars: int = MIN_CHARS,
                   max_unit: int = MAX_UNIT) -> bool:
    """True when ``text`` ends with one piece of at most ``max_unit`` characters repeated
    ``min_repeats`` times or more, over ``min_chars`` characters or more."""
    for size in range(1, min(max_unit, len(text) // min_repeats) + 1):
        times = max(min_repeats, -(-min_chars // size))
        span = times * size
        if span > len(text):
            continue
        tail = text[-span:]
        if tail == tail[-size:] * times:
            return True
    return False


LOOPED = "loop"  # the finish_reason of a reply stopped because it looped
CHECK_EVERY = 256  # a stream is checked for a loop each time this many characters arrive


class LoopWatch:
    """Watches a streamed reply for a loop: :meth:`feed` each piece; it says True once the
    text so far ends in one (checked every :data:`CHECK_EVERY` characters, so a long
    reply costs a few checks, not one per token)."""

    def __init__(self, check_every: int = CHECK_EVERY) -> None:
        self._parts: list[str] = []
        self._length = 0
        self._checked = 0
        self._every = check_every

    @property
    def text(self) -> str:
        """Everything fed so far."""
        return "".join(self._parts)

    def feed(self, piece: str) -> bool:
        """Add ``piece``; True when the text now ends in a loop."""
        self._parts.append(piece)
        self._length += len(piece)
        if self._length - self._checked < self._every:
            return False
        self._checked = self._length
        return repeats_at_end(self.text)
