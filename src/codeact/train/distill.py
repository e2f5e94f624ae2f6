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
from codeact.llm.base import Completion
from codeact.llm.repetition import LoopWatch

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

    Resumes: prompts whose id is already in ``out`` are skipped. A reply longer than
    ``max_tokens`` (the agent's turn limit) is kept whole when it ends within
    ``long_tokens``: dropping the base's long answers would teach it to be shorter than it
    is. Each prompt is asked once, with the larger budget (asking again after a cut-off
    made the first 512 tokens twice), and the stream stops as soon as the reply loops
    (:class:`~codeact.llm.repetition.LoopWatch`): such replies never ended and cost
    minutes each. Empty, looping and cut-off replies are not written; ``long_tokens=0``
    drops every reply longer than ``max_tokens``.
    """
    out.parent.mkdir(parents=True, exist_ok=True)
    done = _done_ids(out)
    model = getattr(llm, "name", type(llm).__name__).replace("/", "__")
    stats = {"prompts": len(prompts), "written": 0, "skipped_done": 0, "dropped_empty": 0,
             "dropped_cut_off": 0, "dropped_looping": 0, "kept_long": 0,
             "completion_tokens": 0}
    budget = max(max_tokens, long_tokens)
    _truncate_torn_line(out)
    with out.open("a", encoding="utf-8") as fh:
        for i, prompt in enumerate(prompts):
            rid = f"self-distill/{model}/{i}"
            if rid in done:
                stats["skipped_done"] += 1
                continue
            messages = ([{"role": "system", "content": system}] if system else []) + [
                {"role": "user", "content": prompt}]
            completion = _reply(llm, messages, budget, temperature)
            item = {"id": rid, "messages": messages, "source": "self-distill", "model": model}
            if completion is None:
                stats["dropped_looping"] += 1
            else:
                stats["completion_tokens"] += completion.completion_tokens
                reply = completion.text.strip()
                item["messages"] = [*messages, {"role": "assistant", "content": reply}]
                if not reply:
                    stats["dropped_empty"] += 1
                elif completion.finish_reason == "length":
                    stats["dropped_cut_off"] += 1
                else:
                    fh.write(json.dumps(item, ensure_ascii=False) + "\n")
                    fh.flush()
                    stats["written"] += 1
                    stats["kept_long"] += completion.completion_tokens > max_tokens
            if on_item is not None:
                on_item(item)
    return stats


def _reply(llm: Any, messages: list[dict[str, Any]], budget: int,
           temperature: float) -> Completion | None:
    """The model's whole reply, or None when it looped (the stream is closed there)."""
    stream = llm.stream(messages, max_tokens=budget, temperature=temperature)
    watch = LoopWatch()
    try:
        for item in stream:
            if isinstance(item, Completion):
                return item
            if watch.feed(item):
                return None
    finally:
        close = getattr(stream, "close", None)  # a generator: the backend stops there
        if close is not None:
            close()
    raise DistillError("the model's stream ended without a reply")


def _truncate_torn_line(out: Path) -> None:
    if out.is_file():
        data = out.read_bytes()
        if data and not data.endswith(b"\n"):
            out.write_bytes(data[: data.rfind(b"\n") + 1])
