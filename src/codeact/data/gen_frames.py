"""Family ``frames``: data work with pandas on CSV and JSON files put into the workspace.

Kinds: ``pivot`` (an expense table to group, filter and pivot), ``timeseries`` (daily
sensor readings: months, day-to-day changes, rolling means), ``merge`` (customers in
JSON joined with orders in CSV) and, held out, ``reshape`` (a wide table, one column
per period, to melt into long form). The kernel's environment has pandas; the tasks are
worded for it (pivot, merge, rolling window, melt), though any code that reads the files
works.

Every expected answer is computed at generation time by a reference written with the
standard library over the very bytes written to the workspace; a second reference in
pandas is kept as source in ``metadata["solution_code"]`` (it reads the workspace files
and leaves its result in ``answer``), and the tests run it in a real kernel and check it
agrees, so the two implementations vouch for each other.

Difficulty adds steps: level 1 is one file and one aggregation; level 2 adds a filter
(a quarter, a tier) or dirty keys (ids differing in case and spaces); level 3 adds a
second or third file to join (team divisions, refunds) and messy values (thousands
separators, ``n/a``, blank readings) that a naive one-liner gets wrong.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import random
import statistics
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from codeact.data.checkers import choice_checker, number_checker
from codeact.data.generator_base import Generator, Spec

TEAMS = ["Atlas", "Beacon", "Cobalt", "Delta", "Ember", "Fjord", "Granite"]
DIVISIONS = ["Platform", "Growth", "Operations"]
CATEGORIES = ["travel", "software", "hardware", "training", "catering", "consulting"]
SENSORS = ["north-tank", "south-tank", "boiler", "intake", "outflow"]
COUNTRIES = ["Austria", "Brazil", "Canada", "Estonia", "Morocco", "Peru", "Vietnam"]
TIERS = ["bronze", "silver", "gold"]
PRODUCTS = ["kayak", "tent", "lantern", "stove", "hammock", "compass", "backpack"]
REGIONS = ["Nordic", "Iberia", "Benelux", "Alpine", "Baltic"]
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
          "Dec"]


def _csv(header: list[str], rows: Iterable[Sequence[Any]]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue().encode()


def _read(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode())))


def _ranked(values: dict[str, float]) -> tuple[str, str] | None:
    """(best, runner-up) when the best is clearly ahead (no tie after rounding)."""
    ranked = sorted(values.items(), key=lambda kv: -kv[1])
    if len(ranked) < 2 or abs(ranked[0][1] - ranked[1][1]) < 0.01:
        return None
    return ranked[0][0], ranked[1][0]


def _name(text: str, files: dict[str, bytes], top: tuple[str, str], candidates: Iterable[str],
          code: str) -> Spec:
    return Spec(instruction=text, expected=top[0], files=files,
                checker=choice_checker(top[0], candidates), reference_answer=top[0],
                near_miss=top[1], extra={"solution_code": code})


def _dec(text: str, files: dict[str, bytes], value: float, code: str) -> Spec:
    value = round(value, 2)
    return Spec(instruction=text, expected=value, files=files,
                checker=number_checker(value, abs_tol=0.01, rel_tol=0.0),
                reference_answer=f"{value:.2f}", near_miss=f"{value + 1:.2f}",
                extra={"solution_code": code})


def _int(text: str, files: dict[str, bytes], value: int, code: str) -> Spec:
    return Spec(instruction=text, expected=int(value), files=files,
                reference_answer=str(value), near_miss=str(value + 1),
                extra={"solution_code": code})


def _money(value: str) -> float | None:
    """An amount as written at level 3 ("1,234.50", "n/a") as a number, None if missing."""
    value = value.strip()
    return None if value.lower() in ("n/a", "") else float(value.replace(",", ""))


def pivot(rng: random.Random, d: int) -> Spec | None:
    teams = rng.sample(TEAMS, 3 + d)
    cats = rng.sample(CATEGORIES, 3 + d)
    rows = []
    for _ in range(30 * d + 20):
        day = dt.date(2024, 1, 1) + dt.timedelta(days=rng.randrange(366))
        amount = rng.randrange(500, 400000) / 100
        shown = f"{amount:.2f}"
        if d == 3:
            shown = "n/a" if rng.random() < 0.08 else f"{amount:,.2f}"
        rows.append([day.isoformat(), rng.choice(teams), rng.choice(cats), shown])
    files = {"expenses.csv": _csv(["date", "team", "category", "amount"], rows)}
    division = {t: rng.choice(DIVISIONS) for t in teams}
    if d == 3:
        files["teams.csv"] = _csv(["team", "division"], sorted(division.items()))
    recs = [r for r in _read(files["expenses.csv"]) if _money(r["amount"]) is not None]
    quarter = rng.randrange(1, 5) if d >= 2 else None
    if quarter is not None:
        recs = [r for r in recs if (int(r["date"][5:7]) - 1) // 3 + 1 == quarter]
    # level 3 asks about divisions: the team -> division table must be joined first
    unit = "division" if d == 3 else "team"
    for r in recs:
        r["unit"] = division[r["team"]] if d == 3 else r["team"]
    when = f" in quarter {quarter} of 2024 (Q{quarter})" if quarter else ""
    read = ("import pandas as pd\ndf = pd.read_csv('expenses.csv', thousands=',', "
            "na_values=['n/a'])\ndf = df.dropna(subset=['amount'])\n")
    if quarter is not None:
        read += f"df = df[pd.to_datetime(df['date']).dt.quarter == {quarter}]\n"
    if d == 3:
        read += "df = df.merge(pd.read_csv('teams.csv'), on='team')\n"
    note = (" Each team belongs to a division, listed in `teams.csv`. Amounts use thousands "
            "separators and some are n/a (missing: leave them out)." if d == 3 else "")
    intro = ("`expenses.csv` in the workspace lists expenses (date, team, category, "
             f"amount).{note}")
    who = rng.choice(sorted({r["unit"] for r in recs}) or [teams[0]])
    variant = rng.randrange(3)
    if variant == 0:
        by: dict[str, float] = defaultdict(float)
        for r in recs:
            if r["unit"] == who:
                by[r["category"]] += _money(r["amount"]) or 0.0
        top = _ranked(by)
        if top is None:
            return None
        return _name(f"{intro} Which category did {unit} {who} spend the most on{when}? "
                     "Answer with the category.", files, top, cats,
                     read + f"answer = df[df[{unit!r}] == {who!r}].groupby('category')"
                     "['amount'].sum().idxmax()\n")
    if variant == 1:
        cells: dict[str, float] = defaultdict(float)
        for r in recs:
            cells[f"{r['unit']}/{r['category']}"] += _money(r["amount"]) or 0.0
        if not cells:
            return None
        return _dec(f"{intro} Using the expenses{when}, build a pivot table of total amount "
                    f"with one row per {unit} and one column per category. What is the "
                    "largest value in the table, rounded to 2 decimals?", files,
                    max(cells.values()),
                    read + f"table = df.pivot_table(index={unit!r}, columns='category', "
                    "values='amount', aggfunc='sum')\n"
                    "answer = round(float(table.max().max()), 2)\n")
    total = sum(_money(r["amount"]) or 0.0 for r in recs)
    mine = sum(_money(r["amount"]) or 0.0 for r in recs if r["unit"] == who)
    if total <= 0:
        return None
    return _dec(f"{intro} What percentage of all the spending{when} was {unit} {who}'s? "
                "Give a percentage (0-100) rounded to 2 decimals.", files, 100 * mine / total,
                read + f"answer = round(100 * df.loc[df[{unit!r}] == {who!r}, 'amount'].sum()"
                " / df['amount'].sum(), 2)\n")


def timeseries(rng: random.Random, d: int) -> Spec | None:
    sensors = rng.sample(SENSORS, 1 + d)
    start = dt.date(2023, 1, 1) + dt.timedelta(days=rng.randrange(300))
    rows = []
    for s in sensors:
        level = rng.randrange(20, 80)
        for k in range(40 + 40 * d):
            level = max(0.0, level + rng.gauss(0, 3))
            shown = f"{level:.1f}"
            if d == 3 and rng.random() < 0.06:
                shown = ""
            rows.append([(start + dt.timedelta(days=k)).isoformat(), s, shown])
    rng.shuffle(rows)
    files = {"readings.csv": _csv(["date", "sensor", "value"], rows)}
    sensor = rng.choice(sensors)
    series = sorted((r["date"], float(r["value"])) for r in _read(files["readings.csv"])
                    if r["sensor"] == sensor and r["value"].strip())
    read = ("import pandas as pd\ndf = pd.read_csv('readings.csv', parse_dates=['date'])\n"
            f"s = df[df['sensor'] == {sensor!r}].dropna(subset=['value'])"
            ".sort_values('date').set_index('date')['value']\n")
    note = (" The rows are not in date order" + (", and some readings are blank (leave them "
            "out)." if d == 3 else "."))
    intro = f"`readings.csv` in the workspace holds daily readings (date, sensor, value).{note}"
    variant = rng.randrange(3)
    if variant == 0:
        months: dict[str, list[float]] = defaultdict(list)
        for day, v in series:
            months[day[:7]].append(v)
        means = {m: statistics.fmean(v) for m, v in months.items()}
        top = _ranked(means)
        if top is None:
            return None
        return _name(f"{intro} Which calendar month had the highest mean value for sensor "
                     f"{sensor}? Answer as YYYY-MM.", files, top, means,
                     read + "answer = s.groupby(s.index.strftime('%Y-%m')).mean().idxmax()\n")
    if variant == 1:
        rises = {series[i][0]: series[i][1] - series[i - 1][1] for i in range(1, len(series))}
        top = _ranked(rises)
        if top is None:
            return None
        return _name(f"{intro} On which date did sensor {sensor}'s value rise the most "
                     "compared with its previous reading? Answer as YYYY-MM-DD.", files, top,
                     rises, read + "answer = s.diff().idxmax().strftime('%Y-%m-%d')\n")
    window = 3 + 2 * d
    values = [v for _, v in series]
    means = [statistics.fmean(values[i:i + window]) for i in range(len(values) - window + 1)]
    return _dec(f"{intro} Take sensor {sensor}'s readings in date order and compute the "
                f"rolling mean over windows of {window} consecutive readings. What is the "
                "largest rolling mean, rounded to 2 decimals?", files, max(means),
                read + f"answer = round(float(s.rolling({window}).mean().max()), 2)\n")


def merge(rng: random.Random, d: int) -> Spec | None:
    customers = []
    for i in range(6 + 4 * d):
        customers.append({"customer_id": f"C{100 + i}", "name": f"{rng.choice(TEAMS)} Ltd",
                          "country": rng.choice(COUNTRIES[:3 + d]), "tier": rng.choice(TIERS)})
    orders, refunds = [], []
    for k in range(25 * d + 15):
        cid = rng.choice(customers)["customer_id"]
        if d >= 2 and rng.random() < 0.3:  # dirty keys: case and spaces differ
            cid = rng.choice([cid.lower(), f" {cid}", f"{cid} "])
        total = rng.randrange(1000, 90000) / 100
        orders.append([f"O{5000 + k}", cid, total])
        if d == 3 and rng.random() < 0.15:
            refunds.append([f"O{5000 + k}", round(total * rng.choice([0.25, 0.5, 1.0]), 2)])
    files = {"customers.json": json.dumps(customers, indent=1).encode(),
             "orders.csv": _csv(["order_id", "customer", "total"], orders)}
    if d == 3:
        files["refunds.csv"] = _csv(["order_id", "refund"], refunds)
    refund = {r["order_id"]: float(r["refund"]) for r in _read(files["refunds.csv"])} \
        if d == 3 else {}
    info = {c["customer_id"]: c for c in json.loads(files["customers.json"])}
    recs = [{"cid": r["customer"].strip().upper(),
             "net": float(r["total"]) - refund.get(r["order_id"], 0.0)}
            for r in _read(files["orders.csv"])]
    code = ("import pandas as pd\ncust = pd.read_json('customers.json')\n"
            "orders = pd.read_csv('orders.csv')\n"
            "orders['customer_id'] = orders['customer'].str.strip().str.upper()\n"
            "orders['net'] = orders['total']\n")
    if d == 3:
        code += ("ref = pd.read_csv('refunds.csv')\norders = orders.merge(ref, on='order_id', "
                 "how='left')\norders['net'] = orders['total'] - orders['refund'].fillna(0)\n")
    code += "df = orders.merge(cust, on='customer_id')\n"
    intro = ("The workspace has `customers.json` (customer_id, name, country, tier) and "
             "`orders.csv` (order_id, customer, total).")
    if d >= 2:
        intro += (" Customer ids in orders.csv may differ from customers.json in letter "
                  "case and surrounding spaces.")
    if d == 3:
        intro += (" `refunds.csv` lists refunded amounts per order_id: count order totals "
                  "net of refunds.")
    variant = rng.randrange(3)
    if variant == 0:
        by: dict[str, float] = defaultdict(float)
        for r in recs:
            by[info[r["cid"]]["country"]] += r["net"]
        top = _ranked(by)
        if top is None:
            return None
        return _name(f"{intro} Which country's customers spent the most in total? Answer "
                     "with the country.", files, top, COUNTRIES,
                     code + "answer = df.groupby('country')['net'].sum().idxmax()\n")
    if variant == 1:
        tier = rng.choice(TIERS)
        least = rng.randrange(2, 2 + d)
        counts = Counter(r["cid"] for r in recs)
        n = sum(1 for c, k in counts.items() if info[c]["tier"] == tier and k >= least)
        return _int(f"{intro} How many {tier}-tier customers placed at least {least} "
                    "orders?", files, n,
                    code + f"counts = df[df['tier'] == {tier!r}].groupby('customer_id').size()"
                    f"\nanswer = int((counts >= {least}).sum())\n")
    country = rng.choice(sorted({info[r["cid"]]["country"] for r in recs}))
    nets = [r["net"] for r in recs if info[r["cid"]]["country"] == country]
    return _dec(f"{intro} What is the mean order total of customers from {country}, rounded "
                "to 2 decimals?", files, statistics.fmean(nets),
                code + f"answer = round(float(df.loc[df['country'] == {country!r}, 'net']"
                ".mean()), 2)\n")


def reshape(rng: random.Random, d: int) -> Spec | None:
    periods = {1: ["Q1", "Q2", "Q3", "Q4"],
               2: [f"{y}-Q{q}" for y in (2023, 2024) for q in range(1, 5)],
               3: MONTHS}[d]
    regions = rng.sample(REGIONS, 2 + d)
    products = rng.sample(PRODUCTS, 2 + d)
    rows = []
    for reg in regions:
        for prod in products:
            level = rng.randrange(50, 500)
            cells = []
            for _ in periods:
                level = max(0, level + rng.randrange(-60, 80))
                cells.append("" if d == 3 and rng.random() < 0.08 else level)
            rows.append([reg, prod, *cells])
    files = {"units_wide.csv": _csv(["region", "product", *periods], rows)}
    long = [(r["region"], r["product"], p, float(r[p] or 0))
            for r in _read(files["units_wide.csv"]) for p in periods]
    code = ("import pandas as pd\nwide = pd.read_csv('units_wide.csv')\n"
            "long = wide.melt(id_vars=['region', 'product'], var_name='period', "
            "value_name='units').fillna({'units': 0})\n")
    note = " Blank cells mean no units sold." if d == 3 else ""
    intro = (f"`units_wide.csv` in the workspace has units sold per region and product, one "
             f"column per period ({periods[0]} ... {periods[-1]}).{note}")
    variant = rng.randrange(3)
    if variant == 0:
        growth: dict[str, float] = defaultdict(float)
        for _reg, prod, p, v in long:
            if p == periods[-1]:
                growth[prod] += v
            elif p == periods[0]:
                growth[prod] -= v
        top = _ranked(growth)
        if top is None:
            return None
        return _name(f"{intro} Summed over regions, which product grew the most from "
                     f"{periods[0]} to {periods[-1]}? Answer with the product.", files, top,
                     products, code + "t = long.pivot_table(index='product', columns='period', "
                     f"values='units', aggfunc='sum')\nanswer = (t[{periods[-1]!r}] - "
                     f"t[{periods[0]!r}]).idxmax()\n")
    if variant == 1:
        region = rng.choice(regions)
        per: dict[str, float] = defaultdict(float)
        for reg, _prod, p, v in long:
            if reg == region:
                per[p] += v
        top = _ranked(per)
        if top is None:
            return None
        return _name(f"{intro} In which period did the {region} region sell the most units "
                     "over all products? Answer with the period's column name.", files, top,
                     periods, code + f"answer = long[long['region'] == {region!r}]"
                     ".groupby('period')['units'].sum().idxmax()\n")
    return _dec(f"{intro} Reshape it to long form, one row per region, product and period. "
                "What is the median of units over all those rows, rounded to 2 decimals?",
                files, statistics.median(v for *_, v in long),
                code + "answer = round(float(long['units'].median()), 2)\n")


class FramesGenerator(Generator):
    name = "frames"
    description = "pandas data work on CSV/JSON workspace files: pivot, time series, merge"
    kinds = ("pivot", "timeseries", "merge", "reshape")
    heldout_kinds = ("reshape",)
    _MAKERS: dict[str, Callable[[random.Random, int], Spec | None]] = {
        "pivot": pivot, "timeseries": timeseries, "merge": merge, "reshape": reshape}

    def make(self, kind: str, rng: random.Random, difficulty: int) -> Spec:
        for _ in range(20):  # a tie would give two right answers: draw again
            spec = self._MAKERS[kind](rng, difficulty)
            if spec is not None:
                return spec
        raise RuntimeError(f"frames/{kind}: no unambiguous task in 20 draws")
