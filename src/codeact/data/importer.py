"""Import conversations from other datasets into this schema, to mix them in.

Accepted JSONL line forms (``kind="auto"`` tells them apart per line):

- ``codeact``: the published CodeActInstruct form, ``{"id", "conversations": [{"role",
  "content"}]}``; the id's parts (``task_type/task_name/task_id/model/setting``) fill the
  metadata;
- ``messages``: OpenAI-style ``{"messages": [{"role", "content"}]}``;
- ``sharegpt``: ``{"conversations": [{"from": "human" | "gpt" | "system", "value"}]}``.

Every imported record gets ``source_type`` ``imported`` and a ``source`` (the file name
unless given) so the data card tells imported data from collected data.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from codeact.data.export import normalize_metadata

KINDS = ("auto", "codeact", "messages", "sharegpt")
_SHAREGPT_ROLES = {"human": "user", "user": "user", "gpt": "assistant",
                   "assistant": "assistant", "chatgpt": "assistant", "bing": "assistant",
                   "bard": "assistant", "model": "assistant", "system": "system",
                   "tool": "user", "observation": "user", "function_response": "user"}


def detect(row: dict[str, Any]) -> str:
    """Which form a line has; ValueError when none fits."""
    if isinstance(row.get("messages"), list):
        return "messages"
    conv = row.get("conversations")
    if isinstance(conv, list) and conv:
        first = conv[0]
        if isinstance(first, dict) and "from" in first and "value" in first:
            return "sharegpt"
        if isinstance(first, dict) and "role" in first and "content" in first:
            return "codeact"
    raise ValueError("neither 'messages' nor 'conversations' with role/content or "
                     "from/value entries")


def _turns(items: list[Any], role_key: str, content_key: str, mapping: dict[str, str] | None
           ) -> list[dict[str, str]]:
    out = []
    for i, m in enumerate(items):
        if not isinstance(m, dict) or role_key not in m:
            raise ValueError(f"turn {i + 1} has no {role_key!r}")
        role = str(m[role_key])
        if mapping is not None:
            if role.lower() not in mapping:
                raise ValueError(f"turn {i + 1} has unknown speaker {role!r}")
            role = mapping[role.lower()]
        elif role not in ("system", "user", "assistant"):
            raise ValueError(f"turn {i + 1} has role {role!r}; expected system, user or "
                             "assistant")
        out.append({"role": role, "content": str(m.get(content_key) or "")})
    if not any(t["role"] == "assistant" for t in out):
        raise ValueError("no assistant turn")
    return out


def convert(row: dict[str, Any], *, kind: str, source: str, line: int) -> dict[str, Any]:
    """One line → ``{"id", "conversations", "metadata"}``."""
    form = detect(row) if kind == "auto" else kind
    if form == "messages":
        if not isinstance(row.get("messages"), list):
            raise ValueError("no 'messages' list")
        conv = _turns(row["messages"], "role", "content", None)
    elif form == "sharegpt":
        conv = _turns(row.get("conversations") or [], "from", "value", _SHAREGPT_ROLES)
    elif form == "codeact":
        conv = _turns(row.get("conversations") or [], "role", "content", None)
    else:
        raise ValueError(f"unknown kind {kind!r}; choose from {', '.join(KINDS)}")
    rid = str(row.get("id") or f"{source}/{line}")
    meta: dict[str, Any] = {"source": source, "source_type": "imported",
                            "task": rid, "assistant_turns":
                            sum(1 for t in conv if t["role"] == "assistant")}
    if form == "codeact":
        parts = rid.split("/")
        if len(parts) >= 5:
            meta.update({"family": parts[0], "kind": parts[1], "task_id": parts[2],
                         "teacher": parts[3].replace("__", "/"), "action_format": parts[4]})
    else:
        meta.update({"family": source, "kind": form})
    return {"id": rid, "conversations": conv, "metadata": normalize_metadata(meta)}


def import_file(path: str | Path, *, kind: str = "auto", source: str | None = None
                ) -> list[dict[str, Any]]:
    """Every line of a JSONL file converted; errors name the file and line."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; choose from {', '.join(KINDS)}")
    p = Path(path)
    name = source or p.stem
    out = []
    with p.open(encoding="utf-8") as fh:
        for i, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                if not isinstance(row, dict):
                    raise ValueError("not a JSON object")
                out.append(convert(row, kind=kind, source=name, line=i))
            except json.JSONDecodeError as exc:
                raise ValueError(f"{p}:{i}: not JSON: {exc.msg}") from None
            except ValueError as exc:
                raise ValueError(f"{p}:{i}: {exc}") from None
    return out
