"""Turn an execution result into the observation text the model reads next."""

from __future__ import annotations

import re
from collections.abc import Sequence

from codeact.runtime.observation import Observation

NO_OUTPUT = "[Executed successfully with no output.]"
TRUNCATED = "[Output was truncated.]"

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_FRAME_START = re.compile(r"^(Cell In\[\d+\]|File |Input In \[|<ipython-input)")
_SEPARATOR = re.compile(r"^-{20,}\s*$")
_ARROW = re.compile(r"^-+> *\d")  # IPython's raising line: "----> 4", "--> 954"


_INNER = re.compile(r"^(Cell In\[\d+\], line \d+), in <(?:listcomp|genexpr|dictcomp|setcomp|"
                    r"lambda)>")


def _echo(frame: list[str], before: list[str]) -> bool:
    """A comprehension's frame right after the frame of the cell line that holds it:
    IPython shows it with another line's source (``----> 4 import math`` for line 4 of
    ``zs = [(a, b) for a, b, c in pairs]``), which misled the model; the line before
    already points at the right code."""
    match = _INNER.match(frame[0]) if frame else None
    return bool(match and before and before[0].startswith(match.group(1)))


def trim_traceback(traceback: str) -> str:
    """Keep the frames of the model's own cells and the final exception line.

    IPython tracebacks interleave frames from the model's cells (``Cell In[3], line 2``)
    with frames inside libraries; the model can only fix its own code, and long library
    stacks waste context.
    """
    lines = [ln for ln in _ANSI.sub("", traceback).splitlines() if not _SEPARATOR.match(ln)]
    frames: list[list[str]] = []
    head: list[str] = []
    for line in lines:
        if _FRAME_START.match(line):
            frames.append([line])
        elif frames:
            frames[-1].append(line)
        else:
            head.append(line)
    if not frames:
        return "\n".join(lines).strip()
    own = [f for f in frames if f[0].startswith(("Cell In[", "Input In [", "<ipython-input"))]
    last = frames[-1]
    # The final exception line(s) sit at the end of the last frame.
    tail: list[str] = []
    for line in reversed(last):
        if line and not line.startswith(" ") and not _FRAME_START.match(line):
            tail.insert(0, line)
        elif tail:
            break
    # the last frame without the exception line(s), which come once, at the end; inside
    # a library only its header and the line that raised (seen: twelve lines of pandas'
    # get_handle() after each `pd.read_csv('hotels.csv')`, for one missing file)
    kept = [f for f in own if f is not last]
    body_lines = [ln for ln in last if ln not in tail]
    if last not in own:
        body_lines = body_lines[:1] + [ln for ln in body_lines[1:] if _ARROW.match(ln)]
    kept.append(body_lines)
    kept = [f for i, f in enumerate(kept) if i == 0 or not _echo(f, kept[i - 1])]
    body = "\n".join("\n".join(f).rstrip() for f in kept)
    return (body + "\n" + "\n".join(tail)).strip()


def render_observation(obs: Observation) -> str:
    """The execution result as plain text: output, value, images, errors, markers."""
    parts: list[str] = []
    if obs.restarted:
        parts.append(f"[The kernel was restarted ({obs.restart_reason or 'it died'}); "
                     "all variables and imports were lost. Files in the workspace remain.]")
    if obs.stdout:
        parts.append(obs.stdout.rstrip("\n"))
    if obs.stderr:
        parts.append("[stderr]\n" + obs.stderr.rstrip("\n"))
    if obs.result is not None:
        parts.append(f"Out: {obs.result}")
    if obs.images:
        parts.append(f"[{len(obs.images)} image(s) displayed; the user sees them]")
    if obs.timed_out:
        parts.append(f"[Execution timed out after {obs.duration:.0f} s and was "
                     "interrupted.]")
    if obs.error is not None:
        tb = trim_traceback(obs.error.traceback) if obs.error.traceback else ""
        summary = f"{obs.error.name}: {obs.error.message}"
        if tb and summary not in tb:
            tb = f"{tb}\n{summary}"
        parts.append(tb or summary)
    if obs.truncated and "truncated" not in " ".join(parts):
        parts.append(TRUNCATED)
    if not parts:
        parts.append(NO_OUTPUT)
    return "\n".join(parts)


# Notes follow the output under a heading of their own: a 1.5B model answered
# final_answer(9) after an output followed by "You have 9 turns left.", taking the
# note for something its code printed.
NOTES_HEADING = "[codeact notes, not output of your code]"
TURNS_LEFT_SHOWN = 2  # the turns-left note appears once this few turns are left


def compose_observation(output: str | None, notes: Sequence[str], *,
                        heading: bool = True) -> str:
    """The observation the model reads: the action's output as it is, then codeact's
    notes under :data:`NOTES_HEADING` (None output: nothing ran, only notes).
    ``heading=False`` (the ``notes_heading`` ablation): the notes follow the output as
    plain lines after a blank line, as before the heading existed."""
    parts = [output] if output is not None else []
    if notes:
        parts.append("\n".join([NOTES_HEADING, *notes] if heading else notes))
    return "\n\n".join(parts)


def turns_left_note(remaining: int, *, always: bool = False) -> str | None:
    """Tell the model it is about to run out of turns (None while more than
    :data:`TURNS_LEFT_SHOWN` are left: a count it does not need is one it can misread).
    ``always`` (the ``notes_heading`` ablation): on every observation, as it used to be."""
    if remaining > TURNS_LEFT_SHOWN and not always:
        return None
    if remaining <= 0:
        return "You have no turns left; this was your last action."
    if remaining == 1:
        return "You have 1 turn left: give your final answer now."
    return f"You have {remaining} turns left."
