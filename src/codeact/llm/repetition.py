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
