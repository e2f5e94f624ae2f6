"""Loops at the end of generated text, and text that only looks repetitive."""

from codeact.llm.repetition import LoopWatch, repeats_at_end


def test_a_phrase_repeated_to_the_end_is_a_loop():
    assert repeats_at_end("Which stops? " + "Chapel Row, " * 40)
    assert repeats_at_end("x" * 500)
    para = "The moon has phases. They repeat every month, as the moon orbits the earth.\n"
    assert repeats_at_end("Intro.\n" + para * 8)


def test_ordinary_text_and_short_or_ended_repeats_are_not():
    words = " ".join(f"word{i}" for i in range(400))
    assert not repeats_at_end(words)
    assert not repeats_at_end("Chapel Row, " * 5)  # too few, too short
    assert not repeats_at_end("Chapel Row, " * 40 + "and then a real ending of the list.")
    table = "| a | b |\n|---|---|\n" + "".join(f"| {i} | {i * i} |\n" for i in range(60))
    assert not repeats_at_end(table)
    assert not repeats_at_end("")


def test_a_loop_watch_says_so_once_the_streamed_text_loops():
    watch = LoopWatch(check_every=64)
    said = [watch.feed(piece) for piece in ["Which stops? ", *["Chapel Row, "] * 60]]
    first = said.index(True)
    assert not any(said[:first]) and 34 <= first <= 45  # 400 characters, then a check
    assert watch.text.startswith("Which stops? Chapel Row, ")
    quiet = LoopWatch(check_every=64)
    assert not any(quiet.feed(f"line {i}\n") for i in range(200))
