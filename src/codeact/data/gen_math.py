"""Family ``math``: number problems whose answer a reference computes.

Kinds: ``number_theory``, ``combinatorics``, ``dates``, ``units``, ``statistics`` (over
numbers generated into the instruction), ``geometry`` (polygons, routes and points in a
circle, from coordinates), ``probability`` (dice, draws without replacement,
permutations; exact, 4 decimals) and, held out, ``sequences``. Difficulty scales the
sizes (bigger ranges, longer lists, more vertices, dice and draws, more constraints), so
brute force in one line stops working and the model has to write and check a small
program.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import random
import re
import statistics
from collections.abc import Callable

from codeact.data.checkers import number_checker
from codeact.data.generator_base import Generator, Spec

WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def _int(instruction: str, value: int) -> Spec:
    return Spec(instruction=instruction, expected=int(value), reference_answer=str(value),
                near_miss=str(value + 1))


def _dec(instruction: str, value: float) -> Spec:
    """A 2-decimal answer: checked within 0.01, so rounding either way passes."""
    value = round(value, 2)
    return Spec(instruction=instruction, expected=value,
                checker=number_checker(value, abs_tol=0.01, rel_tol=0.0),
                reference_answer=f"{value:.2f}", near_miss=f"{value + 1:.2f}")


def _primes_upto(n: int) -> list[int]:
    sieve = bytearray([1]) * (n + 1)
    sieve[:2] = b"\x00\x00"
    for i in range(2, int(n ** 0.5) + 1):
        if sieve[i]:
            sieve[i * i::i] = bytearray(len(sieve[i * i::i]))
    return [i for i, ok in enumerate(sieve) if ok]


def number_theory(rng: random.Random, d: int) -> Spec:
    variant = rng.randrange(5)
    if variant == 0:
        lo = rng.randrange(10, 10 ** (d + 2))
        hi = lo + rng.randrange(50, 400 * d)
        total = sum(p for p in _primes_upto(hi) if p >= lo)
        return _int(f"Add up every prime p with {lo} <= p <= {hi}. What is the total?", total)
    if variant == 1:
        n = rng.randrange(10 ** (d + 2), 10 ** (d + 3))
        count = sum(2 if i * i != n else 1 for i in range(1, math.isqrt(n) + 1) if n % i == 0)
        return _int(f"How many positive whole numbers divide {n} exactly (1 and {n} "
                    "included)?", count)
    if variant == 2:
        base = rng.randrange(2, 30)
        nums = [base * rng.randrange(2, 40 * d) for _ in range(2 + d)]
        lcm = math.lcm(*nums)
        return _int(f"Find the least common multiple of {', '.join(map(str, nums))}.", lcm)
    if variant == 3:
        n = rng.randrange(10 * d, 40 * d)
        digits = sum(int(c) for c in str(math.factorial(n)))
        return _int(f"Write out {n}! (the factorial of {n}) in decimal and add its digits "
                    "together. What sum do you get?", digits)
    n = rng.randrange(500, 2000 * d)
    a, b = rng.sample([3, 4, 5, 6, 7, 9, 11, 13], 2)
    c = rng.choice([2, 10, 15, 21])
    count = sum(1 for i in range(1, n + 1) if (i % a == 0 or i % b == 0) and i % c)
    return _int(f"Among the integers from 1 to {n}, count those that are multiples of {a} "
                f"or of {b} (or both) but are not multiples of {c}.", count)


def combinatorics(rng: random.Random, d: int) -> Spec:
    variant = rng.randrange(4)
    if variant == 0:
        n = rng.randrange(6 + 2 * d, 12 + 4 * d)
        k = rng.randrange(3, min(n - 2, 3 + 2 * d))
        total = math.comb(n, k) - math.comb(n - 2, k - 2)
        return _int(f"A club of {n} members elects a committee of {k}. Two of the members, "
                    "Ana and Ben, refuse to serve together. How many different committees "
                    "are possible?", total)
    if variant == 1:
        letters = "".join(rng.choice("AABBCDEEFGHIKLMNOPRST") for _ in range(4 + 2 * d))
        counts = {ch: letters.count(ch) for ch in set(letters)}
        total = math.factorial(len(letters))
        for c in counts.values():
            total //= math.factorial(c)
        return _int(f"How many distinct strings can be formed by rearranging all the letters "
                    f"of {letters}?", total)
    if variant == 2:
        w, h = rng.randrange(3, 4 + 2 * d), rng.randrange(3, 4 + 2 * d)
        bx, by = rng.randrange(1, w), rng.randrange(1, h)
        grid = [[0] * (w + 1) for _ in range(h + 1)]
        for y in range(h + 1):
            for x in range(w + 1):
                if (x, y) == (bx, by):
                    grid[y][x] = 0
                elif x == 0 and y == 0:
                    grid[y][x] = 1
                else:
                    grid[y][x] = (grid[y - 1][x] if y else 0) + (grid[y][x - 1] if x else 0)
        return _int(f"On a grid, a robot walks from corner (0, 0) to corner ({w}, {h}) using "
                    f"only unit steps in +x or +y. The point ({bx}, {by}) is blocked. How many "
                    "different walks are there?", grid[h][w])
    k = rng.randrange(3, 3 + d)
    n = rng.randrange(k + 5, k + 10 + 5 * d)
    cap = rng.randrange(3, 6 + d)
    count = _bounded_compositions(n, k, cap)
    return _int(f"In how many ways can {n} identical coins be split among {k} labelled "
                f"jars so that every jar gets at least 1 and at most {cap} coins?", count)


def _bounded_compositions(n: int, k: int, cap: int) -> int:
    ways = [1] + [0] * n
    for _ in range(k):
        new = [0] * (n + 1)
        for total, w in enumerate(ways):
            if w:
                for c in range(1, cap + 1):
                    if total + c <= n:
                        new[total + c] += w
        ways = new
    return ways[n]


_ISO = re.compile(r"\d{4}-\d{2}-\d{2}")


def _date_checker(expected: str) -> Callable[[str | None], bool]:
    def check(answer: str | None) -> bool:
        found = _ISO.findall(answer or "")
        return bool(found) and found[-1] == expected
    return check


def _weekday_checker(expected: str) -> Callable[[str | None], bool]:
    def check(answer: str | None) -> bool:
        words = re.findall(r"[a-z]+", (answer or "").lower())
        named = [w for w in words if w in {d.lower() for d in WEEKDAYS}]
        return bool(named) and named[-1] == expected.lower()
    return check


def dates(rng: random.Random, d: int) -> Spec:
    start = dt.date(1990, 1, 1) + dt.timedelta(days=rng.randrange(365 * 40))
    variant = rng.randrange(4)
    if variant == 0:
        end = start + dt.timedelta(days=rng.randrange(30, 400 * d))
        n = (end - start).days
        return _int(f"How many days after {start:%B %d, %Y} is {end:%B %d, %Y}?", n)
    if variant == 1:
        shift = rng.randrange(100, 2000 * d)
        day = start + dt.timedelta(days=shift)
        name = WEEKDAYS[day.weekday()]
        wrong = WEEKDAYS[(day.weekday() + 1) % 7]
        return Spec(instruction=f"Which day of the week falls {shift} days after "
                                f"{start.isoformat()}? Answer with the weekday's name.",
                    expected=name, checker=_weekday_checker(name), reference_answer=name,
                    near_miss=wrong)
    if variant == 2:
        shift = rng.randrange(10, 60 * d)
        day = start
        added = 0
        while added < shift:
            day += dt.timedelta(days=1)
            if day.weekday() < 5:
                added += 1
        return Spec(instruction=f"Counting only Monday to Friday as working days, what is "
                                f"the date {shift} working days after {start.isoformat()}? "
                                "Answer as YYYY-MM-DD.",
                    expected=day.isoformat(), checker=_date_checker(day.isoformat()),
                    reference_answer=day.isoformat(),
                    near_miss=(day + dt.timedelta(days=1)).isoformat())
    y0 = rng.randrange(1950, 2030)
    y1 = y0 + rng.randrange(2, 6 * d + 3)
    weekday = rng.randrange(7)
    dom = rng.choice([1, 13, 28])
    count = sum(1 for y in range(y0, y1 + 1) for m in range(1, 13)
                if dt.date(y, m, dom).weekday() == weekday)
    return _int(f"From January {y0} to December {y1} inclusive, how many months have their "
                f"day {dom} on a {WEEKDAYS[weekday]}?", count)


# factor to SI base unit
_UNITS = {
    "length": {"inch": 0.0254, "foot": 0.3048, "yard": 0.9144, "mile": 1609.344,
               "nautical mile": 1852.0, "centimetre": 0.01, "kilometre": 1000.0},
    "mass": {"ounce": 0.028349523125, "pound": 0.45359237, "stone": 6.35029318,
             "gram": 0.001, "kilogram": 1.0, "tonne": 1000.0},
    "volume": {"US gallon": 3.785411784, "litre": 1.0, "US pint": 0.473176473,
               "imperial gallon": 4.54609, "cubic foot": 28.316846592},
}


def _plural(unit: str) -> str:
    words = unit.split()
    last = {"inch": "inches", "foot": "feet"}.get(words[-1], words[-1] + "s")
    return " ".join([*words[:-1], last])


def units(rng: random.Random, d: int) -> Spec:
    if rng.random() < 0.3:
        c = rng.randrange(-40, 200) + rng.choice([0, 0.5])
        f = c * 9 / 5 + 32
        if rng.random() < 0.5:
            return _dec(f"A thermometer reads {c} degrees Celsius. What is that in degrees "
                        "Fahrenheit? Round to 2 decimals.", f)
        return _dec(f"Convert {f:.1f} degrees Fahrenheit to kelvin, rounded to 2 decimals.",
                    (round(f, 1) - 32) * 5 / 9 + 273.15)
    dim = rng.choice(list(_UNITS))
    names = list(_UNITS[dim])
    items = [(rng.randrange(1, 500) + rng.randrange(100) / 100, rng.choice(names))
             for _ in range(d)]
    target = rng.choice(names)
    total = sum(q * _UNITS[dim][u] for q, u in items) / _UNITS[dim][target]
    parts = " plus ".join(f"{q:g} {_plural(u)}" for q, u in items)
    return _dec(f"Express {parts} in {_plural(target)}. Give the result rounded to 2 "
                "decimal places.", total)


def statistics_kind(rng: random.Random, d: int) -> Spec:
    n = rng.randrange(8 + 8 * d, 16 + 16 * d)
    data = [rng.randrange(10, 1000) / rng.choice([1, 10]) for _ in range(n)]
    shown = ", ".join(f"{x:g}" for x in data)
    variant = rng.randrange(5)
    if variant == 0:
        return _dec(f"Here are {n} measurements: {shown}. What is their population standard "
                    "deviation, rounded to 2 decimals?", statistics.pstdev(data))
    if variant == 1:
        return _dec(f"Compute the median of these values: {shown}. Round to 2 decimals.",
                    statistics.median(data))
    if variant == 2:
        cut = max(1, n // 10)
        trimmed = sorted(data)[cut:-cut]
        return _dec(f"Sort these {n} numbers, drop the {cut} smallest and the {cut} largest, "
                    f"and average the rest (2 decimals): {shown}.", statistics.fmean(trimmed))
    if variant == 3:
        mean = statistics.fmean(data)
        count = sum(1 for x in data if x > mean)
        return _int(f"How many of the following numbers are strictly greater than their "
                    f"arithmetic mean? {shown}", count)
    xs = list(range(1, n + 1))
    slope = statistics.linear_regression(xs, data).slope
    return _dec(f"The readings below were taken on days 1 to {n}, in order: {shown}. Fit a "
                "least-squares straight line (reading against day) and report its slope, "
                "rounded to 2 decimals.", slope)


def _prob(instruction: str, value: float) -> Spec:
    """A probability to 4 decimals, checked within 0.0001."""
    value = round(value, 4)
    return Spec(instruction=instruction, expected=value,
                checker=number_checker(value, abs_tol=0.0001, rel_tol=0.0),
                reference_answer=f"{value:.4f}", near_miss=f"{value + 0.05:.4f}")


def geometry(rng: random.Random, d: int) -> Spec:
    variant = rng.randrange(3)
    if variant in (0, 1):
        n = 3 + 2 * d
        cx, cy = rng.randrange(-20, 20), rng.randrange(-20, 20)
        angles = sorted(rng.sample(range(360), n))  # a star-shaped, simple polygon
        pts = [(cx + round(rng.randrange(5, 30) * math.cos(math.radians(a))),
                cy + round(rng.randrange(5, 30) * math.sin(math.radians(a)))) for a in angles]
        pts = list(dict.fromkeys(pts))
        shown = ", ".join(f"({x}, {y})" for x, y in pts)
        if variant == 0:
            twice = sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in zip(pts, pts[1:] + pts[:1],
                                                                        strict=True))
            return _dec(f"A plot of land has the corners {shown}, in this order around its "
                        "edge (coordinates in metres). What is its area in square metres, "
                        "rounded to 2 decimals?", abs(twice) / 2)
        length = sum(math.dist(a, b) for a, b in zip(pts, pts[1:] + pts[:1], strict=True))
        return _dec(f"A delivery drone starts at {pts[0]}, visits {shown} in this order and "
                    "flies straight back to where it started. How long is the whole route, "
                    "rounded to 2 decimals?", length)
    n = 10 * d + 5
    cx, cy = rng.randrange(-10, 10), rng.randrange(-10, 10)
    r = rng.randrange(4, 15) + 0.5  # never exactly on the circle: integer points
    pts = [(rng.randrange(cx - 20, cx + 20), rng.randrange(cy - 20, cy + 20)) for _ in range(n)]
    inside = sum(1 for p in pts if math.dist(p, (cx, cy)) < r)
    shown = ", ".join(f"({x}, {y})" for x, y in pts)
    return _int(f"How many of these points lie inside the circle of radius {r} centred at "
                f"({cx}, {cy})? {shown}", inside)


def probability(rng: random.Random, d: int) -> Spec:
    variant = rng.randrange(3)
    if variant == 0:
        k, sides = 1 + d, rng.choice([4, 6, 8, 10])
        target = rng.randrange(k + 1, k * sides)
        ways = [1]
        for _ in range(k):
            new = [0] * (len(ways) + sides)
            for total, w in enumerate(ways):
                for face in range(1, sides + 1):
                    new[total + face] += w
            ways = new
        p = sum(ways[target:]) / sides ** k
        return _prob(f"Roll {k} fair {sides}-sided dice (faces 1 to {sides}). What is the "
                     f"probability that their sum is at least {target}? Give it to 4 "
                     "decimals.", p)
    if variant == 1:
        red, blue, green = rng.randrange(3, 9), rng.randrange(3, 9), rng.randrange(2, 7)
        draw = min(1 + d, red + blue + green - 1)
        j = rng.randrange(0, min(red, draw) + 1)
        total = red + blue + green
        p = math.comb(red, j) * math.comb(total - red, draw - j) / math.comb(total, draw)
        return _prob(f"A bag holds {red} red, {blue} blue and {green} green marbles. You draw "
                     f"{draw} without putting any back. What is the probability of getting "
                     f"exactly {j} red? Give it to 4 decimals.", p)
    n = 3 + d + rng.randrange(3)
    m = rng.randrange(0, 3)
    count = sum(1 for perm in itertools.permutations(range(n))
                if sum(i == v for i, v in enumerate(perm)) == m)
    return _prob(f"{n} guests leave their coats at a cloakroom and get them back in a "
                 f"random order (all orders equally likely). What is the probability that "
                 f"exactly {m} of them get their own coat back? Give it to 4 decimals.",
                 count / math.factorial(n))


def sequences(rng: random.Random, d: int) -> Spec:
    variant = rng.randrange(3)
    if variant == 0:
        a0, p, q = rng.randrange(1, 20), rng.randrange(2, 6), rng.randrange(1, 30)
        m = rng.choice([97, 1000, 1009, 10007])
        n = rng.randrange(20, 200 * d)
        a = a0
        for _ in range(n):
            a = (p * a + q) % m
        return _int(f"A sequence starts with a_0 = {a0} and continues with "
                    f"a_(k+1) = ({p} * a_k + {q}) mod {m}. What is a_{n}?", a)
    if variant == 1:
        n = rng.randrange(10, 200 * d)
        fib, a, b = 0, 1, 2
        while a <= n * 1000:
            if a % 2 == 0:
                fib += a
            a, b = b, a + b
        return _int(f"Add up the even Fibonacci numbers (1, 2, 3, 5, 8, ...) that do not "
                    f"exceed {n * 1000}.", fib)
    lo = rng.randrange(2, 50)
    hi = lo + rng.randrange(20, 300 * d)
    best = max(range(lo, hi + 1), key=lambda s: (_collatz(s), -s))
    return _int(f"For each start value from {lo} to {hi}, apply the Collatz rule (halve even "
                "numbers, map odd n to 3n + 1) until reaching 1. Which start value takes the "
                "most steps? If several tie, give the smallest.", best)


def _collatz(n: int) -> int:
    steps = 0
    while n != 1:
        n = n // 2 if n % 2 == 0 else 3 * n + 1
        steps += 1
    return steps


class MathGenerator(Generator):
    name = "math"
    description = ("number theory, combinatorics, dates, units, statistics, geometry, "
                   "probability, sequences")
    kinds = ("number_theory", "combinatorics", "dates", "units", "statistics", "geometry",
             "probability", "sequences")
    heldout_kinds = ("sequences",)
    _MAKERS = {"number_theory": number_theory, "combinatorics": combinatorics,
               "dates": dates, "units": units, "statistics": statistics_kind,
               "geometry": geometry, "probability": probability, "sequences": sequences}

    def make(self, kind: str, rng: random.Random, difficulty: int) -> Spec:
        return self._MAKERS[kind](rng, difficulty)
