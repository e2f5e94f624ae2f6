"""Keep a conversation inside the model's context window.

A long run must never end on "prompt is N tokens but the context window is M". The
agent keeps the full history (the trajectory records everything); what the model sees
is a view where older observations, then older actions, are shortened. The system
prompt and the task are never touched. Shortening happens in blocks and, once done,
stays done: the view's prefix then changes rarely, so a backend's KV prefix cache keeps
being useful between turns.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from codeact.agent.hints.repeats import normalize
from codeact.agent.observe import NOTES_HEADING
from codeact.llm.base import estimate_tokens

Message = dict[str, Any]
TokenCounter = Callable[[Sequence[Message]], int]

OBSERVATION_PREFIX = "Observation:"
KEEP_CHARS = 300  # head and tail kept of a shortened message
BLOCK = 3  # messages shortened together, so the prefix changes rarely
# the turns-left note (observe.turns_left_note), ignored when repeats are compared
_TURNS_LEFT = re.compile(r"^You have (?:no|\d+) turns? left\b.*$", re.MULTILINE)
DROPPED_NOTE = ("Observation:\n[earlier turns were removed to fit the context window; the "
                "variables and files they made still exist in the kernel]")


def shorten(text: str, keep: int = KEEP_CHARS, what: str = "message") -> str:
    """Head and tail of ``text`` with a note of how much was removed."""
    if len(text) <= 2 * keep + 80:
        return text
    dropped = len(text) - 2 * keep
    return (f"{text[:keep]}\n[... {dropped:,} characters of this older {what} removed to fit "
            f"the context window ...]\n{text[-keep:]}")


class ContextBudget:
    """Builds the model's view of a conversation within ``budget`` tokens.

    ``budget``: tokens the prompt may use (the context window minus the reply's room).
    ``count``: the backend's token counter (or :func:`estimate_tokens`).
    ``keep_last``: how many of the newest observations and actions are never shortened
    (unless nothing else is left to shorten).
    """

    def __init__(self, budget: int, count: TokenCounter = estimate_tokens,
                 keep_last: int = 2) -> None:
        self.budget = int(budget)
        self.count = count
        self.keep_last = keep_last
        self._short: dict[int, str] = {}  # message index -> its shortened content
        self._dropped_before = 0  # messages [first_turn, this) are left out of the view
        self.shortened_total = 0

    def reset(self) -> None:
        """Forget what was shortened (a new conversation)."""
        self._short.clear()
        self._dropped_before = 0

    def view(self, messages: Sequence[Message]) -> list[Message]:
        """The messages to send: unchanged when they fit, shortened when not."""
        out = self._render(messages)
        if self.count(out) <= self.budget:
            return out
        protected = _protected(messages)
        for role, what in (("user", "observation"), ("assistant", "reply")):
            while True:
                picked = self._candidates(messages, protected, role, self.keep_last)
                if not picked:
                    break
                for i in picked[:BLOCK]:
                    self._short[i] = shorten(str(messages[i].get("content") or ""),
                                             what=what)
                    self.shortened_total += 1
                out = self._render(messages)
                if self.count(out) <= self.budget:
                    return out
        # still too long: leave out the oldest exchanges after the task, a block at a time
        first = max(protected) + 1 if protected else 0
        limit = len(messages) - 2 * self.keep_last  # keep the newest exchanges
        limit -= (limit - first) % 2  # drop whole (reply, observation) pairs
        while self.count(out) > self.budget:
            nxt = min(max(self._dropped_before, first) + 2 * BLOCK, limit)
            if nxt <= self._dropped_before:
                break
            self._dropped_before = nxt
            out = self._render(messages)
        # last resort: the newest messages themselves are too long
        for keep in (KEEP_CHARS, 100, 30):
            if self.count(out) <= self.budget:
                break
            for i in range(len(messages) - 1, first - 1, -1):
                if i not in protected and i >= self._dropped_before:
                    self._short[i] = shorten(str(messages[i].get("content") or ""), keep)
            out = self._render(messages)
        return out

    def _candidates(self, messages: Sequence[Message], protected: set[int], role: str,
                    keep_last: int) -> list[int]:
        idx = [i for i, m in enumerate(messages)
               if m.get("role") == role and i not in protected and i >= self._dropped_before
               and (role != "user" or str(m.get("content", "")).startswith(OBSERVATION_PREFIX))]
        newest = set(idx[-keep_last:]) if keep_last else set()
        return [i for i in idx if i not in self._short and i not in newest
                and len(str(messages[i].get("content") or "")) > 2 * KEEP_CHARS + 80]

    def _render(self, messages: Sequence[Message]) -> list[Message]:
        protected = _protected(messages)
        out: list[Message] = []
        note_added = False
        for i, m in enumerate(messages):
            if i not in protected and i < self._dropped_before:
                if not note_added:
                    out.append({"role": "user", "content": DROPPED_NOTE})
                    note_added = True
                continue
            if i in self._short:
                out.append({**m, "content": self._short[i]})
            else:
                out.append(dict(m))
        return out


def _protected(messages: Sequence[Message]) -> set[int]:
    """The system prompt and the task: the leading system messages and the first user
    message that is not an observation."""
    keep: set[int] = set()
    for i, m in enumerate(messages):
        if m.get("role") == "system":
            keep.add(i)
            continue
        if m.get("role") == "user" and not str(m.get("content", "")).startswith(
                OBSERVATION_PREFIX):
            keep.add(i)
        break
    return keep


def collapse_repeats(messages: Sequence[Message], *,
                     heading: bool = True) -> list[Message]:
    """The view with each run of one action sent again and again, with the same output
    each time, shown once: the last exchange of the run, its notes saying how often.

    A model copies its own earlier reply from the context with near certainty; three
    identical failed attempts in view invite a fourth. The trajectory keeps them all.
    ``heading=False`` (observations without :data:`NOTES_HEADING`, the ``notes_heading``
    ablation): the whole observation is compared, its turns-left line left out, and the
    count follows as a plain line.
    """
    split = f"\n\n{NOTES_HEADING}\n"

    def key(i: int) -> tuple[str, str] | None:
        """(reply, output) of the exchange at ``i``, when ``i`` starts one."""
        if i + 1 >= len(messages) or messages[i].get("role") != "assistant":
            return None
        obs = str(messages[i + 1].get("content") or "")
        if messages[i + 1].get("role") != "user" or not obs.startswith(OBSERVATION_PREFIX):
            return None
        output = obs.split(split)[0] if heading else _TURNS_LEFT.sub("", obs)
        return str(messages[i].get("content") or "").strip(), normalize(output)

    out: list[Message] = []
    i = 0
    while i < len(messages):
        first = key(i)
        run = 1
        while first is not None and key(i + 2 * run) == first:
            run += 1
        if run == 1:
            out.append(messages[i])
            i += 1
            continue
        last = i + 2 * (run - 1)
        note = (f"This same reply was sent {run} times in a row and gave this same output "
                "each time; only the last is shown.")
        obs = str(messages[last + 1].get("content") or "")
        if heading:
            head, sep, notes = obs.partition(split)
            obs = f"{head}{sep}{note}\n{notes}" if sep else f"{obs}{split}{note}"
        else:
            obs = f"{obs}\n{note}"
        out += [messages[last], {**messages[last + 1], "content": obs}]
        i = last + 2
    return out


def with_note(messages: Sequence[Message], note: str, *,
              heading: bool = True) -> list[Message]:
    """The view with ``note`` added to the notes of its last observation (or as a new
    observation when the view does not end with one): what the model sees changes, the
    conversation does not. ``heading=False``: the note is a plain last line (the
    ``notes_heading`` ablation)."""
    out = list(messages)
    last = out[-1] if out else None
    top = f"{NOTES_HEADING}\n" if heading else ""
    if last is None or last.get("role") != "user" or \
            not str(last.get("content") or "").startswith(OBSERVATION_PREFIX):
        return [*out, {"role": "user", "content": f"{OBSERVATION_PREFIX}\n{top}{note}"}]
    content = str(last.get("content") or "")
    if heading:
        head, sep, notes = content.partition(f"\n\n{NOTES_HEADING}\n")
        content = f"{head}{sep}{notes}\n{note}" if sep else \
            f"{content}\n\n{NOTES_HEADING}\n{note}"
    else:
        content = f"{content}\n{note}"
    out[-1] = {**last, "content": content}
    return out


def without_action(messages: Sequence[Message], action: str) -> list[Message]:
    """The view without the exchanges whose reply holds ``action`` (the code of a repeat,
    or its tool call): a model copies its own earlier cell from the context with near
    certainty, so the retry is asked from a context that does not hold the copy. The
    system prompt and the task stay."""
    needle = action.strip()
    protected = _protected(messages)
    out: list[Message] = []
    skip_observation = False
    for i, m in enumerate(messages):
        content = str(m.get("content") or "")
        if skip_observation and m.get("role") == "user" and \
                content.startswith(OBSERVATION_PREFIX):
            skip_observation = False
            continue
        skip_observation = False
        if i not in protected and m.get("role") == "assistant" and needle and \
                needle in content:
            skip_observation = True
            continue
        out.append(m)
    return out
