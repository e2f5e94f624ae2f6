"""``chat-20``: twenty requests of the kind people type into a chat, graded by the reply.

Run in chat mode (the ``chat`` prompt, the conversation kept between messages): plots,
tables, a CSV in the workspace, arithmetic, dates, an explanation, and follow-up
questions that use a variable an earlier message made. A request passes when its last
reply passes every rule that applies (published in ``src/codeact/bench/README.md``):

1. **reply**: there is a final reply and it is prose, not a bare value or code;
2. **values**: every expected value is in the reply (a number also with thousands
   separators, or with more decimals that round to it; ``ordered`` values in order);
3. **image**: a request that asks for a plot displayed at least one image;
4. **no repeats**: no code cell ran twice within one message.
"""

from __future__ import annotations

import re
from typing import Any

from codeact.agent.reply import needs_reply
from codeact.bench.task import CheckContext, Task

__all__ = ["RULES", "grade", "load"]

RULES = ("reply", "values", "image", "no repeats")

SALES_CSV = ("month,region,amount\n"
             "2024-01,North,120\n2024-01,South,80\n2024-02,North,150\n"
             "2024-02,South,95\n2024-03,North,90\n2024-03,South,130\n")


def _numbers_plain(text: str) -> str:
    """The reply with thousands separators between digits taken out (1,628.89 -> 1628.89)."""
    return re.sub(r"(?<=\d)[,\u202f\u00a0 '](?=\d{3}\b)", "", text)


def _has_value(reply: str, value: str) -> bool:
    """The value is in the reply: a number as any number that rounds to it at the
    value's own precision (110.8333 for 110.83), a word as text."""
    plain = _numbers_plain(reply).lower()
    if not re.fullmatch(r"-?\d+(\.\d+)?", value):
        return value.lower() in plain
    places = len(value.partition(".")[2])
    for found in re.findall(r"(?<![\d.])-?\d+(?:\.\d+)?", plain):
        if "." not in value and "." not in found:
            if found == value:  # whole numbers compare exactly (big integers too)
                return True
        elif round(float(found), places) == float(value):
            return True
    return False


def _in_order(reply: str, words: list[str]) -> bool:
    positions = [reply.lower().find(w.lower()) for w in words]
    return all(p >= 0 for p in positions) and positions == sorted(positions)


def grade(trajectories: list[Any], meta: dict[str, Any]) -> tuple[bool, str]:
    """Apply the rules to one request's trajectories (one per message, the last is the
    reply graded); returns (passed, the rules that failed)."""
    last = trajectories[-1]
    reply = (last.answer or "").strip()
    failed = []
    if not reply or needs_reply(reply):
        failed.append("reply")
    missing = [v for v in meta.get("values", ()) if not _has_value(reply, v)]
    if missing or (meta.get("ordered") and not _in_order(reply, meta["ordered"])):
        failed.append("values")
    if meta.get("image"):
        images = sum(len(t.output.images) for traj in trajectories for t in traj.turns
                     if t.output is not None)
        if not images:
            failed.append("image")
    for traj in trajectories:
        cells = [t.code.strip() for t in traj.turns if t.code and t.output is not None]
        if len(cells) != len(set(cells)):
            failed.append("no repeats")
            break
    return not failed, ("failed: " + ", ".join(failed)) if failed else "all rules pass"


def _check(answer: str | None, ctx: CheckContext) -> tuple[bool, str]:
    traj = ctx.trajectory
    if traj is None:
        return False, "no trajectory"
    earlier = traj.metadata.get("conversation", [])
    from codeact.trajectory import Trajectory

    return grade([*(Trajectory.from_dict(t) for t in earlier), traj], ctx.task.metadata)


def _request(name: str, message: str, *, values: tuple[str, ...] = (), image: bool = False,
             follow_ups: tuple[str, ...] = (), ordered: tuple[str, ...] = (),
             files: dict[str, str] | None = None) -> Task:
    meta: dict[str, Any] = {"chat": True, "values": list(values), "image": image,
                            "follow_ups": list(follow_ups), "ordered": list(ordered)}
    return Task(name=f"chat/{name}", instruction=message, domain="chat", checker=_check,
                metadata=meta, files=files)


def load() -> list[Task]:
    """The twenty requests."""
    sales = {"sales.csv": SALES_CSV}
    return [
        _request("arithmetic", "What is 17 * 23 + 5? Compute it.", values=("396",)),
        _request("squares-table-plot", "Make a small table of the squares of 1..5 and "
                 "plot them as a bar chart.", values=("25",), image=True),
        _request("days-between", "How many days are there between 2024-03-01 and "
                 "2024-12-25?", values=("299",)),
        _request("parabola-plot", "Plot y = x**2 for x from -5 to 5.", image=True),
        _request("csv-per-region", "I uploaded sales.csv to the workspace. What is the "
                 "total amount per region?", values=("360", "305"), files=sales),
        _request("csv-average", "What is the average amount in sales.csv?",
                 values=("110.83",), files=sales),
        _request("explain-comprehension", "Explain in two sentences what a Python list "
                 "comprehension is, and run a tiny example that squares 1, 2 and 3.",
                 values=("9",)),
        _request("mean-std", "Compute the mean and the population standard deviation of "
                 "[2, 4, 4, 4, 5, 5, 7, 9].", values=("5", "2")),
        _request("fahrenheit", "Convert 100 degrees Fahrenheit to Celsius, rounded to one "
                 "decimal.", values=("37.8",)),
        _request("follow-up-sum", "Set x to the sum of the numbers from 1 to 100.",
                 follow_ups=("Now what is x divided by 4?",), values=("1262.5",)),
        _request("power", "What is 2 to the power of 64?",
                 values=("18446744073709551616",)),
        _request("pie-chart", "Draw a pie chart of the shares 40, 35 and 25, labelled A, B "
                 "and C.", image=True),
        _request("vowels", "Count the vowels in the sentence 'The quick brown fox jumps "
                 "over the lazy dog'.", values=("11",)),
        _request("next-prime", "What is the smallest prime number greater than 1000?",
                 values=("1009",)),
        _request("fibonacci", "Show the first 10 Fibonacci numbers, starting from 0 and 1.",
                 values=("34",)),
        _request("csv-line-plot", "Plot the amounts in sales.csv as a line chart, one line "
                 "per region.", image=True, files=sales),
        _request("sort-words", "Sort these words alphabetically: pear, apple, fig, banana.",
                 ordered=("apple", "banana", "fig", "pear")),
        _request("follow-up-list", "Create a list called temps with the values 21.5, 23.0, "
                 "19.8 and 25.1.", follow_ups=("What is the highest value in temps, and at "
                                               "which position (counting from 1) is it?",),
                 values=("25.1", "4")),
        _request("leap-seconds", "How many seconds are there in a leap year?",
                 values=("31622400",)),
        _request("compound-interest", "What does 1000 grow to at 5% interest per year, "
                 "compounded yearly, after 10 years? Round to cents.", values=("1628.89",)),
    ]
