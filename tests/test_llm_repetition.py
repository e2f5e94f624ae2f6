"""Loops at the end of generated text, and text that only looks repetitive."""

from codeact.llm.repetition import repeats_at_end


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
