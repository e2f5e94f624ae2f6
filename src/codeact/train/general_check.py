"""The general check of ``codeact train compare``: plain questions with known answers
(seeded arithmetic and a shipped list of knowledge questions), asked without tools or a
system prompt, graded by the reply's last number or a whole word. Its own module because
stored general-check results depend on it (the compare's settings guard digests it),
while the compare's tables and plots do not."""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

GENERAL_FILE = "general_check.jsonl"


def general_items(n_arithmetic: int = 30, seed: int = 0,
                  path: str | Path | None = None) -> list[dict[str, Any]]:
    """Questions with known answers: seeded arithmetic plus the shipped knowledge list."""
    rng = random.Random(f"general-check/{seed}")
    items: list[dict[str, Any]] = []
    for i in range(n_arithmetic):
        a, b = rng.randint(2, 60), rng.randint(2, 40)
        op = ("plus", "minus", "times")[i % 3]
        value = a + b if op == "plus" else a - b if op == "minus" else a * b
        items.append({"question": f"What is {a} {op} {b}? Reply with the number.",
                      "answers": [str(value)], "kind": "arithmetic"})
    src = Path(path) if path else Path(str(resources.files("codeact.train") / "prompts"
                                           / GENERAL_FILE))
    for line in src.read_text(encoding="utf-8").splitlines():
        if line.strip():
            rec = json.loads(line)
            items.append({"question": rec["question"], "answers": rec["answer"].split("|"),
                          "kind": "knowledge"})
    return items


_NUM = re.compile(r"-?\d+(?:\.\d+)?")


def grade_general(reply: str, answers: Sequence[str]) -> bool:
    """Numbers: the reply's last number equals one of them. Words: one of them appears as
    a whole word (case-insensitive)."""
    text = reply.replace(",", "")
    for ans in answers:
        if _NUM.fullmatch(ans):
            nums = _NUM.findall(text)
            if nums and float(nums[-1]) == float(ans):
                return True
        elif re.search(rf"(?<!\w){re.escape(ans.lower())}(?!\w)", text.lower()):
            return True
    return False


def run_general(llm: Any, items: list[dict[str, Any]], max_tokens: int = 96,
                on_item: Callable[[dict[str, Any]], None] | None = None
                ) -> list[dict[str, Any]]:
    """Ask each question with no tools or system prompt; one graded record each."""
    records = []
    for item in items:
        completion = llm.complete([{"role": "user", "content": item["question"]}],
                                  max_tokens=max_tokens, temperature=0.0)
        rec = {**item, "reply": completion.text,
               "correct": grade_general(completion.text, item["answers"])}
        records.append(rec)
        if on_item is not None:
            on_item(rec)
    return records
