"""The shared count bar: it draws its label, count and live figures on the given console,
starts from a count already done, and draws nothing at all when disabled."""

from __future__ import annotations

import io

from rich.console import Console

from codeact.progress import CountBar


def _console() -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, force_terminal=True, width=120, color_system=None), out


def test_draws_label_count_and_figures() -> None:
    console, out = _console()
    bar = CountBar("bench", 4, console=console)
    bar.advance("success 1/1 (100%)")
    bar.advance()
    bar.update(info="success 1/2 (50%)")
    assert bar.console is console
    bar.close()
    bar.close()  # idempotent
    text = out.getvalue()
    assert "bench" in text and "2/4" in text and "success 1/2 (50%)" in text


def test_starts_from_work_already_done() -> None:
    console, out = _console()
    bar = CountBar("train", 27, completed=16, console=console)
    bar.update(completed=17, info="loss 0.1489")
    bar.close()
    assert "17/27" in out.getvalue() and "loss 0.1489" in out.getvalue()


def test_disabled_draws_nothing() -> None:
    bar = CountBar("collect", 3, enabled=False)
    bar.advance("kept 1/1")
    bar.update(completed=2)
    bar.close()
    assert bar.console is None
