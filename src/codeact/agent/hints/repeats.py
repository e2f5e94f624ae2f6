"""Repeat and stuck detection: small models re-run a step that already worked.

Seen in trajectories of a 1.5B model: it computes the answer in its first turn, then
re-runs the same cell word for word (or with only a comment changed: the same program),
or re-applies its last step to its own output, until the turn limit. The guard counts,
per run, how often an action produced the same output (and how often an informative
output came back at all). On the 2nd time it adds a plain note of what happened and what
to do; on the 4th the run stops as ``stuck``. The note names no placeholder a model could
copy into its answer.
"""

from __future__ import annotations

import re
from collections import Counter

from codeact.agent.hints.base import Advice, Hint, RunStart, Step, Verdict
from codeact.agent.observe import NO_OUTPUT
from codeact.syntax import program_key

NOTE_AT = 2
STOP_AT = 4
_UNINFORMATIVE = (NO_OUTPUT, "")
# IPython numbers every cell, so the same failing cell prints "Cell In[3], line 1" once
# and "Cell In[4], line 1" the next time; older IPython writes "<ipython-input-3-...>".
_CELL_COUNTERS = re.compile(r"(Cell In|Out|In)\[\d+\]|<ipython-input-\d+-[0-9a-f]+>")


def normalize(output: str) -> str:
    """The output with IPython's per-cell counters blanked, so a repeat compares equal."""
    return _CELL_COUNTERS.sub(lambda m: f"{m.group(1) or 'ipython-input'}[_]", output.strip())


def _informative(output: str) -> bool:
    """Outputs that say nothing (no output at all) repeat without being a loop: defining
    three helper functions prints nothing three times."""
    return output.strip() not in _UNINFORMATIVE


# lines that are only True/False/None (a check's result, with IPython's "Out[_]: " or not)
_TRUTH_LINES = re.compile(r"((Out(\[_\])?: )?(True|False|None)\s*)+")


def _distinctive(output: str) -> bool:
    """Outputs that, from *different* actions, say the work went in a circle. A check that
    prints True or False gives the same line for many different inputs: counted as the
    same output from different actions, testing a function on its examples (seen: the third
    `Out: False` from three other dates) was told to answer now or be stopped."""
    return _informative(output) and _TRUTH_LINES.fullmatch(output.strip()) is None


class RepeatGuard(Hint):
    """Counts repeats within one run. ``code_format`` picks the advice's wording."""

    name = "repeats"

    def __init__(self, *, code_format: bool = True, stop_at: int = STOP_AT) -> None:
        self.code_format = code_format
        self.stop_at = stop_at
        self._pairs: Counter[tuple[str, str]] = Counter()
        self._outputs: Counter[str] = Counter()
        self._ran: dict[str, str] = {}  # every action that ran -> its last result, short
        self._failing: set[str] = set()  # the actions that failed since the last success

    def reset(self, run: RunStart | None = None) -> None:
        if run is not None:
            self.code_format = run.code_format
        self._pairs.clear()
        self._outputs.clear()
        self._ran.clear()
        self._failing.clear()

    def after_action(self, step: Step, so_far: Verdict) -> Advice | None:
        action = program_key(step.action)
        error = step.observation.error if step.observation is not None else None
        self._ran[action] = _short(f"{error.name}: {error.message}" if error is not None
                                   else _last_line(step.output))
        if step.ok:
            self._failing.clear()
        else:
            self._failing.add(action)
        note, stop = self.check(step.action, step.output, not step.ok,
                                unfinished=so_far.problem)
        return Advice(note=note, repeat=True, stuck=stop) if note else None

    def check(self, action: str, output: str, failed: bool = False, *,
              unfinished: bool = False) -> tuple[str | None, bool]:
        """Record one (action, output); return (a note for the model or None, stop?).

        ``failed``: the action raised an error (the same error from different code too:
        the README task at 0.7 was told "give the answer now" after a second IndexError),
        so "give the answer now" is the wrong
        advice: the note says to read the error and change the code instead.
        ``unfinished``: another hint found that the output does not answer the task yet,
        so the advice is to change the approach, not to answer."""
        action, output = program_key(action), normalize(output)
        self._pairs[(action, output)] += 1
        same_pair = self._pairs[(action, output)]
        same_output = 0
        if _distinctive(output):
            self._outputs[output] += 1
            same_output = self._outputs[output]
        times = max(same_pair, same_output)
        if times < NOTE_AT:
            return None, False
        if same_pair >= same_output:
            what = (f"Note: this is the {_ordinal(times)} time this same action gave this same "
                    "output, so repeating it will not change anything.")
        else:
            # seen: 5038 from a fenced block, then three times from one same cell, each
            # told "from different actions"
            how = ("from different actions" if same_pair == 1 else
                   f"{_times(same_pair)} from this same action")
            what = f"Note: this is the {_ordinal(times)} time you got exactly this output, {how}."
        if failed:
            what = (f"Note: this is the {_ordinal(times)} time this same action failed with "
                    "this same error, so running it again will fail again.") \
                if same_pair >= same_output else (
                f"Note: this is the {_ordinal(times)} time a cell failed with exactly this "
                "error, from different code: your changes did not touch its cause.")
            if self.code_format:
                advice = ("Read the error message: it says what is wrong (for example a "
                          "wrong argument, a name that is not defined, a key or value that "
                          "does not exist). Change the code to fix it: check the arguments "
                          "against the function's signature and description, and print the "
                          "values you pass.")
            else:
                advice = ("Read the error message: it says what is wrong. Call the tool "
                          "with different arguments, or call a different tool.")
        elif unfinished:
            advice = ("The output does not answer the task yet (see the note above): change "
                      "the approach instead of running the same computation again.")
        elif self.code_format:
            advice = ("If your work already answers the task, give the answer now: call "
                      "final_answer() with the result (or with the function, when the task "
                      "asks you to write one), or write the answer between <solution> and "
                      "</solution>. If it does not, take a different approach; do not "
                      "transform a finished result again.")
        else:
            advice = ("If the results so far answer the task, give the answer now between "
                      "<solution> and </solution>. If they do not, call a different tool or "
                      "use different arguments.")
        stop = times >= self.stop_at
        warn = "" if stop or times < self.stop_at - 1 else \
            " If it happens once more, the run stops."
        return f"{what} {advice}{warn}", stop

    def vetoes(self, action: str) -> str | None:
        """An action that already ran in this run: run again, it would most likely give
        the same output (a model that insists still gets it run after the resamples). The
        same program counts, whatever its comments and spacing."""
        action = program_key(action)
        if action in self._failing:
            return f"it repeats an action that failed with: {self._ran[action]}"
        if action in self._ran:
            return f"it repeats an earlier action, whose output was: {self._ran[action]}"
        return None


def _last_line(output: str) -> str:
    """The last line of an output (an error's says what went wrong)."""
    lines = [ln.strip() for ln in output.strip().splitlines() if ln.strip()]
    return lines[-1] if lines else "no output"


def _short(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + " ..."


def _ordinal(n: int) -> str:
    return {2: "second", 3: "third", 4: "fourth"}.get(n, f"{n}th")


def _times(n: int) -> str:
    return {2: "twice", 3: "three times"}.get(n, f"{n} times")
