"""Filtering and cleaning collected trajectories, each rule a flag (defaults as published).

Rules, applied in this order to the raw collection records (one per task and sample):

1. ``solved``: the checker accepted the answer;
2. ``invalid``: no invalid-action turn; ``drop`` the trajectory (default), ``repair``
   it (cut out each invalid reply and the correction it got, renumber the turns-left
   notes) or ``keep`` it;
3. ``min_turns``: more than 2 assistant turns (``min_turns=3``): a task solved in one or
   two turns teaches little multi-turn behaviour;
4. ``exec_success``: at least one code execution ran without an error (a trajectory with
   no execution at all is dropped too: it teaches no code action);
5. ``require_recovery`` (off by default): an execution error later fixed;
6. ``no_repeats`` (not in the published recipe, on by default): no action run twice (the
   same program, whatever its comments) and no answer the agent submitted for a stuck
   run: a trajectory that loops teaches looping, even when it ends solved;
7. ``dedup``: identical conversations kept once;
8. ``decontaminate``: no 13-gram shared with an evaluation suite's instruction.

:func:`apply` returns the kept items and a funnel (how many remain after each rule).
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from codeact.agent.observe import turns_left_note
from codeact.syntax import program_key
from codeact.trajectory import CODE_ACTIONS, ActionKind

INVALID_MODES = ("drop", "repair", "keep")
# turn actions that ran code (see Agent: a cell, with an answer, or submitted when stuck)


@dataclass
class FilterConfig:
    solved: bool = True
    invalid: str = "drop"
    min_turns: int = 3
    exec_success: bool = True
    require_recovery: bool = False
    no_repeats: bool = True
    dedup: bool = True
    decontaminate: bool = True

    def __post_init__(self) -> None:
        if self.invalid not in INVALID_MODES:
            raise ValueError(f"invalid-turn mode must be one of {', '.join(INVALID_MODES)}")
        if self.min_turns < 0:
            raise ValueError("min_turns must be >= 0")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Item:
    """One trajectory under filtering: its raw record, conversation and turns."""

    record: dict[str, Any]
    messages: list[dict[str, Any]]
    turns: list[dict[str, Any]]
    repaired: bool = False

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Item | None:
        traj = record.get("trajectory")
        if not isinstance(traj, dict) or not traj.get("messages"):
            return None
        return cls(record, copy.deepcopy(traj["messages"]), copy.deepcopy(traj.get("turns")
                                                                          or []))

    @property
    def name(self) -> str:
        return str(self.record.get("task"))

    @property
    def instruction(self) -> str:
        return next((str(m.get("content") or "") for m in self.messages
                     if m.get("role") == "user"), "")

    @property
    def assistant_turns(self) -> int:
        return sum(1 for m in self.messages if m.get("role") == "assistant")

    def conversation_key(self) -> str:
        norm = [(m.get("role"), re.sub(r"\s+", " ", str(m.get("content") or "")).strip())
                for m in self.messages]
        return hashlib.sha256(json.dumps(norm).encode()).hexdigest()


@dataclass
class FilterReport:
    total: int = 0
    funnel: list[tuple[str, int]] = field(default_factory=list)  # (rule, remaining)
    dropped: dict[str, list[str]] = field(default_factory=dict)  # rule -> task names
    repaired: int = 0
    decontamination: list[dict[str, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"total": self.total, "funnel": [{"rule": r, "remaining": n}
                                                for r, n in self.funnel],
                "dropped": self.dropped, "repaired": self.repaired,
                "decontamination": self.decontamination}


def _exec_flags(turns: Sequence[dict[str, Any]]) -> list[bool]:
    return [bool(t.get("exec_ok")) for t in turns
            if t.get("action") in CODE_ACTIONS]


def has_successful_exec(item: Item) -> bool:
    return any(_exec_flags(item.turns))


def has_recovery(item: Item) -> bool:
    """An execution error followed, later, by a successful execution."""
    seen_error = False
    for ok in _exec_flags(item.turns):
        if not ok:
            seen_error = True
        elif seen_error:
            return True
    return False


def has_repeats(item: Item) -> bool:
    """An action run twice (the same program, comments and spacing aside), or an answer
    the agent submitted for the model (for a stuck run, or one kept at the run's limit):
    the data should show models that end a run themselves."""
    metadata = (item.record.get("trajectory") or {}).get("metadata") or {}
    if metadata.get("fallback_answer"):
        return True
    seen: set[str] = set()
    for t in item.turns:
        if t.get("action") == ActionKind.CODE_AUTO_FINAL_ANSWER:
            return True
        if t.get("action") in CODE_ACTIONS and t.get("code") is not None:
            code = program_key(str(t["code"]))  # a comment changed: the same action
            if code in seen:
                return True
            seen.add(code)
    return False


def has_invalid(item: Item) -> bool:
    return any(t.get("action") == ActionKind.INVALID for t in item.turns)


_NOTE = re.compile(r"(You have \d+ turns left\.|You have 1 turn left: give your final "
                   r"answer(?: in <solution>)? now\.|You have no turns left; this was your "
                   r"last action\.)\s*$")


def _remaining(note: str) -> int:
    m = re.match(r"You have (\d+) turns? left", note)
    return int(m.group(1)) if m else 0


def repair(item: Item) -> Item:
    """Cut out every invalid turn: the reply and the user message that corrected it;
    renumber the turns-left notes of the turns after it."""
    out_msgs: list[dict[str, Any]] = []
    out_turns: list[dict[str, Any]] = []
    msgs = item.messages
    turn_iter = iter(item.turns)
    i = 0
    removed = 0
    while i < len(msgs):
        m = msgs[i]
        if m.get("role") != "assistant":
            out_msgs.append(dict(m))
            i += 1
            continue
        turn = next(turn_iter, {"action": None})
        follow = msgs[i + 1] if i + 1 < len(msgs) and msgs[i + 1].get("role") == "user" \
            else None
        if turn.get("action") == ActionKind.INVALID:
            removed += 1
            i += 2 if follow is not None else 1
            continue
        out_msgs.append(dict(m))
        out_turns.append({**turn, "turn": len(out_turns) + 1})
        if follow is not None:
            follow = dict(follow)
            note = _NOTE.search(str(follow.get("content") or ""))
            if note and removed:
                new = turns_left_note(_remaining(note.group(1)) + removed) or ""
                follow["content"] = follow["content"][:note.start(1)].rstrip("\n") + \
                    ("\n" + new if new else "")
            out_msgs.append(follow)
            i += 2
        else:
            i += 1
    return Item(item.record, out_msgs, out_turns, repaired=True)


def apply(records: Iterable[dict[str, Any]], cfg: FilterConfig, *,
          index: Any = None) -> tuple[list[Item], FilterReport]:
    """Filter raw collection records; ``index`` is a decontamination
    :class:`~codeact.data.decontam.EvalIndex` (built on demand when needed)."""
    report = FilterReport()
    items: list[Item] = []
    for rec in records:
        report.total += 1
        item = Item.from_record(rec)
        if item is None:
            report.dropped.setdefault("no_trajectory", []).append(str(rec.get("task")))
        else:
            items.append(item)
    report.funnel.append(("with a trajectory", len(items)))

    def step(rule: str, keep: Iterable[Item]) -> None:
        nonlocal items
        kept = list(keep)
        names = {id(k) for k in kept}
        gone = [it.name for it in items if id(it) not in names]
        if gone:
            report.dropped.setdefault(rule, []).extend(gone)
        items = kept
        report.funnel.append((rule, len(items)))

    if cfg.solved:
        step("solved", (it for it in items if it.record.get("success")))
    if cfg.invalid == "drop":
        step("no invalid turn", (it for it in items if not has_invalid(it)))
    elif cfg.invalid == "repair":
        fixed = []
        for it in items:
            if has_invalid(it):
                it = repair(it)
                report.repaired += 1
            fixed.append(it)
        step("invalid turns repaired", fixed)
    if cfg.min_turns:
        step(f"more than {cfg.min_turns - 1} assistant turns",
             (it for it in items if it.assistant_turns >= cfg.min_turns))
    if cfg.exec_success:
        step("a code execution succeeded", (it for it in items if has_successful_exec(it)))
    if cfg.require_recovery:
        step("recovered from an error", (it for it in items if has_recovery(it)))
    if cfg.no_repeats:
        step("no repeated action", (it for it in items if not has_repeats(it)))
    if cfg.dedup:
        seen: set[str] = set()
        unique = []
        for it in items:
            key = it.conversation_key()
            if key not in seen:
                seen.add(key)
                unique.append(it)
        step("deduplicated", unique)
    if cfg.decontaminate:
        from codeact.data import decontam

        if index is None:
            index = decontam.build_index()
        hits = decontam.check(((it.name, it.instruction) for it in items), index)
        report.decontamination = [h.to_dict() for h in hits]
        bad = {h.task for h in hits}
        step("decontaminated", (it for it in items if it.name not in bad))
    return items, report


def verdict(record: dict[str, Any], cfg: FilterConfig) -> bool:
    """Whether one record passes the per-record rules (everything but dedup and
    decontamination): the running "kept" count of the progress bar."""
    kept, _ = apply([record], FilterConfig(**{**cfg.to_dict(), "dedup": False,
                                              "decontaminate": False}))
    return bool(kept)
