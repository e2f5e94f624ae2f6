"""Tests for codeact.server.openai_render: a run's client events as streamed Markdown."""

from __future__ import annotations

from typing import Any

import pytest

from codeact.server.openai_render import MarkdownRenderer, finish_reason


def msg(role: str, kind: str, content: str) -> dict[str, Any]:
    return {"type": "item", "item": {"type": "message", "role": role, "kind": kind,
                                     "content": content}}


def code(source: str) -> dict[str, Any]:
    return {"type": "item", "item": {"type": "code", "code": source}}


def obs(**fields: Any) -> dict[str, Any]:
    base = {"stdout": "", "stderr": "", "result": None, "error": None, "images": []}
    return {"type": "observation", "observation": {**base, **fields}}


def render(events: list[dict[str, Any]]) -> tuple[str, list[str]]:
    r = MarkdownRenderer()
    pieces = [r.feed(e) for e in events]
    assert "".join(pieces) == r.text
    return r.text, pieces


def turn(n: int) -> dict[str, Any]:
    return {"type": "turn", "turn": n}


def text(t: str) -> dict[str, Any]:
    return {"type": "text", "text": t}


def test_a_plain_reply_is_its_text() -> None:
    out, _ = render([turn(1), msg("assistant", "text", "Hel"), text("lo <b>you</b>"),
                     {"type": "message_kind", "kind": "answer"}, {"type": "message_done"},
                     {"type": "done", "stop_reason": "no_action"}])
    assert out == "Hello <b>you</b>"


@pytest.mark.parametrize("cut", range(1, 12))
def test_execute_tags_split_anywhere_become_a_fence(cut: int) -> None:
    raw = "Look.\n<execute>\nprint(1)\n"
    out, _ = render([turn(1), msg("assistant", "text", raw[:cut]), text(raw[cut:]),
                     {"type": "message_done"}, code("print(1)"),
                     {"type": "output", "stream": "stdout", "text": "1\n"},
                     obs(stdout="1\n"), {"type": "done", "stop_reason": "max_turns"}])
    assert out == "Look.\n\n```python\nprint(1)\n```\n\n```text\n1\n```\n"


def test_a_half_tag_that_is_not_a_tag_is_sent_at_the_end_of_the_message() -> None:
    r = MarkdownRenderer()
    r.feed(turn(1))
    assert r.feed(msg("assistant", "text", "a <exe")) == "a "
    assert r.feed({"type": "message_done"}) == "<exe"
    assert r.feed({"type": "done", "stop_reason": "no_action"}) == ""


def test_solution_after_code_and_the_answer_item_is_not_repeated() -> None:
    out, _ = render([
        turn(1), msg("assistant", "text", "<execute>x = 2</execute>"),
        {"type": "message_done"}, code("x = 2"), obs(),
        turn(2), msg("assistant", "text", "So:\n<solution>4</solution>"),
        {"type": "message_done"}, msg("assistant", "answer", "4"),
        {"type": "done", "stop_reason": "solution"}])
    assert out == "```python\nx = 2\n```\n\nSo:\n\n4"


def test_final_answer_from_code_and_results_errors_images() -> None:
    tb = "Traceback...\nZeroDivisionError: division by zero"
    out, _ = render([
        turn(1), msg("assistant", "text", "<execute>\n1/0\n"), code("1/0"),
        obs(error={"name": "ZeroDivisionError", "message": "division by zero",
                   "traceback": tb}),
        turn(2), msg("assistant", "text", "<execute>\nplot(); final_answer(7)\n"),
        code("plot(); final_answer(7)"), obs(result="7", images=[3, 4], timed_out=True),
        msg("assistant", "answer", "7"), {"type": "done", "stop_reason": "solution"}])
    assert out == ("```python\n1/0\n```\n\n```text\n" + tb + "\n```\n\n"
                   "```python\nplot(); final_answer(7)\n```\n\n"
                   "```text\n7\n(the cell timed out)\n```\n\n"
                   "*(2 images: open the conversation in the web app)*\n\n7")


def test_code_not_in_the_text_is_shown_from_the_action() -> None:
    out, _ = render([turn(1), msg("assistant", "text", '{"tool": "add"}'),
                     code('{"tool": "add", "arguments": {"a": 1}}'), obs(result="2"),
                     turn(2), msg("assistant", "text", "Thinking"),
                     code("print('hi')"), obs(stdout="hi\n")])
    assert out == ('{"tool": "add"}\n\n```json\n{"tool": "add", "arguments": {"a": 1}}\n'
                   "```\n\n```text\n2\n```\n\nThinking\n\n```python\nprint('hi')\n```\n\n"
                   "```text\nhi\n```\n")


def test_markdown_code_in_the_text_is_not_repeated() -> None:
    out, _ = render([turn(1), msg("assistant", "text", "```python\nprint(2)\n```"),
                     code("print(2)"), obs(stdout="2\n")])
    assert out == "```python\nprint(2)\n```\n\n```text\n2\n```\n"


def test_output_streams_stderr_too_and_closes_at_done() -> None:
    r = MarkdownRenderer()
    for ev in (turn(1), msg("assistant", "text", "<execute>\nwork()\n"), code("work()")):
        r.feed(ev)
    assert r.feed({"type": "output", "stream": "stdout", "text": "a"}) == "\n```text\na"
    assert r.feed({"type": "output", "stream": "stderr", "text": "b\n"}) == "b\n"
    assert r.feed({"type": "done", "stop_reason": "interrupted"}) == "```\n"


def test_errors_notices_and_feedback() -> None:
    out, _ = render([msg("system", "notice", "Kernel lost.\nFiles kept."),
                     msg("user", "text", "hi"), turn(1),
                     msg("assistant", "text", "<execute>\nwhile True: pass\n"),
                     msg("system", "feedback", "Invalid reply"),
                     msg("system", "error", "model down"),
                     {"type": "done", "stop_reason": "error"}])
    assert out == ("> Kernel lost.\n> Files kept.\n\n```python\nwhile True: pass\n```\n\n"
                   "> Invalid reply\n\n**Error:** model down\n\n")


def test_finish_reasons() -> None:
    assert finish_reason("solution") == "stop"
    assert finish_reason("no_action") == "stop"
    assert finish_reason("error") == "stop"
    assert finish_reason(None) == "stop"
    for reason in ("max_turns", "max_tokens", "time_limit"):
        assert finish_reason(reason) == "length"


def test_fences_inside_execute_are_dropped_and_code_goes_by_lines() -> None:
    r = MarkdownRenderer()
    r.feed(turn(1))
    assert r.feed(msg("assistant", "text", "<execute>\n```py")) == "```python\n"
    assert r.feed(text("thon\nx = 1\ny")) == "x = 1\n"  # the fence line went
    assert r.feed(text(" = 2\n```")) == "y = 2\n"
    assert r.feed(code("x = 1\ny = 2")) == "```\n"
    r = MarkdownRenderer()
    for ev in (turn(1), msg("assistant", "text", "<execute>print(3)")):
        r.feed(ev)
    assert r.feed(code("print(3)")) == "print(3)\n```\n"  # the last line, at the end
