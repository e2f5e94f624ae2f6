"""Training data: read conversation JSONL in the formats people actually have, and mix.

Accepted records (one JSON object per line):

- the published CodeActInstruct schema ``{"id", "conversations": [{"role", "content"}]}``
  (observations are ``user`` turns);
- general conversations as ``{"messages": [{"role", "content"}]}`` (OpenAI style);
- ShareGPT ``{"conversations": [{"from": "human"|"gpt"|"system", "value": ...}]}``.

Roles are normalised to system / user / assistant (tool, observation, function and ipython
turns become user turns, as in CodeActInstruct) and consecutive turns of the same role are
joined, because most chat templates reject two user turns in a row.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codeact.errors import CodeactError

ROLE_MAP = {
    "system": "system",
    "user": "user", "human": "user",
    "assistant": "assistant", "gpt": "assistant", "bot": "assistant", "model": "assistant",
    "chatgpt": "assistant",
    "observation": "user", "tool": "user", "function": "user", "ipython": "user",
}


class DataError(CodeactError, ValueError):
    """A training file or record is unusable; the message names the file and line."""


@dataclass
class Example:
    """One conversation to train on."""

    id: str
    messages: list[dict[str, str]]
    source: str = ""
    meta: dict[str, Any] = field(default_factory=dict)


def normalize_messages(raw: Any, where: str = "record") -> list[dict[str, str]]:
    """OpenAI-style or ShareGPT turns → ``[{"role", "content"}]`` with merged repeats."""
    if not isinstance(raw, list) or not raw:
        raise DataError(f"{where}: the conversation must be a non-empty list of turns")
    out: list[dict[str, str]] = []
    for i, turn in enumerate(raw):
        if not isinstance(turn, dict):
            raise DataError(f"{where}: turn {i} is not an object")
        role = turn.get("role", turn.get("from"))
        content = turn.get("content", turn.get("value"))
        if not isinstance(role, str) or role.lower() not in ROLE_MAP:
            raise DataError(f"{where}: turn {i} has unknown role {role!r} "
                            f"(known: {', '.join(sorted(ROLE_MAP))})")
        if isinstance(content, list):  # OpenAI content parts: keep the text ones
            content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
        if not isinstance(content, str):
            raise DataError(f"{where}: turn {i} has no text content")
        role = ROLE_MAP[role.lower()]
        if role == "system" and out:
            role = "user"  # a late system message is an instruction like any other
        if out and out[-1]["role"] == role:
            out[-1]["content"] += "\n\n" + content
        else:
            out.append({"role": role, "content": content})
    if not any(m["role"] == "assistant" and m["content"].strip() for m in out):
        raise DataError(f"{where}: the conversation has no assistant turn to learn from")
    return out


def record_to_example(record: Any, where: str, source: str = "") -> Example:
    """One JSON record in any accepted format → :class:`Example`."""
    if not isinstance(record, dict):
        raise DataError(f"{where}: expected a JSON object")
    if "conversations" in record:
        raw = record["conversations"]
    elif "messages" in record:
        raw = record["messages"]
    else:
        raise DataError(f"{where}: no 'conversations' or 'messages' field "
                        "(expected the CodeActInstruct, messages or ShareGPT format)")
    messages = normalize_messages(raw, where)
    rid = str(record.get("id") or where)
    return Example(rid, messages, source=source)


def load_file(path: str | Path, *, skip_bad: bool = True) -> tuple[list[Example], list[str]]:
    """Examples from a JSONL file (or a JSON list), and a message for each skipped line."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"training file not found: {path}")
    text = path.read_text(encoding="utf-8")
    records: Iterable[tuple[int, Any]]
    stripped = text.lstrip()
    if stripped.startswith("["):
        try:
            records = enumerate(json.loads(text), 1)
        except json.JSONDecodeError as exc:
            raise DataError(f"{path}: not valid JSON ({exc.msg}, line {exc.lineno})") from None
    else:
        records = _jsonl(path, text)
    examples: list[Example] = []
    skipped: list[str] = []
    for lineno, record in records:
        where = f"{path.name}:{lineno}"
        try:
            if isinstance(record, DataError):
                raise record
            examples.append(record_to_example(record, where, source=str(path)))
        except DataError as exc:
            if not skip_bad:
                raise
            skipped.append(str(exc))
    if not examples:
        detail = f" (first problem: {skipped[0]})" if skipped else ""
        raise DataError(f"{path}: no usable conversations{detail}")
    return examples, skipped


def _jsonl(path: Path, text: str) -> Iterable[tuple[int, Any]]:
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            yield lineno, json.loads(line)
        except json.JSONDecodeError as exc:
            yield lineno, DataError(f"{path.name}:{lineno}: not valid JSON ({exc.msg})")


def parse_mix(spec: str) -> tuple[Path, float]:
    """``general.jsonl:0.3`` → (path, 0.3): that file makes 30% of the training mix."""
    path, sep, ratio = spec.rpartition(":")
    if not sep or not path:
        raise DataError(f"--mix {spec!r}: write FILE:RATIO, e.g. general.jsonl:0.3")
    try:
        value = float(ratio)
    except ValueError:
        raise DataError(f"--mix {spec!r}: {ratio!r} is not a number") from None
    if not 0 < value < 1:
        raise DataError(f"--mix {spec!r}: the ratio must be between 0 and 1 (exclusive)")
    return Path(path), value


def mix(main: Sequence[Example], extras: Sequence[tuple[Sequence[Example], float]],
        seed: int = 0) -> tuple[list[Example], dict[str, int]]:
    """Main examples plus each extra set drawn to make ``ratio`` of the final mix.

    An extra set smaller than its share is repeated (reshuffled each pass), so a small
    general set still weighs what was asked. Returns the shuffled mix and counts by source.
    """
    total_ratio = sum(r for _, r in extras)
    if total_ratio >= 1:
        raise DataError(f"the --mix ratios add up to {total_ratio:g}; they must leave room "
                        "for the main data (sum < 1)")
    rng = random.Random(seed)
    out = list(main)
    counts = {"main": len(main)}
    for examples, ratio in extras:
        want = round(len(main) * ratio / (1 - total_ratio)) if main else len(examples)
        picked: list[Example] = []
        while len(picked) < want and examples:
            pool = list(examples)
            rng.shuffle(pool)
            picked.extend(pool[: want - len(picked)])
        name = examples[0].source if examples else "?"
        counts[name] = counts.get(name, 0) + len(picked)
        out.extend(picked)
    rng.shuffle(out)
    return out, counts
