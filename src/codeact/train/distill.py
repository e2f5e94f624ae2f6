"""Self-distillation: general conversations written by the base model itself.

Mixing these into fine-tuning (``codeact train --mix general.jsonl:0.3``) keeps the base's
general behaviour without any outside data: the model is taught to keep answering plain
questions the way it already did, while it learns code actions from the rest.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

from codeact.errors import CodeactError

DEFAULT_PROMPTS = "general_prompts.txt"


class DistillError(CodeactError, ValueError):
    """Bad prompts file or output (one clear line)."""


def default_prompts_path() -> Path:
    """The prompt list shipped with codeact (general questions, no tools needed)."""
    return Path(str(resources.files("codeact.train") / "prompts" / DEFAULT_PROMPTS))


def load_prompts(path: str | Path) -> list[str]:
    """Prompts from a text file (one per line; blank and ``#`` lines skipped) or a JSONL
    file of objects with a ``prompt``, ``instruction`` or ``question`` field."""
    path = Path(path)
    if not path.is_file():
        raise DistillError(f"prompts file not found: {path}")
    prompts: list[str] = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if path.suffix.lower() in (".jsonl", ".json"):
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DistillError(f"{path.name}:{lineno}: not valid JSON ({exc.msg})") from None
            text = next((rec[k] for k in ("prompt", "instruction", "question")
                         if isinstance(rec, dict) and isinstance(rec.get(k), str)), None)
            if text is None:
                raise DistillError(f"{path.name}:{lineno}: no 'prompt' field")
            prompts.append(text.strip())
        else:
            prompts.append(line)
    if not prompts:
        raise DistillError(f"{path}: no prompts")
    return prompts


def _done_ids(out: Path) -> set[str]:
    done: set[str] = set()
    if out.is_file():
        for line in out.read_text(encoding="utf-8").splitlines():
            try:
                done.add(json.loads(line)["id"])
            except (json.JSONDecodeError, KeyError, TypeError):
                continue  # a torn last line from an interrupted run is rewritten
    return done


def self_distill(llm: Any, prompts: list[str], out: Path, *, max_tokens: int = 512,
                 long_tokens: int = 2048, temperature: float = 0.0, system: str | None = None,
                 on_item: Callable[[dict[str, Any]], None] | None = None) -> dict[str, int]:
    """Let ``llm`` answer every prompt; append ``{"id", "messages"}`` lines to ``out``.

    Resumes: prompts whose id is already in ``out`` are skipped. A reply cut off at
    ``max_tokens`` (the agent's turn limit) is asked again with ``long_tokens`` and kept
    whole when it ends: dropping the base's long answers would teach it to be shorter
    than it is. Empty replies, and replies that do not end even then (rambling), are not
    written; ``long_tokens=0`` drops every cut-off reply.
    """
    out.parent.mkdir(parents=True, exist_ok=True)
    done = _done_ids(out)
    model = getattr(llm, "name", type(llm).__name__).replace("/", "__")
    stats = {"prompts": len(prompts), "written": 0, "skipped_done": 0, "dropped_empty": 0,
             "dropped_cut_off": 0, "kept_long": 0, "completion_tokens": 0}
    _truncate_torn_line(out)
    with out.open("a", encoding="utf-8") as fh:
        for i, prompt in enumerate(prompts):
            rid = f"self-distill/{model}/{i}"
            if rid in done:
                stats["skipped_done"] += 1
                continue
            messages = ([{"role": "system", "content": system}] if system else []) + [
                {"role": "user", "content": prompt}]
            completion = llm.complete(messages, max_tokens=max_tokens, temperature=temperature)
            long = completion.finish_reason == "length" and long_tokens > max_tokens
            if long:  # asked again whole: a chat API cannot continue a reply it cut
                completion = llm.complete(messages, max_tokens=long_tokens,
                                          temperature=temperature)
            stats["completion_tokens"] += completion.completion_tokens
            reply = completion.text.strip()
            item = {"id": rid, "messages": [*messages, {"role": "assistant", "content": reply}],
                    "source": "self-distill", "model": model}
            if not reply:
                stats["dropped_empty"] += 1
            elif completion.finish_reason == "length":
                stats["dropped_cut_off"] += 1
            else:
                fh.write(json.dumps(item, ensure_ascii=False) + "\n")
                fh.flush()
                stats["written"] += 1
                stats["kept_long"] += long
            if on_item is not None:
                on_item(item)
    return stats


def _truncate_torn_line(out: Path) -> None:
    if out.is_file():
        data = out.read_bytes()
        if data and not data.endswith(b"\n"):
            out.write_bytes(data[: data.rfind(b"\n") + 1])
