"""A hint for tasks that show examples of the function they ask for: run them.

Seen in a collection of coding tasks (qwen2.5-coder-1.5b): "For example
run_length('aaabcc') == 'a3bc2'"; the model's test cell printed ``a3b1c2`` under its own
comment ``# Output: 'a3bc2'`` and it submitted the function. Five of thirteen failed
coding runs submitted a function that fails an example the task itself gives. A small
model does not compare what it printed with what the task says; the agent can.

When a successful cell defines a function the task shows examples of (``f(args) ==
value``, an arrow such as ``f(args) -> value``, or a doctest ``>>> f(args)`` followed by
the value), or, for the one function whose signature the task shows, in prose
(``Input: arr = [1, 2], k = 3`` then ``Output: [2]``; ``For num = "AB" the output should
be 1``), the examples are run silently in the same kernel (:meth:`Hint.probe`; only
literal arguments and values, never other text of the task) and a failing one is named
in the observation; submitting a function that fails one is refused once.
"""

from __future__ import annotations

import ast
import io
import json
import re
import tokenize
from dataclasses import dataclass
from typing import TYPE_CHECKING

from codeact.agent.hints.base import Advice, Hint, RunStart, Step, Verdict
from codeact.agent.hints.requested_function import defined_functions

if TYPE_CHECKING:
    from codeact.runtime.observation import Observation

MAX_EXAMPLES = 8  # per function: the task's first ones
MAX_LITERAL = 400  # characters a value may span
MAX_SHOWN = 120  # characters of a returned value repeated in a note
MARKER = "__codeact_examples__:"
# what joins a call to its value: ==, arrows, "should return", "returns", "gives", each
# also after a comment sign (``f(15)  # returns "db1111db"``)
_JOINER = re.compile(r"\s*(?:#\s*)?(?:==>|==|=>|->|➞|→|⟶|should\s+return|returns|gives)\s*")
# what after a literal shows it is only the start of the value: an operator, or a word or
# quote right after it
_CONTINUED = re.compile(r"[ \t]*[-+*/%<>=^&|@]|[A-Za-z0-9_'\"]")
_SIGNATURE = re.compile(r"^[ \t]*def[ \t]+([A-Za-z_][A-Za-z0-9_]*)[ \t]*\(", re.MULTILINE)
# prose examples of the signature's function: "Input: ..." with "Output: ..." on a later
# line (blank lines between), and "For x = ... the output should be ..."
_INPUT_OUTPUT = re.compile(r"^[ \t]*Input[ \t]*:[ \t]*(.+?)[ \t]*\n(?:[ \t]*\n)*"
                           r"[ \t]*Output[ \t]*:[ \t]*(.+?)[ \t]*$", re.MULTILINE)
_FOR_OUTPUT = re.compile(r"\bFor[ \t]+(.+?),?[ \t]+(?:the[ \t]+)?(?:output|result|answer)"
                         r"[ \t]+should[ \t]+be[ \t]+(.+?)[ \t]*$", re.MULTILINE)
_DOCTEST = re.compile(r"^[ \t]*>>>[ \t]*(.+)$", re.MULTILINE)


@dataclass(frozen=True)
class Example:
    """One example of the task: ``name(*args, **kwargs)`` should give ``expected``."""

    name: str
    call: str  # as the task writes it
    args: str  # repr of the argument tuple (a literal)
    kwargs: str  # repr of the keyword dict (a literal)
    expected: str  # the value as the task writes it (a literal)
    # read from prose: the inputs' names may not be the function's, so they are passed by
    # position, and a call that does not fit the function's signature proves nothing
    loose: bool = False


def _call_end(text: str, start: int) -> int | None:
    """The index after the ``)`` that closes the ``(`` at ``start``, or None: brackets
    and quoted strings are followed."""
    depth, quote, i = 0, "", start
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\":
                i += 1
            elif ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return None


def _literal_call(call: str) -> tuple[str, str, str] | None:
    """``(name, repr(args), repr(kwargs))`` when ``call`` is a call of a plain name with
    literal arguments only, else None."""
    try:
        node = ast.parse(call.strip(), mode="eval").body
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
            return None
        args = tuple(ast.literal_eval(arg) for arg in node.args)
        kwargs = {kw.arg: ast.literal_eval(kw.value) for kw in node.keywords}
    except (SyntaxError, ValueError, TypeError, MemoryError, RecursionError):
        return None
    if None in kwargs:  # **mapping
        return None
    return node.func.id, repr(args), repr(kwargs)


def _is_literal(text: str) -> bool:
    try:
        ast.literal_eval(text)
    except (SyntaxError, ValueError, TypeError, MemoryError, RecursionError):
        return False
    return True


def _without_comment(code: str) -> str:
    """``code`` up to its first comment (``4 # four, and f(3) == 9`` is the literal 4)."""
    try:
        for token in tokenize.generate_tokens(io.StringIO(code).readline):
            if token.type == tokenize.COMMENT:
                row, col = token.start
                lines = code.splitlines(keepends=True)
                return code[:sum(map(len, lines[:row - 1])) + col].rstrip()
    except (tokenize.TokenError, SyntaxError):
        pass
    return code


def _leading_literal(text: str) -> str | None:
    """The longest prefix of ``text`` that is a Python literal (``'a3bc2' and ...`` gives
    ``'a3bc2'``; a sentence's full stop is left out), or None."""
    text = text[:MAX_LITERAL]
    for end in range(len(text), 0, -1):
        if text[end - 1].isspace() or text[end - 1] == ",":  # "6," is no tuple here
            continue
        candidate = text[:end]
        if not _is_literal(candidate):
            continue
        segment = _without_comment(candidate)
        if _CONTINUED.match(text, len(segment)):  # "19 - 5 = 14", '""aaa"': not the value
            return None
        if segment.endswith(".") and _is_literal(segment[:-1]):
            return segment[:-1]  # "returns 0." ends a sentence
        return segment
    return None


def _example(call: str, value: str) -> Example | None:
    parsed = _literal_call(call)
    if parsed is None:
        return None
    name, args, kwargs = parsed
    return Example(name, call.strip(), args, kwargs, value.strip())


def _prose_example(name: str, inputs: str, value: str) -> Example | None:
    """``name`` called on ``inputs`` (``arr = [1, 2], k = 3`` or ``[1, 2], 3``), passed by
    position in the order written, when every input and the whole value are literals."""
    value = _without_comment(value)  # "24 # sum of 21 + 3"
    value = value[:-1] if value.endswith(".") and _is_literal(value[:-1]) else value
    parsed = _literal_call(f"f({inputs})") if len(inputs) <= MAX_LITERAL else None
    if parsed is None or not _is_literal(value):
        return None
    args, kwargs = ast.literal_eval(parsed[1]), ast.literal_eval(parsed[2])
    if args and kwargs:  # "[1, 2], k = 3": the order is not clear
        return None
    args = (*args, *kwargs.values())
    call = f"{name}({', '.join(repr(arg) for arg in args)})"
    return Example(name, call, repr(args), "{}", value, loose=True)


def prose_examples(task: str) -> list[Example]:
    """Examples written in prose, for the task's one signature (``def name(``): with two
    functions shown it is not clear which one an ``Input:`` belongs to."""
    names = set(_SIGNATURE.findall(task))
    if len(names) != 1:
        return []
    name = names.pop()
    found = []
    for pattern in (_INPUT_OUTPUT, _FOR_OUTPUT):
        for match in pattern.finditer(task):
            if ex := _prose_example(name, match.group(1), match.group(2)):
                found.append(ex)
    return found


def task_examples(task: str) -> list[Example]:
    """The examples ``task`` gives of calls with literal arguments: ``f(x) == v`` (also
    ``->``, ``=>``, ``==>``, ``➞``, "should return", "returns") and doctests (``>>>
    f(x)`` with the value on the next line), and prose examples (:func:`prose_examples`).
    Anything else in the text is not read."""
    found: list[Example] = []
    for match in _DOCTEST.finditer(task):
        line_end = match.end()
        rest = task[line_end + 1:].split("\n", 1)[0].strip()
        if rest and not rest.startswith(">>>"):
            value = _leading_literal(rest)
            if value is not None and value == rest and (ex := _example(match.group(1), value)):
                found.append(ex)
    for match in re.finditer(r"\b([A-Za-z_][A-Za-z0-9_]*)\(", task):
        before = task[:match.start()]
        if before.endswith(".") or before.rstrip().endswith("def"):  # a method, a def
            continue
        end = _call_end(task, match.end() - 1)
        if end is None:
            continue
        joiner = _JOINER.match(task, end)
        if joiner is None:
            continue
        value = _leading_literal(task[joiner.end():])
        if value is not None and (ex := _example(task[match.start():end], value)):
            found.append(ex)
    found.extend(prose_examples(task))
    unique: list[Example] = []
    for ex in found:
        if ex not in unique:
            unique.append(ex)
    return unique


def probe_code(examples: list[Example]) -> str:
    """Kernel code that calls each example's function on its literal arguments (its
    prints swallowed) and prints one marked JSON line: ``[index, returned repr, holds]``
    per example. The repr is followed by both types when they differ (a list where the
    task shows a tuple is hard to see in two reprs); ``holds`` is None when the values
    cannot be compared, or when the task's value may be a one-item tuple written without
    its comma, ``("Venus")``; a prose example whose inputs do not fit the function's
    signature is left out. It defines nothing that stays."""
    cases = [[i, ex.name, ex.args, ex.kwargs, ex.expected, ex.loose]
             for i, ex in enumerate(examples)]
    return f'''def __codeact_examples(cases):
    import ast, contextlib, inspect, io, json, math
    def same(got, expected):
        if isinstance(got, float) or isinstance(expected, float):
            try:
                return math.isclose(float(got), float(expected), rel_tol=1e-6, abs_tol=1e-9)
            except (TypeError, ValueError):
                return False
        if bool(got == expected):
            return True
        if isinstance(got, (tuple, list)) and len(got) == 1 and bool(got[0] == expected):
            return None  # ("Venus") in a task's text: a one-item tuple meant, unclear
        return False
    out = []
    for index, name, args, kwargs, expected, loose in cases:
        fn = globals().get(name)
        if not callable(fn):
            continue
        if loose:
            try:
                inspect.signature(fn).bind(*ast.literal_eval(args))
            except (TypeError, ValueError):
                continue
        try:
            with contextlib.redirect_stdout(io.StringIO()), \\
                    contextlib.redirect_stderr(io.StringIO()):
                got = fn(*ast.literal_eval(args), **ast.literal_eval(kwargs))
        except Exception as exc:
            out.append([index, "raises " + type(exc).__name__ + ": " + str(exc)[:200], False])
            continue
        shown = repr(got)[:{MAX_SHOWN}]
        try:
            value = ast.literal_eval(expected)
            holds = same(got, value)
        except Exception:
            holds = None
        else:
            numbers = (int, float)
            if holds is False and type(got) is not type(value) and not (
                    type(got) in numbers and type(value) in numbers):
                shown += (" (a " + type(got).__name__ + "; the task's value is a "
                          + type(value).__name__ + ")")
        out.append([index, shown, holds])
    print({MARKER!r} + json.dumps(out))
__codeact_examples({cases!r})
del __codeact_examples'''


def read_results(output: str) -> list[tuple[int, str, bool | None]] | None:
    """The probe's marked line, or None when it printed none (it failed or timed out)."""
    for line in reversed(output.splitlines()):
        if line.startswith(MARKER):
            try:
                rows = json.loads(line[len(MARKER):])
                return [(int(i), str(got), holds) for i, got, holds in rows]
            except (ValueError, TypeError):
                return None
    return None


def _shown(text: str) -> str:
    return text if len(text) <= MAX_SHOWN else text[:MAX_SHOWN] + "..."


def _calls_any(code: str, name: str, names: set[str]) -> bool:
    """Whether the definition of ``name`` in ``code`` mentions any of ``names``."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return True
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == name:
            return any(isinstance(sub, ast.Name) and sub.id in names
                       for sub in ast.walk(node))
    return False


class TaskExamples(Hint):
    """Per run: the task's examples, and what the last check of each function found."""

    name = "task_examples"

    def __init__(self) -> None:
        self.examples: dict[str, list[Example]] = {}
        self.tools: set[str] = set()
        self._probed: list[Example] = []
        self._failing: dict[str, list[tuple[Example, str]]] = {}
        self._restarted = False

    def reset(self, run: RunStart) -> None:
        self.tools = {tool.name for tool in run.tools}
        self.examples = {}
        for ex in task_examples(run.task):
            if ex.name not in self.tools:
                self.examples.setdefault(ex.name, []).append(ex)
        for name in self.examples:
            self.examples[name] = self.examples[name][:MAX_EXAMPLES]
        self._probed, self._failing, self._restarted = [], {}, False

    def probe(self, step: Step) -> str | None:
        """The examples of the functions a successful cell defines (not one that calls a
        tool: a silent call must not change a tool's world)."""
        if not step.ok or not self.examples:
            return None
        names = [name for name in dict.fromkeys(defined_functions(step.action))
                 if name in self.examples
                 and not _calls_any(step.action, name, self.tools)]
        self._probed = [ex for name in names for ex in self.examples[name]]
        return probe_code(self._probed) if self._probed else None

    def read_probe(self, step: Step, obs: Observation) -> None:
        results = read_results(obs.stdout) if obs.ok else None
        self._restarted = obs.restarted
        if results is None:
            return
        for name in {ex.name for ex in self._probed}:
            self._failing.pop(name, None)
        for index, got, holds in results:
            if holds is False and 0 <= index < len(self._probed):
                ex = self._probed[index]
                self._failing.setdefault(ex.name, []).append((ex, got))

    def _failures(self, name: str) -> str:
        parts = []
        for ex, got in self._failing[name][:3]:
            said = got if got.startswith("raises ") else f"returns {_shown(got)}"
            parts.append(f"`{_shown(ex.call)}` {said}, the task says {_shown(ex.expected)}")
        return "; ".join(parts)

    def after_action(self, step: Step, so_far: Verdict) -> Advice | None:
        """A failing example of a function the cell defines is named (not for a cell that
        submitted it: the answer check's refusal names it)."""
        if self._restarted:
            self._restarted = False
            return Advice(note="Note: checking the task's examples on your function ran "
                               "too long, and the kernel had to be restarted: define your "
                               "functions and variables again (files stay).", problem=True)
        submitted = step.observation is not None and step.observation.final_answer is not None
        names = [name for name in dict.fromkeys(defined_functions(step.action))
                 if name in self._failing] if step.ok and not submitted else []
        if not names:
            return None
        notes = [f"Note: your `{name}` does not match the task's own examples: "
                 f"{self._failures(name)}. Fix `{name}` before you submit it."
                 for name in names]
        return Advice(note="\n".join(notes), problem=True)

    def checks_answer(self, answer: str, step: Step | None = None) -> str | None:
        """A submitted function whose last definition fails one of the task's examples is
        refused once (the examples may be read wrong: a resend stands)."""
        for name in self._failing:
            if re.search(rf"\bdef {re.escape(name)}\s*\(", answer):
                return (f"Your `{name}` does not match the task's own examples: "
                        f"{self._failures(name)}. Fix it, check it on the task's examples, "
                        f"and submit it again.")
        return None
