"""Client-side stop sequences: nothing of a stop (not even a partial one) is emitted."""

from codeact.llm.stops import StopScanner, truncate_at_stop


def run(scanner: StopScanner, deltas: list[str]) -> tuple[list[str], str]:
    out = [scanner.feed(d) for d in deltas]
    return out, scanner.flush()


def test_truncate_picks_earliest_then_longest() -> None:
    assert truncate_at_stop("a</x>b</y>", ["</y>", "</x>"]) == ("a", "</x>")
    assert truncate_at_stop("abcd", ["bc", "bcd"]) == ("a", "bcd")
    assert truncate_at_stop("abc", []) == ("abc", None)
    assert truncate_at_stop("abc", [""]) == ("abc", None)


def test_stop_split_across_deltas_is_never_emitted() -> None:
    s = StopScanner(["</execute>"])
    out, tail = run(s, ["print(1)\n</ex", "ecu", "te>", " more"])
    assert "".join(out) + tail == "print(1)\n"
    assert all("<" not in piece for piece in out)
    assert s.stopped == "</execute>"


def test_false_alarm_prefix_is_released() -> None:
    s = StopScanner(["</execute>"])
    out, tail = run(s, ["a </e", "mph> b"])
    assert "".join(out) + tail == "a </emph> b"
    assert s.stopped is None


def test_held_back_tail_is_flushed_at_end() -> None:
    s = StopScanner(["</execute>"])
    out, tail = run(s, ["x </exec"])
    assert out == ["x "] and tail == "</exec"


def test_feed_after_stop_returns_nothing() -> None:
    s = StopScanner(["STOP"])
    assert s.feed("aSTOPb") == "a"
    assert s.feed("more") == ""
    assert s.flush() == ""


def test_char_by_char_matches_whole_truncation() -> None:
    text = "Let me compute.\n<execute>\nprint(2)\n</execute>\nObservation: 2"
    stops = ["</execute>", "</solution>", "<|im_end|>"]
    s = StopScanner(stops)
    out, tail = run(s, list(text))
    assert "".join(out) + tail == truncate_at_stop(text, stops)[0]
    assert s.stopped == "</execute>"
