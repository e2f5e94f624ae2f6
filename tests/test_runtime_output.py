"""BoundedText keeps head and tail and counts what it dropped."""

from codeact.runtime.output import BoundedText, strip_ansi


def test_small_output_is_kept_whole():
    b = BoundedText(100)
    b.append("hello ")
    b.append("world")
    assert b.value() == "hello world"
    assert not b.truncated


def test_large_output_keeps_head_and_tail_and_counts_dropped():
    b = BoundedText(10)
    text = "".join(str(i % 10) for i in range(1000))
    for i in range(0, 1000, 7):
        b.append(text[i:i + 7])
    v = b.value()
    assert v.startswith(text[:5])
    assert v.endswith(text[-5:])
    assert b.dropped == 990
    assert "990 characters dropped" in v


def test_one_huge_chunk_is_bounded():
    b = BoundedText(1000)
    b.append("a" * 10_000_000)
    assert b.dropped == 10_000_000 - 1000
    assert len(b.value()) < 1200


def test_dropped_elsewhere_is_counted():
    b = BoundedText(10)
    b.append("abcde")
    b.add_dropped(50)
    b.append("vwxyz")
    assert b.truncated and "50 characters dropped" in b.value()


def test_strip_ansi():
    assert strip_ansi("\x1b[0;31mValueError\x1b[0m: x") == "ValueError: x"
