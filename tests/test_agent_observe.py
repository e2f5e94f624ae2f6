"""Observation text: output, values, errors with trimmed tracebacks, markers."""

from codeact.agent.observe import (
    NOTES_HEADING,
    compose_observation,
    render_observation,
    trim_traceback,
    turns_left_note,
)
from codeact.runtime.observation import ExecutionError, Observation

IPYTHON_TB = """\
\x1b[0;31m---------------------------------------------------------------------------\x1b[0m
\x1b[0;31mZeroDivisionError\x1b[0m                         Traceback (most recent call last)
Cell \x1b[0;32mIn[3], line 2\x1b[0m
\x1b[1;32m      1\x1b[0m x \x1b[38;5;241m=\x1b[39m \x1b[38;5;241m1\x1b[39m
\x1b[0;32m----> 2\x1b[0m \x1b[43mf\x1b[49m\x1b[43m(\x1b[49m\x1b[43mx\x1b[49m\x1b[43m)\x1b[49m
Cell In[2], line 2, in f(v)
      1 def f(v):
----> 2     return helper(v)
File /usr/lib/python3/dist-packages/lib.py:10, in helper(v)
      8 def helper(v):
      9     # many library lines
---> 10     return v / 0
ZeroDivisionError: division by zero"""


def test_trim_keeps_own_cells_and_exception():
    out = trim_traceback(IPYTHON_TB)
    assert "\x1b" not in out
    assert "Cell In[3], line 2" in out and "Cell In[2], line 2" in out
    assert out.endswith("ZeroDivisionError: division by zero")
    assert "-----" not in out
    # the library frame that raised: its header and its raising line, not its source
    assert "File /usr/lib/python3/dist-packages/lib.py:10, in helper(v)\n" \
        "---> 10     return v / 0\nZeroDivisionError" in out
    assert "many library lines" not in out


def test_error_in_the_models_own_cell_is_stated_once():
    tb = ("-" * 75 + "\nZeroDivisionError                         Traceback (most recent call "
          "last)\nCell In[5], line 2\n      1 x = 1\n----> 2 x / 0\n\n"
          "ZeroDivisionError: division by zero")
    out = trim_traceback(tb)
    assert out == ("Cell In[5], line 2\n      1 x = 1\n----> 2 x / 0\n"
                   "ZeroDivisionError: division by zero")
    obs = Observation(error=ExecutionError("ZeroDivisionError", "division by zero", tb))
    assert render_observation(obs).count("ZeroDivisionError: division by zero") == 1


def test_a_comprehension_frame_that_echoes_its_cell_line_is_dropped():
    tb = ("-" * 75 + "\nValueError      Traceback (most recent call last)\n"
          "Cell In[1], line 4\n      3 ys = [1, 2]\n----> 4 zs = [(a, b) for a, b, c in p]\n"
          "      5 print(zs)\n\nCell In[1], line 4, in <listcomp>(.0)\n----> 4 import math\n\n"
          "ValueError: not enough values to unpack (expected 3, got 2)")
    assert trim_traceback(tb) == (
        "Cell In[1], line 4\n      3 ys = [1, 2]\n----> 4 zs = [(a, b) for a, b, c in p]\n"
        "      5 print(zs)\nValueError: not enough values to unpack (expected 3, got 2)")
    # a comprehension frame on another line (a function's body) stays
    other = tb.replace("Cell In[1], line 4, in <listcomp>", "Cell In[1], line 9, in <listcomp>")
    assert "line 9, in <listcomp>" in trim_traceback(other)


def test_the_kernel_traceback_of_a_comprehension_shows_the_right_line(session):
    obs = session.execute("import math\n\nys = [1, 2]\nzs = [(a, b) for a, b, c in [(1, 2)]]")
    text = render_observation(obs)
    assert "----> 4 zs = [(a, b)" in text and "----> 4 import math" not in text


def test_render_everything():
    obs = Observation(stdout="hello\n", stderr="warn\n", result="3", images=[b"png"],
                      error=ExecutionError("ZeroDivisionError", "division by zero",
                                           IPYTHON_TB))
    text = render_observation(obs)
    assert text.startswith("hello\n[stderr]\nwarn\nOut: 3\n"
                           "[1 image(s) displayed; the user sees them]")
    assert text.endswith("ZeroDivisionError: division by zero")


def test_render_empty_and_restart_and_timeout():
    assert render_observation(Observation()) == "[Executed successfully with no output.]"
    text = render_observation(Observation(restarted=True, restart_reason="kernel died"))
    assert "variables and imports were lost" in text and "kernel died" in text
    assert "timed out" in render_observation(Observation(timed_out=True, duration=5))


def test_error_without_traceback():
    text = render_observation(Observation(error=ExecutionError("ValueError", "bad")))
    assert text == "ValueError: bad"


def test_turns_left_only_near_the_end():
    assert turns_left_note(9) is None and turns_left_note(3) is None
    assert turns_left_note(2) == "You have 2 turns left."
    assert "final answer now" in turns_left_note(1)
    assert "no turns left" in turns_left_note(0)


def test_notes_come_apart_from_the_output():
    assert compose_observation("396", []) == "396"
    text = compose_observation("You have 9 turns left.", ["Note: a hint."])
    output, notes = text.split("\n\n" + NOTES_HEADING + "\n")
    assert output == "You have 9 turns left." and notes == "Note: a hint."
    assert compose_observation(None, ["only a note"]) == f"{NOTES_HEADING}\nonly a note"


def test_without_the_heading_notes_follow_the_output_and_turns_left_always_show():
    assert compose_observation("396", ["Note: a hint.", "You have 9 turns left."],
                               heading=False) == "396\n\nNote: a hint.\nYou have 9 turns left."
    assert compose_observation(None, ["only a note"], heading=False) == "only a note"
    assert turns_left_note(9, always=True) == "You have 9 turns left."
    assert turns_left_note(9) is None
