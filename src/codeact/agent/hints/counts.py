"""A hint for a result that has the wrong number of items for the task.

Seen with a 1.5B model on the README's own task, "the sum of the squares of the first
100 prime numbers": it typed out the 25 primes below 100, printed their squares and
total, and submitted that. The task names a count (100 prime numbers); the printed list
has 25 items. When a task names how many things it is about ("the first 100 primes",
"5 words", "top 10") and a successful cell prints a list of another length, while no
printed list has the asked length, the note says so (and the repeat guard then does not
advise answering); an answer given while the mismatch stands is refused once.

Also seen, at temperature 0.7: ``sum(i ** 2 for i in range(2, 101) if is_prime(i))``
printed as one number, so no list could be checked, and submitted. A task that asks for
"the first/top/last N" of something is about a list of N; an answer given before any
output (or the answer itself) showed a list of N items is refused once, asking to print
the list and check its length.

Also seen at temperature 0.7: a loop that reset its counter inside itself printed 100
items, every one of them 2, and the model submitted their sum. A list of the asked length
whose items are all one value gets a note too. Told only to "grow the list in a while
loop", the model wrote loops that reset their counter or never ended (two of five runs);
the note now shows the cell's own filter rewritten as that loop. An answer while a
measured mismatch stands is refused each time (a firm note, up to the loop's limit): seen
at temperature 0.7, a first "print them and their count" refusal used the run's one
refusal, and 65796 and 25 (the count itself) then stood next to a standing mismatch.
Also at 0.7: ``sympy.primerange(1, 101)`` (another call given the count as its bound)
gets a note of its own with a fix; and ``squares = items`` right after the note with the
loop, as if the note's code had run, gets told that code in a note never runs; and the
answer 100, the length of the right list, given for the sum over it, is refused (firm).
"""

from __future__ import annotations

import ast
import re

from codeact.agent.hints.base import Advice, FirmNote, Hint, RunStart, Step, Verdict
from codeact.syntax import LITERAL_ERRORS

# "first 100 prime numbers", "the 10 largest", "top 5", "20 random words": a number
# before a plural word or after first/last/top/bottom (years and ranges do not count)
_COUNT = re.compile(r"\b(first|last|top|bottom|next|(?<![\d.,])(?=\d))\s*(\d{1,5})\s+"
                    r"(?:(?!(?:the|and|of|a|an|in|to)\b)[a-z]+\s+){0,2}?([a-z]{3,}s)\b",
                    re.I)
_RANGE_WORDS = ("below", "under", "less", "up to", "between", "from", "than", "over")
# "40 units of GL-330", "45 minutes", "3 hours": an amount, not a list of that many things
_MEASURES = frozenset("""units pieces copies seconds minutes hours days weeks months years
    dollars euros pounds cents percent points degrees meters metres miles kilometers
    kilometres grams kilograms kg liters litres tons tonnes bytes times
    servings portions calories steps positions places""".split())
_LIST = re.compile(r"\[[^\[\]]*\]")
MIN_COUNT, MAX_COUNT = 3, 10_000


def asked_counts(task: str, *, ranked: bool = False) -> dict[int, str]:
    """The item counts a task names, each with its phrase (``the first 100 prime
    numbers`` -> {100: "first 100 prime numbers"}). ``ranked``: only counts after
    first/last/top/bottom/next, which always mean a list of that many."""
    counts: dict[int, str] = {}
    for match in _COUNT.finditer(task):
        before = task[max(0, match.start() - 16):match.start()].lower()
        if any(word in before for word in _RANGE_WORDS):
            continue  # "between 10 and 20 items" names bounds, not a count
        if not match.group(1) and re.search(r"\bby\s*$", before):
            continue  # "rotated left by 6 positions": how far, not how many (seen: noted)
        n = int(match.group(2))
        if ranked and not match.group(1):
            continue
        if not match.group(1) and match.group(3).lower() in _MEASURES:
            continue  # "40 units of GL-330" is an amount (seen: "has 2 items" noted)
        if 1000 <= n <= 2100 and not match.group(1):
            continue  # most likely a year
        if MIN_COUNT <= n <= MAX_COUNT:
            counts.setdefault(n, match.group(0).strip())
    return counts


def takes_first(code: str, counts: dict[int, str]) -> bool:
    """Whether the cell cuts something to an asked count: ``xs[:100]``, ``xs[0:100]``,
    ``islice(xs, 100)``."""
    return any(re.search(rf"\[\s*0?\s*:\s*{n}\s*\]|islice\([^()]*,\s*{n}\s*\)", code)
               for n in counts)


def counts_up_to(code: str, counts: dict[int, str]) -> bool:
    """Whether the cell grows something until it has an asked count of items: ``while
    len(items) < 100`` (or ``!= 100``): the loop the note shows, which gives exactly that
    many however the result is printed (seen: the right sum from it refused, because only
    a list printed with 100 items counted)."""
    return any(re.search(rf"\bwhile\s+len\(\s*[\w.]+\s*\)\s*(?:<|!=)\s*{n}\b", code)
               for n in counts)


def count_as_bound(code: str, count: int) -> str | None:
    """The ``range(...)`` call of the cell whose end is the asked count (``range(2, 101)``
    for "the first 100 primes"): the count taken for the largest value, or None."""
    bound = rf"range\(\s*(?:-?\d+\s*,\s*)?(?:{count}|{count + 1})"
    match = re.search(rf"(?<![\w.])({bound})\s*[,)]", code)
    return match.group(1) + ")" if match else None


def call_with_count_as_bound(code: str, count: int) -> str | None:
    """Another call than ``range`` given the asked count as its last argument, an upper
    bound of the values (``sympy.primerange(1, 101)`` for "the first 100 primes", seen at
    temperature 0.7 for six turns), as source; None when the cell has none. Only asked
    after a printed list came out short, so a count passed as a count is no concern."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return None
    iterated = [n.iter for n in ast.walk(tree) if isinstance(n, ast.For | ast.comprehension)]
    iterated += [n.args[0] for n in ast.walk(tree) if isinstance(n, ast.Call) and n.args and
                 isinstance(n.func, ast.Name) and n.func.id in _COLLECTING]
    for node in iterated:  # what gives the items; not final_answer(100) (seen) or print
        if isinstance(node, ast.Call) and node.args and not node.keywords and \
                not (isinstance(node.func, ast.Name) and node.func.id == "range") and \
                isinstance(node.func, ast.Name | ast.Attribute) and \
                isinstance(last := node.args[-1], ast.Constant) and \
                type(last.value) is int and last.value in (count, count + 1):
            return ast.unparse(node)
    return None


_UNDEFINED = re.compile(r"name '(\w+)' is not defined")
_COLLECTING = ("list", "tuple", "set", "sorted", "sum", "len", "enumerate")
# what a task asks for, computed over the items it counts ("the sum of the squares of
# the first 100 primes"); "how many" asks for the count itself
_OTHER_QUANTITY = re.compile(r"\b(sum|total|average|mean|median|product)\b(?! number of)",
                             re.I)


def _stops_at(call: ast.expr, count: int) -> str | None:
    """The start of a ``range(start, count)`` / ``range(start, count + 1)`` call (one
    argument: start 0), as source; None for any other expression."""
    if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name)
            and call.func.id == "range" and 1 <= len(call.args) <= 2 and not call.keywords):
        return None
    stop = call.args[-1]
    if not (isinstance(stop, ast.Constant) and stop.value in (count, count + 1)):
        return None
    return ast.unparse(call.args[0]) if len(call.args) == 2 else "0"


def counted_loop(code: str, count: int) -> str | None:
    """The cell's own filter over ``range(..., count)`` rewritten to count up until it
    has ``count`` items (seen: the model wrote ``while`` loops that reset their counter or
    never ended, after a note that only said to use one). From a comprehension with one
    ``for NAME in range(...)`` and an ``if``, or a ``for`` loop whose body is one ``if``
    that appends; None when the cell has neither."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return None
    for node in ast.walk(tree):
        found = None
        if isinstance(node, ast.ListComp | ast.GeneratorExp | ast.SetComp) and \
                len(node.generators) == 1:
            gen = node.generators[0]
            if isinstance(gen.target, ast.Name) and gen.ifs and not gen.is_async:
                found = (gen.target.id, gen.iter, ast.BoolOp(ast.And(), gen.ifs)
                         if len(gen.ifs) > 1 else gen.ifs[0], node.elt)
        elif isinstance(node, ast.For) and isinstance(node.target, ast.Name) and \
                len(node.body) == 1 and isinstance(node.body[0], ast.If) and \
                not node.body[0].orelse and len(node.body[0].body) == 1:
            inner = node.body[0].body[0]
            if isinstance(inner, ast.Expr) and isinstance(inner.value, ast.Call) and \
                    isinstance(inner.value.func, ast.Attribute) and \
                    inner.value.func.attr == "append" and len(inner.value.args) == 1:
                found = (node.target.id, node.iter, node.body[0].test, inner.value.args[0])
        if found is None:
            continue
        name, iterable, condition, item = found
        start = _stops_at(iterable, count)
        if start is None:
            continue
        return (f"items, {name} = [], {start}\n"
                f"while len(items) < {count}:\n"
                f"    if {ast.unparse(condition)}:\n"
                f"        items.append({ast.unparse(item)})\n"
                f"    {name} += 1\n"
                f"print(len(items))")
    return None


def printed_lists(output: str) -> list[list]:
    """The Python lists of two or more items an output prints (flat ones, parsed
    safely)."""
    lists = []
    for text in _LIST.findall(output):
        try:
            value = ast.literal_eval(text)
        except LITERAL_ERRORS:
            continue
        if isinstance(value, list) and len(value) >= 2:
            lists.append(value)
    return lists


def printed_lengths(output: str) -> list[int]:
    """The lengths of the Python lists an output prints (flat ones, parsed safely)."""
    return [len(value) for value in printed_lists(output)]


def all_alike(items: list) -> bool:
    """Every item the same value (``[2, 2, 2, ...]``): a loop that never moved on."""
    try:
        return len({repr(item) for item in items}) == 1
    except Exception:  # a repr that fails: not judged
        return False


class CountCheck(Hint):
    """Per run: the counts the task names, whether a note was given, and a mismatch no
    later output has put right (an answer then is refused once)."""

    name = "counts"

    def __init__(self) -> None:
        self.task = ""
        self.counts: dict[int, str] = {}
        self.ranked: dict[int, str] = {}  # "the first 100 ...": a list must show them
        self.shown = False  # an output printed a list of an asked length
        self.noted = False
        self.mismatch: str | None = None  # what the refusal of an answer says
        self.loop_names: set[str] = set()  # the names a note's counted loop sets

    def reset(self, run: RunStart) -> None:
        self.task = run.task
        self.counts = asked_counts(run.task)
        self.ranked = asked_counts(run.task, ranked=True)
        self.shown = False
        self.noted = False
        self.mismatch = None
        self.loop_names = set()

    def after_action(self, step: Step, so_far: Verdict) -> Advice | None:
        if not self.counts or step.observation is None:
            return None
        if not step.ok:
            return self._note_loop_not_run(step)
        lists = printed_lists(step.output)
        lengths = [len(value) for value in lists]
        alike = [value for value in lists if len(value) in self.counts and all_alike(value)]
        if alike:  # the right length, but one value n times (seen at temperature 0.7:
            # `num = 2` reset inside the loop printed [2, 2, ..., 2] and summed it)
            return self._note_alike(len(alike[0]), alike[0][0])
        # a list of the asked length, or a longer one the cell cuts to that length (seen:
        # all 1229 primes below 10000 printed next to the right sum of `found[:100]`; a
        # note then drove the model off it): put right
        want = min(self.counts)
        short = [n for n in lengths if n < want]
        if any(n in self.counts for n in lengths) or \
                (lengths and not short and takes_first(step.action, self.counts)) or \
                counts_up_to(step.action, self.counts):  # a short list printed there
            # is a preview (seen: the note's own `items[:5]` was taken for the result)
            self.mismatch = None
            self.shown = True
            return None
        if not lengths:
            return self._note_still_bound(step)
        phrases = " / ".join(f'"{p}"' for p in self.counts.values())
        have = short[-1] if short else lengths[-1]  # cutting a short list adds nothing
        if have > want:  # too many: cut, do not generate more (seen: ever larger ranges)
            fix = (f"Keep only the first {want} (for example `items[:{want}]`) and compute "
                   "the result from those")
        elif (bound := count_as_bound(step.action, want)) is not None:
            # seen: `range(2, 101)` for "the first 100 primes", kept for five turns
            loop = counted_loop(step.action, want)
            fix = (f"`{bound}` stops at the number {want}, not after {want} items: grow the "
                   f"list in a while loop until it has {want} items" +
                   (f"; your own condition, counted up that way:\n{loop}\nThen compute "
                    "the result from `items`; do not type them out" if loop else
                    f" (`while len(items) < {want}: ...`), do not type them out"))
            if loop:
                self.loop_names = {"items"}
        elif (call := call_with_count_as_bound(step.action, want)) is not None:
            node = ast.parse(call, mode="eval").body  # a call whose last argument is
            assert isinstance(node, ast.Call)  # the bound, a constant (see above)
            bound, node.args[-1] = ast.unparse(node.args[-1]), ast.Constant(want * 100)
            wider = ast.unparse(node)
            fix = (f"`{call}` takes {bound} as the upper bound of the values, not as how "
                   f"many items to give: call it with a much larger bound, make a list of "
                   f"it and keep the first {want} (`list({wider})[:{want}]`), or grow the "
                   f"list in a while loop until it has {want} items; do not type them out")
        else:
            fix = ("Change the code so that it computes exactly that many (keep generating "
                   "until you have that many, do not type them out)")
        self.mismatch = (f"The task asks for {phrases}, but your list has {have} items. "
                         f"{fix}, print the result, then answer.")
        again = " again" if self.noted else ""
        self.noted = True
        return Advice(note=f"Note: the task asks for {phrases}, but the list printed above "
                           f"has{again} {have} items. {fix} before you answer.",
                      problem=True)

    def _count_as_answer(self, answer: str) -> str | None:
        """The count the task names given as the answer to a task that asks for another
        quantity of those items (a firm refusal: this hint's one plain refusal is often
        spent on "print them first" by then). Seen at temperature 0.7: 100, the length of
        the right list, submitted for "the sum of the squares of the first 100 primes",
        in two runs."""
        text = answer.strip().strip("'\"")
        if not text.isdigit() or int(text) not in self.counts or \
                (wanted := _OTHER_QUANTITY.search(self.task)) is None:
            return None
        what = wanted.group(1).lower()
        return FirmNote(f"Your answer {text} is the count the task names (\""
                        f"{self.counts[int(text)]}\"), not the {what} it asks for: compute "
                        f"the {what} over those {text} items, print it, and submit that.")

    def _note_still_bound(self, step: Step) -> Advice | None:
        """A cell that prints no list while a mismatch stands, its code still bounded by
        the count: the mismatch is said again, so the repeat guard does not advise
        answering. Seen at temperature 0.7: the 25-prime sum printed alone after the note,
        then "give the answer now" for the same sum printed twice."""
        want = min(self.counts)
        if self.mismatch is None or (count_as_bound(step.action, want) is None and
                                     call_with_count_as_bound(step.action, want) is None):
            return None
        return Advice(note=f"Note: this cell still uses the count as a bound. {self.mismatch}",
                      problem=True)

    def _note_loop_not_run(self, step: Step) -> Advice | None:
        """Seen at temperature 0.7: ``squares = items`` right after the note that showed
        the counted loop, as if the note's code had run: a NameError on ``items``."""
        error = step.observation.error if step.observation is not None else None
        missing = _UNDEFINED.search(error.message) if error is not None and \
            error.name == "NameError" else None
        if missing is None or missing.group(1) not in self.loop_names:
            return None
        return Advice(note=f"Note: `{missing.group(1)}` is set by the while loop shown in "
                           "an earlier note, and code in a note never runs by itself. Put "
                           "that loop in your cell first, then compute the result from "
                           "`items` in the same cell.")

    def _note_alike(self, count: int, item: object) -> Advice:
        phrase = self.counts[count]
        self.mismatch = (f"The task asks for \"{phrase}\", but every item of your list of "
                         f"{count} is {item!r}. Fix the loop that builds it so that each "
                         "item is a new one, print the list, then answer.")
        self.noted = True
        return Advice(note=f"Note: the list printed above has {count} items, but every one "
                           f"of them is {item!r}, and the task asks for \"{phrase}\". The "
                           "loop that builds it does not move on to new values: fix it "
                           "before you answer.", problem=True)

    def checks_answer(self, answer: str, step: Step | None = None) -> str | None:
        if self.mismatch is not None:  # measured on an output, not guessed: said each time
            return FirmNote(self.mismatch)
        echoed = self._count_as_answer(answer)
        if echoed is not None:
            return echoed
        if not self.ranked or self.shown or \
                any(n in self.ranked for n in printed_lengths(answer)):
            return None
        phrases = " / ".join(f'"{p}"' for p in self.ranked.values())
        return (f"The task is about {phrases}, and no output has shown them yet, so "
                "nothing checked that there are exactly that many. Print them and their "
                "count (len) first; if the count is right, answer again.")
