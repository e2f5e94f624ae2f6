"""Terminal rendering: tags are hidden while streaming, code and answers get panels."""

from io import StringIO

from rich.console import Console

from codeact.cli.render import EventPrinter, TagFilter
from codeact.events import (
    CodeActionEvent,
    DoneEvent,
    FinalAnswerEvent,
    ObservationEvent,
    OutputDelta,
    TextDelta,
    TurnStarted,
)
from codeact.runtime.observation import Observation
from codeact.trajectory import Trajectory


def test_tag_filter_hides_split_tags():
    f = TagFilter()
    chunks = ["Let me", " compute <exe", "cute>\nprint(1)", "\n"]
    assert "".join(f.feed(c) for c in chunks) + f.flush() == "Let me compute "


def test_tag_filter_releases_false_alarms():
    f = TagFilter()
    out = f.feed("a < b and <e") + f.feed("nd>") + f.flush()
    assert out == "a < b and <end>"


def test_printer_output():
    buf = StringIO()
    printer = EventPrinter(Console(file=buf, width=80, color_system=None))
    obs = Observation(stdout="hello\n", result="3")
    for event in [TurnStarted(1, 9), TextDelta(1, "Thinking "), TextDelta(1, "<execute>x"),
                  CodeActionEvent(1, "print('hello')"), OutputDelta(1, "stdout", "hello\n"),
                  ObservationEvent(1, "hello\nOut: 3\nYou have 9 turns left.", obs),
                  FinalAnswerEvent(2, "**42**"),
                  DoneEvent(Trajectory(task="t", stop_reason="solution"))]:
        printer.handle(event)
    text = buf.getvalue()
    assert "Thinking" in text and "<execute>" not in text
    assert "print('hello')" in text and "You have 9 turns left." in text
    assert text.count("hello") == 2  # once in the code panel, once streamed, not again
    assert "Out: 3" in text and "42" in text and "stopped: solution" in text


def test_installs_are_a_distinct_step():
    buf = StringIO()
    printer = EventPrinter(Console(file=buf, width=80, force_terminal=True,
                                   color_system="standard"))
    for event in [CodeActionEvent(1, "%pip install six"),
                  OutputDelta(1, "stdout", "installing six ... "),
                  OutputDelta(1, "stdout", "done: six 1.17.0\n"),
                  OutputDelta(1, "stdout", "done: not an install\n")]:
        printer.handle(event)
    text = buf.getvalue()
    magenta, green = "\x1b[1;35m", "\x1b[1;32m"
    assert f"{magenta}installing six ... " in text and f"{green}done: six 1.17.0" in text
    assert f"{green}done: not an install" not in text  # only right after an install line
