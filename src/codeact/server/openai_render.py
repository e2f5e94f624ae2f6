"""A run's client events as one Markdown text, streamed piece by piece.

The OpenAI-compatible endpoint (``routes/openai_api.py``) has one channel, the content
of the assistant message, for everything the web app shows in separate boxes: the
model's prose, its code, the cell's output and the answer. :class:`MarkdownRenderer`
turns the recorder's client events (the same ones the web app follows) into Markdown
deltas, so any chat client renders a run readably while it happens:

* prose as it streams; ``<execute>`` becomes a fenced ``python`` block (the tags are
  translated on the fly, a tag split over two deltas included; code goes a line at a
  time, so that fences a model wrote inside the tags can be dropped);
* the cell's output as a fenced ``text`` block, streamed; results and errors after it;
* ``<solution>`` / ``final_answer(...)`` as a paragraph of its own;
* errors in bold, notices and feedback to the model as quotes.

Pure (no I/O): ``feed(event)`` returns the Markdown to send for that event.
"""

from __future__ import annotations

import json
import re
from typing import Any

__all__ = ["MarkdownRenderer", "finish_reason"]

_OPEN_CODE, _CLOSE_CODE = "<execute>", "</execute>"
_OPEN_SOLUTION, _CLOSE_SOLUTION = "<solution>", "</solution>"
_TAGS = (_OPEN_CODE, _CLOSE_CODE, _OPEN_SOLUTION, _CLOSE_SOLUTION)
_FENCE = re.compile(r"^\s*```[\w+-]*\s*$")  # a Markdown fence line
# the agent's stop reasons that mean "cut short by a limit" rather than "finished"
_LENGTH_REASONS = {"max_turns", "max_tokens", "time_limit", "length"}


def finish_reason(stop_reason: str | None) -> str:
    """The OpenAI ``finish_reason`` for an agent stop reason: ``length`` for a limit."""
    return "length" if stop_reason in _LENGTH_REASONS else "stop"


class MarkdownRenderer:
    """Feed it a run's client events in order; it returns Markdown deltas."""

    def __init__(self) -> None:
        self.text = ""  # everything emitted so far
        self.stop_reason: str | None = None
        self._pending = ""  # the start of what may be a tag, held back
        self._in_code = False  # inside a fenced block opened for <execute>
        self._code_line = ""  # its line being written (code is sent a line at a time)
        self._skip_newline = False  # drop the newline right after an opening tag
        self._new_block = False  # the next prose starts a paragraph of its own
        self._turn_text = ""  # the model's raw text in this turn
        self._code_shown = False  # this turn's code was shown from the text
        self._solution_shown = False  # this turn's answer was shown from the text
        self._output_open = False  # a fenced output block is open
        self._output_seen = False  # the current cell streamed some output

    # ------------------------------------------------------------------ public
    def feed(self, event: dict[str, Any]) -> str:
        """The Markdown to send for one client event ("" for none)."""
        kind = event.get("type")
        out = ""
        if kind == "turn":
            out = self._flush()
            self._turn_text = ""
            self._code_shown = self._solution_shown = False
            self._new_block = True
        elif kind == "item":
            out = self._item(event.get("item") or {})
        elif kind == "text":
            out = self._assistant_text(str(event.get("text", "")))
        elif kind == "message_done":
            out = self._flush()
        elif kind == "output":
            out = self._output(str(event.get("text", "")))
        elif kind == "observation":
            out = self._observation(event.get("observation") or {})
        elif kind == "done":
            self.stop_reason = event.get("stop_reason")
            out = self._flush() + self._close_blocks()
        return self._emit(out)

    # ------------------------------------------------------------------ helpers
    def _emit(self, text: str) -> str:
        self.text += text
        return text

    def _block_start(self, before: str = "") -> str:
        """The newlines that make the next text start a block after ``before``."""
        tail = (self.text + before)[-2:]
        if not self.text and not before:
            return ""
        if tail.endswith("\n\n"):
            return ""
        return "\n" if tail.endswith("\n") else "\n\n"

    def _close_code(self) -> str:
        if not self._in_code:
            return ""
        rest, self._code_line = self._code_line, ""
        self._in_code = False
        self._skip_newline = False
        self._new_block = True
        last = "" if not rest.strip() or _FENCE.match(rest) else rest + "\n"
        return last + "```\n"

    def _code_lines(self, text: str) -> str:
        """Code inside ``<execute>``, whole lines at a time, without the Markdown fences
        some models put inside the tags (they would close our block early)."""
        lines = (self._code_line + text).split("\n")
        self._code_line = lines.pop()
        return "".join(line + "\n" for line in lines if not _FENCE.match(line))

    def _close_output(self) -> str:
        if not self._output_open:
            return ""
        self._output_open = False
        self._new_block = True
        return ("" if self.text.endswith("\n") else "\n") + "```\n"

    def _close_blocks(self) -> str:
        out = self._close_code()
        return out + self._close_output()

    def _flush(self) -> str:
        """Send a held-back partial tag as the text it turned out to be."""
        pending, self._pending = self._pending, ""
        return self._plain(pending, "") if pending else ""

    def _plain(self, text: str, before: str) -> str:
        if self._skip_newline and text:
            self._skip_newline = False
            if text.startswith("\n"):
                text = text[1:]
        if self._in_code:
            return self._code_lines(text)
        if self._new_block and not self._in_code:
            text = text.lstrip("\n")
            if not text:
                return ""
            self._new_block = False
            return self._block_start(before) + text
        return text

    # ------------------------------------------------------------------ events
    def _assistant_text(self, text: str) -> str:
        """Prose through, ``<execute>``/``<solution>`` tags as Markdown, split tags too."""
        self._turn_text += text
        buf = self._pending + text
        self._pending = ""
        out = ""
        while buf:
            i = buf.find("<")
            if i < 0:
                out += self._plain(buf, out)
                break
            if i > 0:
                out += self._plain(buf[:i], out)
                buf = buf[i:]
            tag = next((t for t in _TAGS if buf.startswith(t)), None)
            if tag is not None:
                out += self._tag(tag, out)
                buf = buf[len(tag):]
            elif any(t.startswith(buf) for t in _TAGS):
                self._pending = buf  # maybe the start of a tag: wait for more
                break
            else:
                out += self._plain("<", out)
                buf = buf[1:]
        return out

    def _tag(self, tag: str, before: str) -> str:
        if tag == _OPEN_CODE:
            out = self._close_code()
            out += self._block_start(before + out) + "```python\n"
            self._in_code = self._code_shown = True
            self._skip_newline = True
            self._new_block = False
            return out
        if tag == _OPEN_SOLUTION:
            out = self._close_code()
            self._solution_shown = True
            self._skip_newline = True
            self._new_block = True
            return out
        if tag == _CLOSE_CODE:
            return self._close_code()
        return ""  # </solution>: the paragraph just ends

    def _item(self, item: dict[str, Any]) -> str:
        if item.get("type") == "code":
            return self._code(str(item.get("code", "")))
        role, kind = item.get("role"), item.get("kind")
        content = str(item.get("content") or "")
        if role == "assistant" and kind == "text":  # a streamed message starts
            return self._assistant_text(content)
        out = self._flush() + self._close_blocks()
        if role == "assistant" and kind == "answer":
            if self._solution_shown:
                return out
            self._new_block = True
            return out + self._plain(content.strip(), out)
        if role == "system" and kind == "error":
            return out + self._block_start(out) + f"**Error:** {content.strip()}\n\n"
        if role == "system" and content.strip():  # notices, feedback to the model
            quoted = "\n".join(f"> {line}".rstrip() for line in content.strip().splitlines())
            return out + self._block_start(out) + quoted + "\n\n"
        return out  # the user's own message: nothing to echo

    def _code(self, code: str) -> str:
        """The code action: close the block the text opened, or show the code now."""
        out = self._flush()
        self._output_seen = False
        if self._in_code:
            return out + self._close_code()
        if self._code_shown or "```" in self._turn_text:
            return out  # already in the text, as Markdown
        lang = "python"
        if code.lstrip().startswith("{"):
            try:
                json.loads(code)
                lang = "json"  # a tool call of the json action format
            except ValueError:
                pass
        self._new_block = True
        return out + self._block_start(out) + f"```{lang}\n{code.rstrip()}\n```\n"

    def _output(self, text: str) -> str:
        if not text:
            return ""
        self._output_seen = True
        if self._output_open:
            return text
        self._output_open = True
        return self._block_start() + "```text\n" + text

    def _observation(self, obs: dict[str, Any]) -> str:
        """Close the streamed output; add what did not stream (result, error, images)."""
        out = self._close_output()
        parts: list[str] = []
        if not self._output_seen:
            parts += [str(obs.get(k) or "").rstrip() for k in ("stdout", "stderr")]
        if obs.get("result"):
            parts.append(str(obs["result"]).rstrip())
        error = obs.get("error")
        if error:
            parts.append(str(error.get("traceback") or "").rstrip()
                         or f"{error.get('name')}: {error.get('message')}")
        if obs.get("timed_out"):
            parts.append("(the cell timed out)")
        body = "\n".join(p for p in parts if p)
        if body:
            out += self._block_start(out) + f"```text\n{body}\n```\n"
        images = len(obs.get("images") or [])
        if images:
            noun = "image" if images == 1 else "images"
            out += (self._block_start(out)
                    + f"*({images} {noun}: open the conversation in the web app)*\n")
        self._output_seen = False
        self._new_block = True
        return out
