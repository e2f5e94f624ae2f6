"""Action formats: how the model is told to act, when generation stops, how replies parse.

Formats share one interface so the benchmark can compare them on the same tasks; the
built-in three are registered in :data:`FORMATS` like any other
(:func:`register_format`):

- ``code``: Python inside ``<execute>...</execute>``, run in the sandboxed kernel;
- ``json``: one tool call per turn, ``{"tool": name, "arguments": {...}}`` in ``<execute>``;
- ``text``: one tool call per turn, ``tool_name, arg1, arg2`` in ``<execute>``.

Every format ends with ``<solution>...</solution>``. Parsing is tolerant of what small
models actually write; anything unusable becomes :class:`Invalid` with a short message
that tells the model what to do instead.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from codeact.llm.base import Completion
from codeact.llm.repetition import LOOPED
from codeact.prompts import EXAMPLE_MARK, Prompt, load_prompt
from codeact.prompts import part as prompt_part
from codeact.runaway import cut_runaway, cut_stub_copies
from codeact.syntax import LITERAL_ERRORS, parses
from codeact.tools import Tool

EXECUTE_OPEN, EXECUTE_CLOSE = "<execute>", "</execute>"
SOLUTION_OPEN, SOLUTION_CLOSE = "<solution>", "</solution>"


@dataclass
class CodeAction:
    """Python to run. ``solution`` is an answer given in the same turn (used only if the
    code runs cleanly); ``note`` is a corrective remark appended to the observation."""

    code: str
    solution: str | None = None
    note: str | None = None
    shown: str | None = None  # the reply as the conversation keeps it (None: as written)


@dataclass
class ToolCall:
    """One host-side tool call (json/text formats)."""

    tool: str
    arguments: Any
    note: str | None = None


@dataclass
class FinalAnswer:
    """The content of ``<solution>``."""

    answer: str


@dataclass
class Invalid:
    """An unusable reply; ``message`` is what the model is told."""

    message: str
    shown: str | None = None  # the reply as the conversation keeps it (None: as written)


@dataclass
class NoAction:
    """Plain text with neither an action nor a solution (a chat reply)."""

    text: str


Action = CodeAction | ToolCall | FinalAnswer | Invalid | NoAction

_BLOCK = re.compile(
    r"<execute>(?P<body>.*?)(?:</execute>|(?=<execute>)|(?=<solution>)|\Z)", re.S
)
_SOLUTION = re.compile(r"<solution>(?P<body>.*?)(?:</solution>|(?=<execute>)|\Z)", re.S)
_FENCE = re.compile(r"```[ \t]*(?P<lang>[\w+-]*)[ \t]*\n(?P<body>.*?)(?:```|\Z)", re.S)
_CODE_LANGS = {"", "python", "py", "python3", "ipython"}


def _find_blocks(text: str) -> list[str]:
    return [m.group("body") for m in _BLOCK.finditer(text)]


def _find_solution(text: str) -> str | None:
    m = _SOLUTION.search(text)
    return m.group("body").strip() if m else None


def _find_fenced_code(text: str) -> list[str]:
    return [m.group("body") for m in _FENCE.finditer(text) if m.group("lang").lower()
            in _CODE_LANGS]


def _as_completion(reply: Completion | str) -> Completion:
    return reply if isinstance(reply, Completion) else Completion(text=reply)


def _cut_off(completion: Completion) -> bool:
    """Whether the reply did not end by itself: the length limit, or the agent stopped it
    in a loop (:data:`~codeact.llm.repetition.LOOPED`)."""
    return completion.finish_reason in ("length", LOOPED)


class ActionFormat:
    """Base class: system prompt, stop sequences, parsing and observation wording."""

    name = "base"
    stop: list[str] = [EXECUTE_CLOSE, SOLUTION_CLOSE]
    # What the model is told about its own actions; a format with other tags rewords them.
    no_action_note = ("Your reply contained neither an <execute> action nor a <solution>. "
                      "Act with <execute>...</execute>, or give the final answer in "
                      "<solution>...</solution>.")
    skipped_note = "The user declined to run this code; it was not executed."
    edited_note = ("The user edited your code before it ran. The code that ran:\n"
                   "```python\n{}\n```")
    rejected_final_answer_note = ("Your final_answer(...) was not accepted because the cell "
                                  "failed; fix the error and call final_answer again.")
    rejected_solution_note = ("Your <solution> was ignored because the code failed; fix it "
                              "and answer again.")
    # said (in the model's view only) when its reply repeated an action and is asked again
    resample_note = ("Note: your last reply was not run, because {}. Earlier replies with "
                     "that same code are left out above. The same action gives the same "
                     "result, so write a different one: fix what the output says is wrong, "
                     "or use what the outputs above already show.")
    # the same, when the repeated action ran before without an error or a problem: seen
    # with a 1.5B model, which re-sent the cell that had printed the right list instead of
    # answering, and after "write a different one" went back to an older, failing cell
    resample_done_note = ("Note: your last reply was not run, because {}. It ran before, so "
                          "running it again gives the same output. If that output answers "
                          "the task, give the answer now between <solution> and "
                          "</solution>; if it does not, write the next step, a different "
                          "one.")

    def system_prompt(self, tools: Sequence[Tool],
                      prompt: Prompt | None = None) -> str:  # pragma: no cover - abstract
        """The system prompt for ``tools``, from ``prompt`` (default: the format's
        ``default`` prompt file under ``codeact/prompts/<format>/``)."""
        raise NotImplementedError

    def default_prompt(self) -> Prompt:
        """The format's prompt when none is chosen: ``prompts/<name>/default.md``; a
        format shipped elsewhere overrides this."""
        return load_prompt(None, self.name)

    def parse(self, reply: Completion | str) -> Action:  # pragma: no cover - abstract
        raise NotImplementedError

    def restore_stop(self, completion: Completion) -> str:
        """The reply text as it belongs in the history: with the stop sequence that ended
        it put back, so the conversation reads as well-formed tags."""
        text = completion.text
        if completion.stop_sequence in self.stop:
            text += completion.stop_sequence
        return text

    def _solution_or_none(self, text: str) -> Action | None:
        solution = _find_solution(text)
        if solution is None:
            return None
        if not solution:
            return Invalid("Your <solution> was empty. Put the final answer inside "
                           "<solution>...</solution>.")
        return FinalAnswer(solution)


class CodeFormat(ActionFormat):
    """Python code actions run in the sandboxed kernel."""

    name = "code"
    # the given tools' names: set by system_prompt (or by whoever writes the prompt), so a
    # reply that copies their definitions can be told to call them instead
    tool_names: frozenset[str] = frozenset()
    resample_done_note = ("Note: your last reply was not run, because {}. It ran before, so "
                          "running it again gives the same output. If that output answers "
                          "the task, give the answer now: call final_answer() with it; if "
                          "it does not, write the next step, a different one.")

    def system_prompt(self, tools: Sequence[Tool], prompt: Prompt | None = None,
                      packages: Sequence[str] = (), can_install: bool = False) -> str:
        """``packages``: what the kernel can import beyond the standard library (one short
        line in the ``{tools}`` place; the prompt's hash stays the template's);
        ``can_install``: ``%pip install`` works (through the host)."""
        prompt = prompt or self.default_prompt()
        self.tool_names = frozenset(t.name for t in tools)
        stubs = "\n\n".join(t.python_stub() for t in tools)
        section = ("\n" + prompt_part("code", "tools").replace("{stubs}", stubs)) if tools else ""
        if packages:
            more = " (`%pip install NAME` adds others)" if can_install else ""
            section = (f"\nInstalled Python packages, by import name: {', '.join(packages)}"
                       f"{more}.\n"
                       + section)
        example = prompt_part("code", "example-tools" if tools else "example") \
            if EXAMPLE_MARK in prompt.template else ""
        return prompt.render(section, example)

    def parse(self, reply: Completion | str) -> Action:
        completion = _as_completion(reply)
        text = completion.text
        blocks = _find_blocks(text)
        source = "<execute>"
        if not blocks and SOLUTION_OPEN not in text:
            blocks = _find_fenced_code(text)
            source = "fenced"
        solution = _find_solution(text)
        if not blocks:
            if solution is not None:
                return self._solution_or_none(text) or NoAction(text)
            return NoAction(text)
        blocks = [_strip_fence(b) for b in blocks]
        non_empty = [b for b in blocks if b.strip()]
        if not non_empty:
            if _cut_off(completion):
                return Invalid("Your reply was cut off before any code. Write a shorter "
                               "<execute> block.")
            return Invalid("Your <execute> block was empty. Put Python code between "
                           "<execute> and </execute>, or answer with <solution>.")
        notes: list[str] = []
        if len(non_empty) > 1:
            notes.append(f"Note: your {len(non_empty)} code blocks were run together as "
                         "one cell. Write one <execute> block per reply.")
        closed_by_stop = completion.stop_sequence == EXECUTE_CLOSE
        last_unclosed = source == "<execute>" and not text.rstrip().endswith(EXECUTE_CLOSE) \
            and text.rfind(EXECUTE_OPEN) > text.rfind(EXECUTE_CLOSE)
        if last_unclosed and not closed_by_stop and _cut_off(completion):
            ended = _code_before_fence(non_empty[-1], text)
            if ended is None:
                return _stub_cut(text, non_empty, notes, self.tool_names) \
                    or _runaway_cut(text, non_empty, notes) or Invalid(_cut_note(completion))
            # seen: "<execute>code\n```\n\n<solution>[a list of hundreds of numbers":
            # the code was whole, the made-up answer after it ran into the limit
            code = "\n\n".join([*(b.strip("\n") for b in non_empty[:-1]), ended])
            notes.append("Note: your reply went on after the code (a ``` fence, then "
                         "<solution>) until the length limit cut it; the code was run, the "
                         "rest ignored. End the code with </execute> and wait for its output.")
            return CodeAction(code, note=" ".join(notes))
        fence_ended = [_end_at_stray_fence(b) for b in non_empty]
        if any(e is not None for e in fence_ended):
            non_empty = [b if e is None else e
                         for b, e in zip(non_empty, fence_ended, strict=True)]
            notes.insert(0, "Note: a ``` line ended your code and what followed it was not "
                            "run. End code with </execute>.")
        code = "\n\n".join(b.strip("\n") for b in non_empty)
        if solution is not None and solution.strip():
            return CodeAction(code, solution=solution.strip(), note=" ".join(notes) or None)
        return CodeAction(code, note=" ".join(notes) or None)


def _runaway_cut(text: str, blocks: list[str], notes: list[str]) -> CodeAction | None:
    """Code cut off while repeating one pattern of lines (:mod:`codeact.runaway`): the
    code before the repetition runs, and the conversation keeps that shorter reply, so
    the model does not read, and copy, its runaway next turn. ``notes``: the parse's
    notes so far, kept in front of this one."""
    runaway = cut_runaway(blocks[-1].lstrip("\n"))
    if runaway is None:
        return None
    kept = runaway.code.strip("\n")
    code = "\n\n".join([*(b.strip("\n") for b in blocks[:-1]), kept])
    shown = f"{text[:text.rfind(EXECUTE_OPEN)]}{EXECUTE_OPEN}\n{kept}\n{EXECUTE_CLOSE}"
    pattern = runaway.pattern if len(runaway.pattern) <= 80 else runaway.pattern[:77] + "..."
    note = (f"Note: your code repeated one pattern from line {runaway.line} on (`{pattern}`, "
            f"{runaway.repeats} times and more) until it was cut off. Only the "
            "code up to its first instances was run (your reply is shown shortened). Do not "
            "write cases out one by one: use a loop over the values, or check a few.")
    return CodeAction(code, note=" ".join([*notes, note]), shown=shown)


def _cut_note(completion: Completion) -> str:
    """What the model is told about its code cut off and not run."""
    if completion.finish_reason == LOOPED:
        return ("Your code fell into a loop (the same text again and again) and was "
                "stopped there; it was not run. Write shorter code, or split the work "
                "over several turns.")
    return ("Your code was cut off by the length limit and was not run. Write shorter "
            "code, or split the work over several turns.")


def _stub_cut(text: str, blocks: list[str], notes: list[str],
              tool_names: frozenset[str]) -> CodeAction | Invalid | None:
    """Code cut off while writing out copied definitions (:func:`cut_stub_copies`): seen
    with a 0.5B model given a clinic's tools, which copied their stubs from the system
    prompt, then made up longer and longer names, for four turns. The code before the
    stubs runs (else nothing does), and the conversation keeps the reply up to the
    first stub, so the model does not read, and copy, the whole run next turn."""
    stubs = cut_stub_copies(blocks[-1].lstrip("\n"), tool_names)
    if stubs is None:
        return None
    distinct = list(dict.fromkeys(stubs.names))
    given = [n for n in distinct if n in tool_names]
    names = ", ".join(distinct)
    names = names if len(names) <= 120 else names[:117] + "..."
    told = (f"Note: your code wrote out {len(stubs.names)} function definitions ({names}) "
            "and no code that uses them, until it was cut off. ")
    if given:
        told += (f"{', '.join(given)} {'is a given tool' if len(given) == 1 else 'are given tools'}"
                 ", already defined: do not write them, call them (`result = "
                 f"{given[0]}(...)`, then print what you need). ")
    head = text[:text.rfind(EXECUTE_OPEN)]
    code = "\n\n".join([*(b.strip("\n") for b in blocks[:-1]), stubs.code]).strip("\n")
    if not _only_imports(code):
        told += "Only the code before them was run (your reply is shown shortened)."
        return CodeAction(code, note=" ".join([*notes, told]),
                          shown=f"{head}{EXECUTE_OPEN}\n{stubs.code}\n{EXECUTE_CLOSE}")
    kept = "\n".join(p for p in (stubs.code, stubs.first) if p.strip())
    told += ("Nothing was run (your reply is shown shortened). Write code that does the "
             "next step of the task.")
    return Invalid(" ".join([*notes, told]),
                   shown=f"{head}{EXECUTE_OPEN}\n{kept}\n{EXECUTE_CLOSE}")


def _only_imports(code: str) -> bool:
    """Whether ``code`` does nothing but import (or is empty): running it alone is no
    step of the task."""
    try:
        body = ast.parse(code).body
    except (SyntaxError, ValueError):
        return False
    return all(isinstance(s, ast.Import | ast.ImportFrom) for s in body)


def _code_before_fence(block: str, text: str) -> str | None:
    """The code of the reply's unclosed last block when a Markdown fence ends it and a
    <solution> follows it (what comes after is not code), or None."""
    body = block.rstrip()
    if not re.search(r"\n[ \t]*```$", body) or \
            SOLUTION_OPEN not in text[text.rfind(EXECUTE_OPEN):]:
        return None
    code = body[:-3].strip("\n")
    return code if code.strip() else None


_BARE_FENCE = re.compile(r"^[ \t]*```[ \t]*$", re.M)


def _end_at_stray_fence(block: str) -> str | None:
    """The code of an <execute> block that a bare ``` line ended, Markdown style, with
    prose or another block after it (seen: re-sent for six turns, each a SyntaxError on the
    fence), or None. Only where the block does not parse and the code before the fence
    does, so a fence inside a string of working code is left alone."""
    m = _BARE_FENCE.search(block)
    if m is None or parses(block):
        return None
    code = block[:m.start()]
    return code if parses(code) else None


def _strip_fence(block: str) -> str:
    """Models often wrap the code inside <execute> in a Markdown fence as well."""
    m = re.fullmatch(r"\s*```[\w+-]*[ \t]*\n(.*?)\n?\s*(?:```)?\s*", block, re.S)
    return m.group(1) if m else block


def _tool_listing(tools: Sequence[Tool]) -> str:
    return "\n".join(t.listing() for t in tools)


class _ToolCallFormat(ActionFormat):
    """Shared parsing for the one-call-per-turn formats."""

    def __init__(self) -> None:
        self._tool_names: set[str] | None = None

    def system_prompt(self, tools: Sequence[Tool], prompt: Prompt | None = None) -> str:
        self._tool_names = {t.name for t in tools}
        listing = _tool_listing(tools) if tools else "(no tools are available)"
        return (prompt or self.default_prompt()).render(listing)

    def parse(self, reply: Completion | str) -> Action:
        completion = _as_completion(reply)
        text = completion.text
        blocks = [b.strip() for b in _find_blocks(text)]
        if not blocks:
            return self._solution_or_none(text) or NoAction(text)
        if not any(blocks):
            return Invalid("Your <execute> block was empty. Write one tool call inside it.")
        blocks = [b for b in blocks if b]
        note = None
        if len(blocks) > 1:
            note = (f"Note: you wrote {len(blocks)} tool calls; only the first was run. "
                    "Call one tool per reply.")
        action = self.parse_call(_strip_fence(blocks[0]).strip())
        if isinstance(action, ToolCall):
            if self._tool_names is not None and action.tool not in self._tool_names:
                known = ", ".join(sorted(self._tool_names)) or "none"
                return Invalid(f"Unknown tool {action.tool!r}. Available tools: {known}.")
            action.note = note
        return action

    def parse_call(self, body: str) -> Action:  # pragma: no cover - abstract
        raise NotImplementedError


class JsonFormat(_ToolCallFormat):
    """One ``{"tool": ..., "arguments": ...}`` object per turn."""

    name = "json"

    def parse_call(self, body: str) -> Action:
        data: Any
        try:
            data = json.loads(body)
        except (ValueError, RecursionError) as exc:  # deep nesting: RecursionError
            where = (f" ({exc.msg} at position {exc.pos})"
                     if isinstance(exc, json.JSONDecodeError) else "")
            try:
                data = ast.literal_eval(body)
            except LITERAL_ERRORS:
                return Invalid(f"Your tool call is not valid JSON{where}. Write one object "
                               'like {"tool": "name", "arguments": {...}}.')
        if isinstance(data, list):
            return Invalid("Write exactly one JSON object (one tool call) per reply, "
                           "not a list.")
        if not isinstance(data, dict):
            return Invalid('The tool call must be a JSON object like '
                           '{"tool": "name", "arguments": {...}}.')
        name = data.get("tool", data.get("name"))
        if not isinstance(name, str) or not name:
            return Invalid('The JSON object needs a "tool" field naming the tool to call.')
        arguments = data.get("arguments", data.get("args", {}))
        if arguments is None:
            arguments = {}
        if not isinstance(arguments, dict | list):
            return Invalid('"arguments" must be an object mapping parameter names to '
                           "values.")
        return ToolCall(name, arguments)


class TextFormat(_ToolCallFormat):
    """One ``tool_name, arg1, arg2`` line per turn."""

    name = "text"

    def parse_call(self, body: str) -> Action:
        body = body.strip()
        m = re.match(r"([A-Za-z_]\w*)\s*(?:\((.*)\)\s*$|,?(.*))", body, re.S)
        if not m:
            return Invalid("Write the tool name first, then its arguments separated by "
                           "commas, e.g. <execute>tool_name, 1, two</execute>.")
        name = m.group(1)
        rest = m.group(2) if m.group(2) is not None else (m.group(3) or "")
        return ToolCall(name, _split_text_arguments(rest.strip()))


def _split_text_arguments(rest: str) -> list[Any]:
    """Split ``a, "b, c", 3`` into values; literals are parsed, bare words stay strings."""
    if not rest:
        return []
    try:
        value = ast.literal_eval(f"({rest},)")
        if isinstance(value, tuple):
            return list(value)
    except LITERAL_ERRORS:
        pass
    parts: list[str] = []
    buf: list[str] = []
    quote: str | None = None
    for ch in rest:
        if quote:
            if ch == quote:
                quote = None
            else:
                buf.append(ch)
        elif ch in "\"'":
            quote = ch
        elif ch == ",":
            parts.append("".join(buf).strip())
            buf = []
        else:
            buf.append(ch)
    parts.append("".join(buf).strip())
    values: list[Any] = []
    for part in parts:
        try:
            values.append(ast.literal_eval(part))
        except LITERAL_ERRORS:
            values.append(part)
    return values


# The one registry of action formats (the CLI, the config check and the bench read it).
# A new format is one module with an ActionFormat subclass plus one register_format line.
FORMATS: dict[str, type[ActionFormat]] = {}


def register_format(cls: type[ActionFormat]) -> type[ActionFormat]:
    """Register ``cls`` under ``cls.name`` (a later registration of a name replaces the
    earlier one); returns ``cls``, so it also works as a class decorator."""
    if not cls.name or cls.name == ActionFormat.name:
        raise ValueError(f"{cls.__name__} needs a name of its own to be registered")
    FORMATS[cls.name] = cls
    return cls


def format_names() -> list[str]:
    """Names of the registered action formats, in registration order."""
    return list(FORMATS)


register_format(CodeFormat)
register_format(JsonFormat)
register_format(TextFormat)


def prompt_for(action_format: str | ActionFormat, spec: str | None = None) -> Prompt:
    """The system-prompt template a run of ``action_format`` uses: the format's own
    default, or for the code format ``spec`` (a variant name or a prompt file). The json
    and text formats keep one frozen prompt each so comparisons between formats stay
    fair; a new format brings its prompt through :meth:`ActionFormat.default_prompt`."""
    fmt = get_format(action_format)
    if spec is not None and fmt.name == "code":
        return load_prompt(spec, "code")
    return fmt.default_prompt()


def get_format(name: str | ActionFormat) -> ActionFormat:
    """Return an ActionFormat instance: a registered name, or an instance as it is."""
    if isinstance(name, ActionFormat):
        return name
    try:
        return FORMATS[name]()
    except KeyError:
        raise ValueError(
            f"unknown action format {name!r}; choose one of {', '.join(FORMATS)}"
        ) from None
