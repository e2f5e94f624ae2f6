"""What the model must see when a conversation resumes after a crash.

The hub saves the model's messages as a snapshot at every turn boundary (see
``Store.save_agent_messages``): the snapshot says which timeline position it covers and
whether a code action's observation was still outstanding. A server killed mid-run
leaves timeline items the user saw (their message, streamed text, code, output) past the
last snapshot; :func:`model_history` turns those back into model messages, so the model
resumes seeing everything the user saw.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

KERNEL_LOST_NOTICE_PREFIX = "The Python kernel of this conversation was closed"
CUT_OUTPUT_NOTE = ("[The server stopped while this cell was running: the output above is "
                   "all it printed before that, and the kernel's variables were lost.]")


def observation_text(observation: Mapping[str, Any] | None) -> str:
    """What the model is shown for a code action's (possibly unfinished) observation."""
    if observation is None:
        return CUT_OUTPUT_NOTE
    if observation.get("text") and observation["text"] != "(interrupted)":
        return str(observation["text"])
    parts = []
    if observation.get("stdout"):
        parts.append(str(observation["stdout"]).rstrip("\n"))
    if observation.get("stderr"):
        parts.append("[stderr]\n" + str(observation["stderr"]).rstrip("\n"))
    parts.append(CUT_OUTPUT_NOTE)
    return "\n".join(parts)


def model_history(snapshot: Mapping[str, Any], timeline: Sequence[Mapping[str, Any]],
                  kernel_lost_hint: str = "") -> list[dict[str, Any]]:
    """The snapshot's messages plus model messages for the timeline items past it.

    ``snapshot``: ``{"messages", "seq", "open_code"}`` as ``Store.agent_snapshot`` gives
    it (``seq`` None: an old snapshot with no position, taken as complete).
    ``kernel_lost_hint``: prefixed to a user message that followed a kernel-lost notice,
    as the hub does for the live model.
    """
    messages = [dict(m) for m in snapshot.get("messages") or [] if m.get("role") != "system"]
    seq = snapshot.get("seq")
    if seq is None:
        return messages
    added: list[dict[str, Any]] = []
    open_code = snapshot.get("open_code")
    if open_code is not None:
        for item in timeline:
            if item.get("type") == "code" and item.get("id") == open_code:
                added.append({"role": "user", "content": "Observation:\n"
                              + observation_text(item.get("observation"))})
    answered_turns: set[int] = set()  # turns of the current run with an assistant reply
    hint = False
    for item in timeline:
        if item.get("seq", 0) < seq:
            continue
        if item.get("type") == "code":
            # its code is part of the assistant message that streamed it; the model still
            # has to see what it printed
            added.append({"role": "user", "content": "Observation:\n"
                          + observation_text(item.get("observation"))})
            continue
        role, kind, content = item.get("role"), item.get("kind"), str(item.get("content", ""))
        if role == "user":
            added.append({"role": "user",
                          "content": (kernel_lost_hint if hint else "") + content})
            hint = False
            answered_turns.clear()  # a new run numbers its turns from 1 again
        elif role == "assistant":
            turn = item.get("turn")
            if turn is not None and turn in answered_turns:
                continue  # a separate answer item repeats the turn's own reply
            if turn is not None:
                answered_turns.add(turn)
            if content:
                added.append({"role": "assistant", "content": content})
        elif role == "system" and kind == "feedback":
            added.append({"role": "user", "content": f"Observation:\n{content}"})
        elif role == "system" and kind == "notice" and content.startswith(
                KERNEL_LOST_NOTICE_PREFIX):
            hint = bool(kernel_lost_hint)
        # other system items (errors, "Stopped.") were never shown to the model
    return _merge_roles(messages, added)


def _merge_roles(messages: list[dict[str, Any]],
                 added: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Append ``added``, joining consecutive messages of one role (strict chat templates
    want user and assistant to alternate)."""
    out = list(messages)
    for m in added:
        if out and out[-1].get("role") == m["role"] and isinstance(out[-1].get("content"), str):
            out[-1] = {**out[-1], "content": f"{out[-1]['content']}\n\n{m['content']}"}
        else:
            out.append(m)
    return out
