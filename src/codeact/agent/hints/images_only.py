"""A hint for a cell whose only output is images.

Seen in chat with a 1.5B model: asked to plot a CSV, the plotting cell's observation was
the image marker alone, and the model's next cell was
``final_answer([1 image(s) displayed; the user sees them])``, a syntax error, after which
it re-ran the plot (a cell run twice). Asked for "a small table of the squares of 1..5 and
a bar chart", it plotted, printed nothing, and replied without a single value: it never
saw one. After the first cell whose output is only images, the note says the model does
not see what they show, that the marker is not a value, to print what the request also
asks for, and (in chat) to reply in prose once everything is done.
"""

from __future__ import annotations

from codeact.agent.hints.base import Advice, Hint, RunStart, Step, Verdict

CHAT_NOTE = ("Note: that cell's output is only the image(s), which the user sees in the "
             "chat; you do not see what they show, and the image marker is not a value. If "
             "the request also asks for numbers or a table, print them now. Once everything "
             "asked is done, reply to the user in prose, without tags: what you did, the "
             "values, and that the plot is shown.")
TASK_NOTE = ("Note: that cell's output is only the image(s); you do not see what they "
             "show, and the image marker is not a value. Print the values you need, and "
             "give the answer with final_answer() once they answer the task.")


class ImagesOnly(Hint):
    """Says it once per run, after the first cell that showed images and printed nothing."""

    name = "images_only"
    _chat = False
    _said = False

    def reset(self, run: RunStart) -> None:
        self._chat = run.chat
        self._said = False

    def after_action(self, step: Step, so_far: Verdict) -> Advice | None:
        obs = step.observation
        if self._said or obs is None or not obs.ok or not obs.images:
            return None
        if obs.final_answer is not None or obs.stdout.strip() or obs.result is not None:
            return None
        self._said = True
        return Advice(note=CHAT_NOTE if self._chat else TASK_NOTE)
