"""A hint that refuses, once, an answer that cannot be one: empty, None, or an error.

Seen with a 1.5B model: ``final_answer(result)`` where ``result`` held the text of an
exception a tool raised, or ``None`` from a function that printed instead of returning;
the run ended "solved" with an answer no task asks for. Also seen: a filter that matched
nothing submitted as ``[]`` without a look at why, and, right after a cell failed with
``KeyError: "unknown ingredient 'lentil soup'"``, ``final_answer("lentil soup")``: a
word copied from the error message; and "No dates found that meet the criteria.", a
message the model's own code printed when its search found nothing; and a pandas
Series submitted as it prints (index, values, ``dtype``) where the task asks for one
total, or for one name. Such an answer gets a note and one more turn (a second answer
stands, except for answers no task wants: those are refused each time, up to a limit).
Only what no task wants is refused: the check knows nothing of any suite.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Sequence

from codeact.agent.hints.base import Advice, FirmNote, Hint, RunStart, Step, Verdict
from codeact.agent.hints.tool_reminder import failing_text
from codeact.agent.observe import NO_OUTPUT, TRUNCATED
from codeact.syntax import LITERAL_ERRORS

_ERROR = re.compile(r"^\s*(Traceback \(most recent call last\)|[A-Z]\w*(Error|Exception)\b"
                    r"[:(]|Error: )")
_COUNTING = re.compile(r"\b(how many|how much|number of|count of|sum of|total of)\b", re.I)
# "No dates found that meet the criteria.", "SKU x does not have 'total_stock' key.":
# a message the model's own code printed when its search failed
_FAILURE = re.compile(r"\b(not found|no \w+(?: \w+)? (?:found|available|matching|matched)"
                      r"|does not (?:have|exist|contain)|doesn't (?:have|exist|contain)"
                      r"|could ?n[o']t|can ?n[o']t|unable to|failed to|no such \w+"
                      r"|no (?:data|results?|match(?:es)?)\b)", re.I)
MIN_WORDS = 3  # a failure message is a sentence; "not found" alone may be an answer
PEEK_CHARS = 500  # of a long text the notes ask to print, to see its layout
# "The run-length encoded string is '3a4b2c6d1e'.": one quoted value inside a sentence
_QUOTED = re.compile(r"""(?<!\w)(?:'([^'\n]{1,80})'|"([^"\n]{1,80})"|`([^`\n]{1,80})`)(?!\w)""")
SENTENCE_WORDS = 4  # words outside the quotes that make the answer a sentence
_WHOLE = re.compile(r"\b(whole number|an integer|integer number|full \w+)\b", re.I)
_WORD_NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4}
_DECIMALS = re.compile(r"\b(\d|one|two|three|four) decimals?(?: places?| digits?)?\b", re.I)
_NUMBER = re.compile(r"-?\d+(?:\.(\d+))?")
# a task that asks for one quantity, and one that asks for several things
_ONE_QUANTITY = re.compile(r"(?:\b(?:what|which) is the|\bcompute the|\bcalculate the|\bfind "
                           r"the)\s+(?:total|sum|average|mean|median|product|number|count)\b"
                           r"|^\s*how (?:many|much)\b", re.I | re.M)
_LIST_WANTED = re.compile(r"\b(?:list|lists|each|per|every|which \w+s\b|what are)\b", re.I)
_EMPTY = ("[]", "{}", "()", "set()", "''", '""', "dict()", "list()")
# the last line of a pandas Series as printed: "Name: units, dtype: float64",
# "Name: x, Length: 100, dtype: int64", "dtype: datetime64[ns]"
_SERIES_TAIL = re.compile(r"^(?:\w+: [^\n]*?, )?(?:Length: (\d+), )?dtype: \S+$")
_FRAME_TAIL = re.compile(r"^\[(\d+) rows x (\d+) columns\]$")
MIN_COPIED = 3  # shorter answers ('a', '1') appear in error messages by chance
KEEP_ERRORS = 10  # error messages of failed cells remembered (a copy of one is no result)
# a task whose answer is a quantity: a "found nothing" sentence cannot be its answer
_QUANTITY = re.compile(r"\b(how many|how much|number of|count of|sum|total|average|mean|"
                       r"median|combined|rounded)\b", re.I)
KEEP_SEEN = 20  # successful outputs remembered (a value shown there was not copied)
KEEP_NOTES = 20  # notes remembered (an answer made of their words is no result)
NOTE_WORDS = 5  # shorter answers share three words with a note by chance
NOTE_SHARE = 0.5  # of an answer's word triples found in the notes, not the task or outputs
_WORD = re.compile(r"\w+")
# "Answer true or false.": any other answer is of a kind the task excludes (seen: the list
# of recipe names submitted for "Does one serving of 'pancakes' contain more fat ...?")
_TWO_WAY = re.compile(r"\b(true or false|yes or no|true/false|yes/no)\b", re.I)
_TWO_WAY_ANSWER = re.compile(r"^\W*(true|false|yes|no)\b", re.I)


def _triples(text: str) -> set[tuple[str, ...]]:
    """The runs of three consecutive words of a text, lower-cased."""
    words = _WORD.findall(text.lower())
    return {tuple(words[i:i + 3]) for i in range(len(words) - 2)}


def copies_notes(answer: str, notes: Sequence[str], seen: Sequence[str]) -> bool:
    """Whether an answer is mostly words of codeact's notes (word for word or reworded
    around their phrases) that neither the task nor any output shows: advice about the
    work, not a result of it. Seen: "The condition or loop used was never true, or a loop
    went over nothing." submitted right after the note that said so, and "The working
    directory has no files." from the kernel's note under a FileNotFoundError."""
    own = _triples(answer)
    if len(_WORD.findall(answer)) < NOTE_WORDS or not own:
        return False
    noted = set().union(*(_triples(note) for note in notes)) if notes else set()
    elsewhere = set().union(*(_triples(text) for text in seen)) if seen else set()
    copied = (own & noted) - elsewhere
    return len(copied) >= NOTE_SHARE * len(own)


_NOT_SET = ("None", "null", "nan", "NaN")
# what codeact writes where a cell shows nothing: seen submitted as the answer
# ("final_answer('Executed successfully with no output.')"), with its brackets or without
_PLACEHOLDERS = {p.strip("[]").rstrip(".").lower() for p in (NO_OUTPUT, TRUNCATED)}
_TIMED_OUT = re.compile(r"^\[?execution timed out after [\d.]+ ?s\b", re.I)


def is_placeholder(text: str) -> bool:
    """Whether ``text`` is one of codeact's own observation placeholders (no output,
    output truncated, timed out), which say how a cell ran, never what it computed."""
    text = text.strip().strip("'\"").strip()
    return text.strip("[]").rstrip(".").lower() in _PLACEHOLDERS or bool(_TIMED_OUT.match(text))


def cannot_be_an_answer(text: str) -> bool:
    """Whether an answer is no result whatever the task: empty, an empty collection, a
    value never set, an error message, or a sentence saying nothing was found. Such an
    answer is never kept in the end (see :class:`~codeact.agent.hints.base.GuessNote`)."""
    text = text.strip()
    return not text or text in _EMPTY or text in _NOT_SET or bool(_ERROR.match(text)) or \
        is_placeholder(text) or (len(text.split()) >= MIN_WORDS and bool(_FAILURE.search(text)))


def pandas_display(text: str) -> tuple[str, int] | None:
    """``("Series", items)`` or ``("DataFrame", rows)`` when ``text`` is how pandas prints
    one (the answer of ``final_answer(series)``: an index column, values, and a
    ``dtype`` line), else None. A DataFrame is known only when printed cut short."""
    lines = [line for line in text.strip().splitlines() if line.strip()]
    if len(lines) < 2:
        return None
    last = lines[-1].strip()
    if (series := _SERIES_TAIL.match(last)) is not None:
        return "Series", int(series.group(1)) if series.group(1) else len(lines) - 1
    if (frame := _FRAME_TAIL.match(last)) is not None:
        return "DataFrame", int(frame.group(1))
    return None


def _display_note(kind: str, size: int) -> str:
    if kind == "DataFrame":
        return (f"Your answer is the printed form of a pandas DataFrame of {size} rows, not a "
                "value. Submit what the task asks for: one value (a cell: `.iloc[0, 0]`; a "
                "total: `df[column].sum()`), or the values as a list (`df[column].tolist()`). "
                "Print it first.")
    if size == 1:
        return ("Your answer is the printed form of a pandas Series of one item (its index, "
                "its value and a `dtype` line), not the value itself. Submit the value: "
                "`series.iloc[0]`. Print it first.")
    return (f"Your answer is the printed form of a pandas Series of {size} values (an index "
            "column and a `dtype` line), not a value. If the task asks for one value, "
            "compute it from them (a total: `.sum()`; the label of the largest: `.idxmax()`) "
            "and submit that; if it asks for several, submit them as a list (`.tolist()`). "
            "Print it first.")


def _collection_size(text: str) -> int | None:
    """How many items an answer written as a Python list, tuple, set or dict holds; None
    when it is not one."""
    if not text or text[0] not in "[({":
        return None
    try:
        value = ast.literal_eval(text)
    except LITERAL_ERRORS:
        return None
    return len(value) if isinstance(value, list | tuple | set | dict) else None


class AnswerCheck(Hint):
    """Per run: the task, to tell a count that has no number in it, and the error of the
    last action when it failed."""

    name = "answer_check"

    def __init__(self) -> None:
        self.task = ""
        self.last_error = ""
        self.seen: list[str] = []  # the task and the outputs of actions that succeeded
        self.notes: list[str] = []  # the notes the model was shown in this run
        self.failed: list[str] = []  # the whole outputs of the run's failed actions
        self.code: list[str] = []  # the run's actions (a traceback quotes their lines)
        self.chat = False

    def reset(self, run: RunStart) -> None:
        self.task = run.task
        self.chat = run.chat
        self.last_error = ""
        self.seen = [run.task]
        self.notes = []
        self.failed = []
        self.code = []

    def after_action(self, step: Step, so_far: Verdict) -> Advice | None:
        self.last_error = "" if step.ok else failing_text(step.output)[0]
        if not step.ok:  # with the kernel's note lines, which the error line lacks
            self.failed = [*self.failed[-KEEP_ERRORS:], step.output]
        self.code = [*self.code[-KEEP_SEEN:], step.action]  # the model's own words
        if step.ok:
            self.seen = [*self.seen[-KEEP_SEEN:], step.output]
        return None

    def shown_notes(self, notes: Sequence[str]) -> None:
        self.notes = [*self.notes, *notes][-KEEP_NOTES:]

    def checks_answer(self, answer: str, step: Step | None = None) -> str | None:
        text = answer.strip()
        if not text:
            return FirmNote("Your answer is empty. Give the answer the task asks for: call "
                            "final_answer(value) with the value itself.")
        if text in _EMPTY:
            return (f"Your answer is empty ({text}). Before you submit that, look at the "
                    "data your code starts from: print it as it is (a long text: its first "
                    f"{PEEK_CHARS} characters; a list: its first items) and the values the "
                    "condition compares. Code written for another layout (HTML tags in "
                    "plain text, other key names) selects nothing. If nothing really "
                    "matches, submit the same answer again.")
        if is_placeholder(text):
            said = text.strip("'\"")
            return FirmNote(f"Your answer {said!r} is what codeact writes about how a cell "
                            "ran (it printed nothing, was cut short or timed out), not a "
                            "result. Print the value the task asks for, then submit that "
                            "value itself with final_answer(value).")
        if _ERROR.match(text):
            return FirmNote("Your answer is an error message, not a result. Read the error, "
                            "fix the code, and submit the value the task asks for.")
        copied = text.strip("'\"")
        unseen = len(copied) >= MIN_COPIED and not any(copied in text for text in self.seen)
        if unseen and len(copied.split()) >= MIN_WORDS and \
                any(copied in failing_text(output)[0] for output in self.failed):
            # a sentence from an error message ("Failed to resolve 'en.wikipedia.org'",
            # resent after each refusal) is never a result
            return FirmNote(f"Your answer {copied!r} is text from an error message of this "
                            "run, not a result. Read that error, fix the code that raised "
                            "it (use the tools you were given), and submit what it "
                            "computes.")
        # a note that quotes the answer back ("Your answer: ...") is not where it came from
        quoting = [note.replace(copied, " ") for note in self.notes]
        if not self.chat and copies_notes(copied, [*quoting, *self.failed],
                                          [*self.seen, *self.code]):
            return FirmNote(f"Your answer {copied!r} repeats codeact's notes or an error "
                            "message, which are about your code, not a result of it. Do "
                            "what they say, then submit the value your code computes.")
        if unseen and self.last_error and copied in self.last_error:
            return (f"Your last cell failed, and your answer {copied!r} is copied from its "
                    "error message, not computed. Read the error: it says what was wrong "
                    "with the call. Fix the code, run it, and submit the value it gives.")
        if text in _NOT_SET:
            return FirmNote(f"Your answer is {text}, which is not an answer: the value you "
                            "submitted was never set (a function that prints instead of "
                            "returning gives None), or your code set it so because it found "
                            "nothing. Print the data your code starts from as it is (a long "
                            f"text: its first {PEEK_CHARS} characters) to see its layout, fix "
                            "the code, print the value, then submit it.")
        if len(text.split()) >= MIN_WORDS and "\n" not in text.strip() and \
                _FAILURE.search(text):
            if _QUANTITY.search(self.task):  # seen: "No founding years found." resent for
                return FirmNote(                # "the average founding year"
                    f"Your answer {text!r} says that your code found nothing, but the task "
                    "asks for a quantity, which the data has. Print the data your code "
                    f"starts from as it is (a long text: its first {PEEK_CHARS} characters) "
                    "to see its layout, fix the code that reads it, and submit the number "
                    "it computes.")
            return (f"Your answer {text!r} says that your code did not find what it looked "
                    "for: it is a message your code printed, not a result. Print the data "
                    f"it starts from as it is (a long text: its first {PEEK_CHARS} "
                    "characters) and the values it compares or looks up, for a few items, "
                    "to see why nothing was found; fix the code and submit what it "
                    "computes. If nothing really matches, submit the same answer again.")
        shown = None if self.chat else pandas_display(text)  # a person reads a table
        if shown is not None:  # seen: a Series of 14 order revenues for "the total revenue"
            # firmly: no task's answer is a table as pandas prints it, and a greedy model
            # resent the same cell after a soft refusal, which then stood
            return FirmNote(_display_note(*shown))
        form = self._form_mismatch(text)
        if form is not None:
            return form
        value = self._quoted_in_sentence(text)
        if value is not None:
            return (f"Your answer is a sentence around the value {value!r}. Give the value "
                    f"itself, in the form the task asks (final_answer({value!r})), not a "
                    "sentence about it. If the task asks for a sentence, submit the same "
                    "answer again.")
        short = "\n" not in text and len(text) < 60  # a value, not code or prose
        # a number of its own: the digits of an id ("M661 has no books") are none
        if short and _COUNTING.search(self.task) and not re.search(r"\b\d", text):
            return ("The task asks for a number, and your answer has none. Compute it, "
                    "print it, and submit the number.")
        return None

    def _quoted_in_sentence(self, text: str) -> str | None:
        """The one quoted value of a one-line sentence (not in chat, where replies are
        prose), or None."""
        if self.chat or "\n" in text:
            return None
        quoted = list(_QUOTED.finditer(text))
        if len(quoted) != 1:
            return None
        outside = (text[:quoted[0].start()] + " " + text[quoted[0].end():]).split()
        if len(outside) < SENTENCE_WORDS:
            return None
        return next(g for g in quoted[0].groups() if g is not None)

    def _form_mismatch(self, text: str) -> str | None:
        """A bare number of another form than the task names: decimals where it asks for a
        whole number (seen: 21.6 for "how many full 250 g bags ... a whole number"), or more
        decimals than it asks to round to; or a collection where the task asks for one
        quantity (seen: the list of the first 100 primes for "What is the sum of the
        squares of the first 100 prime numbers?")."""
        single = _ONE_QUANTITY.search(self.task)
        if single is not None and not _LIST_WANTED.search(self.task):
            size = _collection_size(text)
            if size is not None and size > 1:
                return (f"The task asks for one value (\"{single.group(0).strip()} ...\"), "
                        f"but your answer is a collection of {size} items. Compute that "
                        "value from them, print it, and submit it.")
        two_way = _TWO_WAY.search(self.task)
        if two_way is not None and not self.chat and not _TWO_WAY_ANSWER.match(text):
            return (f"The task asks for {two_way.group(1).lower()}, and your answer is "
                    "neither. Compute what the task compares or checks, print it, and "
                    "submit True or False (or yes or no, as the task asks).")
        match = _NUMBER.fullmatch(text)
        if match is None:
            return None
        fraction = match.group(1) or ""
        if _WHOLE.search(self.task) and fraction.strip("0"):
            return (f"The task asks for a whole number, and your answer {text} is not one. "
                    "Work out which whole number the task means (full items: round down; "
                    "items needed to hold everything: round up) and submit it.")
        wanted = _DECIMALS.search(self.task)
        if wanted is not None:
            places = _WORD_NUMBERS.get(wanted.group(1).lower()) or int(wanted.group(1))
            if len(fraction.rstrip("0")) > places:
                unit = "place" if places == 1 else "places"
                return (f"The task asks for {places} decimal {unit}, and your answer {text} "
                        f"has more. Round it (round(value, {places})) and submit that.")
        return None
