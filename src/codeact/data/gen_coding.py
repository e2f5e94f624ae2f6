"""Family ``coding``: write a function; graded by hidden unit tests in a fresh sandbox.

Kinds: ``strings``, ``lists``, ``numbers``, ``dicts`` (indexes, tallies, grouping),
``intervals`` (merging, free gaps, overlap peaks) and, held out, ``parsing``. Each problem has
randomised parameters (names, constants, separators) baked into its statement, a
reference implementation (our own code, run in the host only to compute the expected
outputs of the hidden tests), two worked examples in the statement and 8-14 hidden
asserts. The code format's instruction asks for ``final_answer(fn)`` (the kernel submits
the function's source with its imports and helpers), json and text for ``<solution>``
(:func:`~codeact.data.generator_base.function_task_text`); either way the answer is code,
and the checker runs it with the tests in a new sandboxed session, as HumanEval grading
does.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from codeact.data.checkers import python_tests_checker
from codeact.data.generator_base import Generator, Spec, function_task_text


@dataclass
class Problem:
    names: tuple[str, ...]
    signature: str  # "(s: str) -> str"
    statement: str  # may use {name} and parameter fields
    source: str  # reference body template, {name} and parameters
    inputs: Callable[[random.Random, dict[str, Any]], list[tuple[Any, ...]]]
    params: Callable[[random.Random], dict[str, Any]] = lambda rng: {}


def _words(rng: random.Random, n: int) -> str:
    vocab = ["apple", "sky", "rhythm", "ocean", "idea", "tree", "queue", "by", "crypt",
             "aura", "moon", "fly", "euro", "a", "strength", "io"]
    return " ".join(rng.choice(vocab) for _ in range(n))


def _text(rng: random.Random, lo: int = 0, hi: int = 12, alphabet: str = "aabbbcd") -> str:
    return "".join(rng.choice(alphabet) for _ in range(rng.randrange(lo, hi)))


def _ints(rng: random.Random, lo: int = 0, hi: int = 12, a: int = -50, b: int = 50
          ) -> list[int]:
    return [rng.randrange(a, b) for _ in range(rng.randrange(lo, hi))]


STRINGS = [
    Problem(("run_length", "encode_runs", "compress_runs"), "(s: str) -> str",
            "Return the run-length encoding of `s`: each maximal run of one character "
            "becomes the character followed by the run length{one_rule}. For example "
            "{name}('aaabcc') == {ex1!r} and {name}('') == ''.",
            "def {name}(s):\n    out = []\n    i = 0\n    while i < len(s):\n"
            "        j = i\n        while j < len(s) and s[j] == s[i]:\n            j += 1\n"
            "        n = j - i\n        out.append(s[i] + ('' if n == 1 and {skip_one} "
            "else str(n)))\n        i = j\n    return ''.join(out)\n",
            lambda rng, p: [(_text(rng, 1, 14),) for _ in range(10)] + [("",), ("z",)],
            lambda rng: (lambda skip: {"skip_one": skip,
                                       "one_rule": ", except that runs of length 1 are "
                                       "written as the bare character" if skip else "",
                                       "ex1": "a3bc2" if skip else "a3b1c2"})(
                rng.random() < 0.5)),
    Problem(("shift_letters", "rotate_letters", "caesar"), "(text: str) -> str",
            "Shift every ASCII letter of `text` forward by {k} places in the alphabet, "
            "wrapping from z to a and keeping its case; other characters stay as they are. "
            "For example {name}('Az!') == {ex!r}.",
            "def {name}(text):\n    out = []\n    for ch in text:\n        if ch.isascii() "
            "and ch.isalpha():\n            base = ord('a') if ch.islower() else ord('A')\n"
            "            out.append(chr((ord(ch) - base + {k}) % 26 + base))\n        else:\n"
            "            out.append(ch)\n    return ''.join(out)\n",
            lambda rng, p: [(_text(rng, 1, 16, "abcxyzXYZ .!q"),) for _ in range(10)],
            lambda rng: (lambda k: {"k": k, "ex": chr(97 + (0 + k) % 26).upper()
                                    + chr(97 + (25 + k) % 26) + "!"})(rng.randrange(2, 25))),
    Problem(("count_long_vowel_words", "vowel_heavy_words"), "(sentence: str) -> int",
            "Count the words of `sentence` (split on whitespace) that have at least {m} "
            "characters and contain at least {v} vowels (a, e, i, o, u; any case). For "
            "example {name}('') == 0.",
            "def {name}(sentence):\n    return sum(1 for w in sentence.split() if len(w) >= "
            "{m} and sum(c in 'aeiou' for c in w.lower()) >= {v})\n",
            lambda rng, p: [(_words(rng, rng.randrange(1, 12)),) for _ in range(10)],
            lambda rng: {"m": rng.randrange(3, 6), "v": rng.randrange(1, 3)}),
]

LISTS = [
    Problem(("window_means", "moving_average", "rolling_mean"),
            "(values: list[float]) -> list[float]",
            "Return the moving averages of `values` over windows of {w} consecutive items, "
            "each rounded to 2 decimals; a list shorter than {w} gives []. For example "
            "{name}({ex_in}) == {ex_out}.",
            "def {name}(values):\n    return [round(sum(values[i:i + {w}]) / {w}, 2) "
            "for i in range(len(values) - {w} + 1)]\n",
            lambda rng, p: [(_ints(rng, 0, 14),) for _ in range(10)],
            lambda rng: (lambda w: {"w": w, "ex_in": list(range(1, w + 2)),
                                    "ex_out": [round((w + 1) / 2, 2), round((w + 3) / 2, 2)]})(
                rng.randrange(2, 5))),
    Problem(("rotate_left", "shift_items"), "(items: list) -> list",
            "Return a new list with the items of `items` rotated left by {k} positions "
            "(the first {k} move to the end, wrapping around for short lists); an empty list "
            "stays empty. For example {name}([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]) == {ex}.",
            "def {name}(items):\n    if not items:\n        return []\n    k = {k} % len(items)"
            "\n    return items[k:] + items[:k]\n",
            lambda rng, p: [(_ints(rng, 0, 12),) for _ in range(10)] + [([],)],
            lambda rng: (lambda k: {"k": k, "ex": list(range(k + 1, 11)) + list(range(1, k + 1))}
                         )(rng.randrange(2, 8))),
    Problem(("chunk_totals", "group_sums"), "(values: list[int]) -> list[int]",
            "Split `values` into consecutive chunks of {size} (the last chunk may be shorter) "
            "and return the sum of each chunk whose sum is {cmp} {t}. For example "
            "{name}([]) == [].",
            "def {name}(values):\n    sums = [sum(values[i:i + {size}]) for i in "
            "range(0, len(values), {size})]\n    return [s for s in sums if s {op} {t}]\n",
            lambda rng, p: [(_ints(rng, 1, 16, -20, 40),) for _ in range(10)],
            lambda rng: (lambda op: {"size": rng.randrange(2, 5), "t": rng.randrange(-5, 30),
                                     "op": op, "cmp": {">": "greater than",
                                                       "<": "less than"}[op]})(
                rng.choice([">", "<"]))),
    Problem(("second_largest", "runner_up"), "(numbers: list[int]) -> int | None",
            "Return the second largest distinct value in `numbers`, or None when there are "
            "fewer than two distinct values. For example {name}([4, 4, 1]) == 1.",
            "def {name}(numbers):\n    distinct = sorted(set(numbers), reverse=True)\n"
            "    return distinct[1] if len(distinct) > 1 else None\n",
            lambda rng, p: [(_ints(rng, 0, 10, -9, 9),) for _ in range(10)] + [([3, 3],)]),
]

NUMBERS = [
    Problem(("digit_power_sum", "powered_digits"), "(n: int) -> int",
            "Return the sum of the digits of the non-negative integer `n`, each raised to "
            "the power {p}. For example {name}(12) == {ex}.",
            "def {name}(n):\n    return sum(int(d) ** {p} for d in str(n))\n",
            lambda rng, p: [(rng.randrange(0, 10 ** rng.randrange(1, 9)),) for _ in range(10)],
            lambda rng: (lambda p: {"p": p, "ex": 1 + 2 ** p})(rng.randrange(2, 6))),
    Problem(("to_base", "in_base", "base_digits"), "(n: int) -> str",
            "Write the non-negative integer `n` in base {b} using the digits "
            "0-9 then a-z, with no prefix; 0 is '0'. For example {name}({b}) == '10'.",
            "def {name}(n):\n    digits = '0123456789abcdefghijklmnopqrstuvwxyz'\n"
            "    if n == 0:\n        return '0'\n    out = ''\n    while n:\n"
            "        n, r = divmod(n, {b})\n        out = digits[r] + out\n    return out\n",
            lambda rng, p: [(rng.randrange(0, 10 ** rng.randrange(1, 7)),) for _ in range(10)]
            + [(0,)],
            lambda rng: {"b": rng.choice([2, 3, 5, 7, 8, 12, 16, 20, 36])}),
    Problem(("collatz_steps", "steps_to_one"), "(n: int) -> int",
            "Return how many steps the sequence starting at the positive integer `n` takes "
            "to reach 1, where an even value v becomes v // 2 and an odd value v becomes "
            "{a} * v + 1. For example {name}(1) == 0.",
            "def {name}(n):\n    steps = 0\n    while n != 1:\n        n = n // 2 if n % 2 "
            "== 0 else {a} * n + 1\n        steps += 1\n    return steps\n",
            lambda rng, p: [(rng.randrange(1, 3000),) for _ in range(10)],
            lambda rng: {"a": 3}),
    Problem(("count_harshad", "harshad_count"), "(limit: int) -> int",
            "Return how many integers k with 1 <= k <= `limit` are divisible by the sum of "
            "their own digits and are not multiples of {m}. For example {name}(1) == 1.",
            "def {name}(limit):\n    return sum(1 for k in range(1, limit + 1) if "
            "k % sum(map(int, str(k))) == 0 and k % {m})\n",
            lambda rng, p: [(rng.randrange(1, 5000),) for _ in range(10)],
            lambda rng: {"m": rng.choice([7, 11, 13, 17])}),
]

PARSING = [
    Problem(("duration_seconds", "parse_duration"), "(text: str) -> int",
            "Parse a duration such as '1h30m', '45s' or '2h5s' (any of the units h, m, s, "
            "each at most once, in that order) and return the total number of seconds. "
            "An empty string is 0. For example {name}('1m2s') == 62.",
            "def {name}(text):\n    import re\n    total = 0\n    for num, unit in "
            "re.findall(r'(\\d+)([hms])', text):\n        total += int(num) * {{'h': 3600, "
            "'m': 60, 's': 1}}[unit]\n    return total\n",
            lambda rng, p: [("".join(f"{rng.randrange(1, 99)}{u}" for u in "hms"
                                     if rng.random() < 0.6),) for _ in range(10)]),
    Problem(("parse_pairs", "read_settings"), "(text: str) -> dict",
            "Parse settings written as key{eq}value entries separated by '{sep}' into a "
            "dict of str to str, stripping spaces around keys and values, skipping empty "
            "entries; a later key overrides an earlier one. For example "
            "{name}('a{eq}1{sep} b {eq} 2 ') == {{'a': '1', 'b': '2'}}.",
            "def {name}(text):\n    out = {{}}\n    for part in text.split({sep!r}):\n"
            "        if not part.strip():\n            continue\n"
            "        key, _, value = part.partition({eq!r})\n"
            "        out[key.strip()] = value.strip()\n    return out\n",
            lambda rng, p: [(p["sep"].join(f"{rng.choice('xyzw')}{p['eq']}"
                                          f"{rng.randrange(100)}" for _ in
                                          range(rng.randrange(1, 6))),) for _ in range(10)],
            lambda rng: {"sep": rng.choice([";", ",", "|", "&"]), "eq": rng.choice(["=", ":"])}),
    Problem(("roman_value", "from_roman"), "(numeral: str) -> int",
            "Return the value of a valid Roman numeral (I, V, X, L, C, D, M, with the usual "
            "subtractive pairs such as IV and CM). For example {name}('XIV') == 14.",
            "def {name}(numeral):\n    values = {{'I': 1, 'V': 5, 'X': 10, 'L': 50, "
            "'C': 100, 'D': 500, 'M': 1000}}\n    total = 0\n    for i, ch in "
            "enumerate(numeral):\n        v = values[ch]\n        if i + 1 < len(numeral) and "
            "values[numeral[i + 1]] > v:\n            total -= v\n        else:\n"
            "            total += v\n    return total\n",
            lambda rng, p: [(_roman(rng.randrange(1, 3999)),) for _ in range(10)]),
]


def _docs(rng: random.Random, p: dict[str, Any]) -> list[tuple[Any, ...]]:
    vocab = ["Map", "tree", "Key", "node", "edge", "graph", "map", "leaf", "root"]
    return [({f"d{i}": [rng.choice(vocab) for _ in range(rng.randrange(0, 5))]
              for i in range(rng.randrange(1, 5))},) for _ in range(12)]


def _counts(rng: random.Random, p: dict[str, Any]) -> list[tuple[Any, ...]]:
    def one() -> dict[str, int]:
        return {k: rng.randrange(-3, 9) for k in rng.sample("abcdef", rng.randrange(0, 5))}
    return [(one(), one()) for _ in range(12)]


def _spans(rng: random.Random, n: int = 7, hi: int = 60) -> list[list[int]]:
    out = []
    for _ in range(rng.randrange(1, n)):
        a = rng.randrange(0, hi)
        out.append([a, a + rng.randrange(1, 15)])
    return out


DICTS = [
    Problem(("invert_index", "word_to_docs"),
            "(docs: dict[str, list[str]]) -> dict[str, list[str]]",
            "`docs` maps a document id to its words. Return a dict mapping each word{case} "
            "to the sorted list of the ids of the documents that contain it (each id once). "
            "For example {name}({{'d1': ['x', 'y'], 'd2': ['x']}}) == "
            "{{'x': ['d1', 'd2'], 'y': ['d1']}}.",
            "def {name}(docs):\n    out = {{}}\n    for doc, words in docs.items():\n"
            "        for w in words:\n            key = w.lower() if {lower} else w\n"
            "            out.setdefault(key, set()).add(doc)\n"
            "    return {{k: sorted(v) for k, v in out.items()}}\n",
            _docs,
            lambda rng: (lambda low: {"lower": low, "case": " (lower-cased, so 'Map' and "
                                      "'map' are one word)" if low else " (case matters)"})(
                rng.random() < 0.5)),
    Problem(("merge_counts", "combine_tallies"),
            "(a: dict[str, int], b: dict[str, int]) -> dict[str, int]",
            "Add the two tallies key by key (a key missing from one counts as 0) and return "
            "a dict of the keys whose total is greater than {t}, with their totals, keys in "
            "sorted order. For example {name}({{}}, {{}}) == {{}}.",
            "def {name}(a, b):\n    keys = sorted(set(a) | set(b))\n"
            "    totals = {{k: a.get(k, 0) + b.get(k, 0) for k in keys}}\n"
            "    return {{k: v for k, v in totals.items() if v > {t}}}\n",
            _counts, lambda rng: {"t": rng.randrange(0, 6)}),
    Problem(("group_by_length", "words_by_size"), "(words: list[str]) -> dict[int, list[str]]",
            "Group the distinct words of `words` by their length, for lengths of at least "
            "{m} only: return a dict mapping each length to its words sorted {order}. For "
            "example {name}([]) == {{}}.",
            "def {name}(words):\n    out = {{}}\n    for w in set(words):\n"
            "        if len(w) >= {m}:\n            out.setdefault(len(w), []).append(w)\n"
            "    return {{n: sorted(ws, reverse={rev}) for n, ws in sorted(out.items())}}\n",
            lambda rng, p: [(_words(rng, rng.randrange(1, 12)).split(),) for _ in range(12)],
            lambda rng: (lambda rev: {"m": rng.randrange(2, 5), "rev": rev,
                                      "order": "in reverse alphabetical order" if rev
                                      else "alphabetically"})(rng.random() < 0.5)),
]

INTERVALS = [
    Problem(("merge_spans", "merge_intervals", "union_ranges"),
            "(spans: list[list[int]]) -> list[list[int]]",
            "`spans` holds closed intervals [start, end]. Merge every pair that overlaps"
            "{touch} and return the merged intervals sorted by start. For example "
            "{name}([[5, 7], [1, 3], [2, 4]]) == {ex}.",
            "def {name}(spans):\n    out = []\n    for a, b in sorted(spans):\n"
            "        if out and a <= out[-1][1] + {gap}:\n"
            "            out[-1][1] = max(out[-1][1], b)\n        else:\n"
            "            out.append([a, b])\n    return out\n",
            lambda rng, p: [(_spans(rng),) for _ in range(12)],
            lambda rng: (lambda touch: {"gap": 1 if touch else 0,
                                        "touch": " or touches (ends at the integer just before "
                                        "the other starts, like [1, 2] and [3, 4])" if touch
                                        else "",
                                        "ex": "[[1, 7]]" if touch else "[[1, 4], [5, 7]]"})(
                                            rng.random() < 0.5)),
    Problem(("free_slots", "open_gaps"), "(busy: list[list[int]], start: int, end: int) -> "
            "list[list[int]]",
            "`busy` holds meetings as [from, to] minutes (half-open: [from, to) is busy; "
            "they may overlap and come in any order). Return the free gaps [a, b] within "
            "[start, end] that last at least {m} minutes, in order. For example "
            "{name}([], 0, 60) == [[0, 60]].",
            "def {name}(busy, start, end):\n    out, t = [], start\n"
            "    for a, b in sorted(busy):\n        a, b = max(a, start), min(b, end)\n"
            "        if a >= b:\n            continue\n        if a - t >= {m}:\n"
            "            out.append([t, a])\n        t = max(t, b)\n"
            "    if end - t >= {m}:\n        out.append([t, end])\n    return out\n",
            lambda rng, p: [(_spans(rng, 6, 90), rng.randrange(0, 20), rng.randrange(60, 100))
                            for _ in range(12)],
            lambda rng: {"m": rng.randrange(2, 15)}),
    Problem(("max_overlap", "peak_load"), "(spans: list[list[int]]) -> int",
            "`spans` holds half-open intervals [start, end). Return the largest number of "
            "them that cover one point at the same time{weight}. For example "
            "{name}([[1, 3], [3, 5]]) == {ex}.",
            "def {name}(spans):\n    events = []\n    for a, b in spans:\n"
            "        events += [(a, 1), (b, -1)]\n    best = cur = 0\n"
            "    for _, step in sorted(events, key=lambda e: (e[0], e[1])):\n"
            "        cur += step\n        best = max(best, cur)\n    return best * {k}\n",
            lambda rng, p: [(_spans(rng, 9, 30),) for _ in range(12)] + [([],)],
            lambda rng: (lambda k: {"k": k, "ex": k, "weight": "" if k == 1 else
                                    f", multiplied by {k} (each interval needs {k} seats)"})(
                rng.choice([1, 1, 2, 3]))),
]


def _roman(n: int) -> str:
    out = ""
    for v, s in ((1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"),
                 (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")):
        while n >= v:
            out += s
            n -= v
    return out


KINDS = {"strings": STRINGS, "lists": LISTS, "numbers": NUMBERS, "dicts": DICTS,
         "intervals": INTERVALS, "parsing": PARSING}

OFF_BY_ONE = '''
_reference_{name} = {name}


def {name}(*args, **kwargs):
    result = _reference_{name}(*args, **kwargs)
    if isinstance(result, bool):
        return not result
    if isinstance(result, int | float):
        return result + 1
    if isinstance(result, str | list | tuple) and result:
        return result[:-1]
    if isinstance(result, dict) and result:
        return dict(list(result.items())[:-1])
    return result
'''


def build(problem: Problem, rng: random.Random, difficulty: int) -> Spec:
    name = rng.choice(problem.names)
    params = problem.params(rng)
    fields = {"name": name, **params}
    source = problem.source.format(**fields)
    namespace: dict[str, Any] = {}
    exec(compile(source, f"<reference {name}>", "exec"), namespace)  # our own code
    fn = namespace[name]
    cases = problem.inputs(rng, params)
    cases = list(dict.fromkeys(repr(c) for c in cases))  # unique, in order
    cases_t = [eval(c) for c in cases]  # noqa: S307 - reprs we just made
    n_tests = {1: 8, 2: 11, 3: 14}[difficulty]
    tests = []
    for args in cases_t[:n_tests]:
        expected = fn(*args)
        call = f"{name}({', '.join(repr(a) for a in args)})"
        tests.append(f"assert {call} == {expected!r}, {call + ' should be ' + repr(expected)!r}")
    statement = problem.statement.format(**fields)
    instruction, per_format = function_task_text(
        f"Write a Python function `{name}{problem.signature}`. {statement}", name)
    test_code = "\n".join(tests)
    return Spec(instruction=instruction, expected=None,
                checker=python_tests_checker(test_code), reference_answer=source,
                near_miss=source + OFF_BY_ONE.format(name=name),
                extra={"entry_point": name, "tests": test_code},
                format_instructions=per_format)


class CodingGenerator(Generator):
    name = "coding"
    description = "write a function, graded by hidden unit tests in a fresh sandbox"
    kinds = tuple(KINDS)
    heldout_kinds = ("parsing",)

    def make(self, kind: str, rng: random.Random, difficulty: int) -> Spec:
        return build(rng.choice(KINDS[kind]), rng, difficulty)
