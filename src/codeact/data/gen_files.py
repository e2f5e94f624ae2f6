"""Family ``files``: data work on files the task puts into the workspace before the run.

Kinds: ``csv_sales`` (a sales table), ``json_inventory`` (nested JSON records),
``text_logs`` (service log lines), ``monthly_reports`` (a folder of monthly CSV files to
combine), ``ini_configs`` (a folder of service INI files, with defaults from a shared
file) and, held out, ``csv_join`` (two tables to join). The answer is computed by
parsing the very bytes written to the workspace, so the expected value always matches
the files. Difficulty: more rows and more files (4, 6 or 8 monthly reports; 3, 5 or 7
service files), a defaults file to merge in from level 2, and at level 3 messy data
(stray spaces, blank or malformed lines, a file whose columns come in another order,
booleans spelled on/off/true/false) that a naive one-liner gets wrong.
Everything is solvable with the standard library; pandas works where installed.
"""

from __future__ import annotations

import csv
import io
import json
import random
from collections import Counter, defaultdict
from collections.abc import Iterable
from typing import Any

from codeact.data.checkers import choice_checker, number_checker
from codeact.data.generator_base import Generator, Spec

REGIONS = ["North", "South", "East", "West", "Central", "Coastal", "Highlands"]
PRODUCTS = ["anvil", "bracket", "cable", "dowel", "eyelet", "flange", "gasket", "hinge",
            "insulator", "jack"]
CATEGORIES = ["tools", "garden", "kitchen", "office", "outdoor", "toys"]
COUNTRIES = ["Chile", "Denmark", "Egypt", "Finland", "Ghana", "India", "Japan", "Kenya"]
SERVICES = ["auth", "billing", "search", "upload", "notify", "profile"]
LEVELS = ["INFO", "INFO", "INFO", "WARN", "ERROR", "DEBUG"]
FIRST = ["Ada", "Bo", "Cy", "Dee", "Eli", "Fay", "Gus", "Hal", "Ivy", "Jo", "Kai", "Lu",
         "Max", "Ned", "Oda", "Pia", "Quin", "Rex", "Sol", "Tam"]
DEPTS = ["Research", "Sales", "Support", "Finance", "Legal", "Design", "Ops"]


def _rows(d: int) -> int:
    return {1: 20, 2: 60, 3: 150}[d]


def _name_spec(instruction: str, files: dict[str, bytes], answer: str, runner_up: str,
               candidates: Iterable[str]) -> Spec:
    return Spec(instruction=instruction, expected=answer, files=files,
                checker=choice_checker(answer, candidates),
                reference_answer=answer, near_miss=runner_up)


def _dec_spec(instruction: str, files: dict[str, bytes], value: float) -> Spec:
    value = round(value, 2)
    return Spec(instruction=instruction, expected=value, files=files,
                checker=number_checker(value, abs_tol=0.01, rel_tol=0.0),
                reference_answer=f"{value:.2f}", near_miss=f"{value + 1:.2f}")


def _int_spec(instruction: str, files: dict[str, bytes], value: int) -> Spec:
    return Spec(instruction=instruction, expected=value, files=files,
                reference_answer=str(value), near_miss=str(value + 1))


def _ranked(values: dict[str, float]) -> tuple[str, str] | None:
    ranked = sorted(values.items(), key=lambda kv: -kv[1])
    if len(ranked) < 2 or abs(ranked[0][1] - ranked[1][1]) < 0.005:
        return None
    return ranked[0][0], ranked[1][0]


def csv_sales(rng: random.Random, d: int) -> Spec:
    name = rng.choice(["sales.csv", "orders.csv", "transactions.csv"])
    lines = ["order_id,date,region,product,units,unit_price"]
    for i in range(_rows(d)):
        region = rng.choice(REGIONS[:3 + d])
        if d == 3 and rng.random() < 0.2:
            region = f" {region} "  # stray spaces
        lines.append(f"{1000 + i},2024-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d},"
                     f"{region},{rng.choice(PRODUCTS[:4 + d])},{rng.randrange(1, 30)},"
                     f"{rng.randrange(100, 9999) / 100:.2f}")
    if d == 3:
        lines.insert(rng.randrange(2, len(lines)), "")
    data = ("\n".join(lines) + "\n").encode()
    files = {name: data}
    rows = [r for r in csv.DictReader(io.StringIO(data.decode())) if r.get("order_id")]
    for r in rows:
        r["region"] = r["region"].strip()
    variant = rng.randrange(4)
    if variant == 0:
        region = rng.choice(sorted({r["region"] for r in rows}))
        total = sum(int(r["units"]) * float(r["unit_price"]) for r in rows
                    if r["region"] == region)
        return _dec_spec(f"The workspace file `{name}` lists orders (units times unit_price "
                         f"is an order's revenue). What is the total revenue of the {region} "
                         "region, rounded to 2 decimals?", files, total)
    if variant in (1, 2):
        by: dict[str, float] = defaultdict(float)
        month = rng.randrange(1, 13)
        for r in rows:
            if variant == 1:
                by[r["region"]] += int(r["units"]) * float(r["unit_price"])
            elif int(r["date"][5:7]) == month:
                by[r["product"]] += int(r["units"])
        top = _ranked(by)
        if top is not None:
            if variant == 1:
                return _name_spec(f"Using `{name}` in the workspace, which region brought in "
                                  "the most revenue (units x unit_price summed over its "
                                  "orders)? Answer with the region name.", files, *top,
                                  by)
            return _name_spec(f"Read `{name}` from the workspace. In month {month} of 2024, "
                              "which product sold the most units in total? Give the product "
                              "name only.", files, *top, by)
    threshold = rng.randrange(50, 300)
    count = sum(1 for r in rows if int(r["units"]) * float(r["unit_price"]) > threshold)
    return _int_spec(f"How many orders in the workspace file `{name}` are worth more than "
                     f"{threshold} (units times unit_price)?", files, count)


def json_inventory(rng: random.Random, d: int) -> Spec:
    name = rng.choice(["inventory.json", "stock.json", "catalog.json"])
    items = []
    for i in range(_rows(d)):
        item: dict[str, Any] = {
            "sku": f"{rng.choice('ABCDEFGH')}{rng.randrange(100, 999)}-{i}",
            "name": f"{rng.choice(PRODUCTS)} {rng.choice(['mk1', 'mk2', 'pro', 'lite'])}",
            "category": rng.choice(CATEGORIES[:2 + d]),
            "stock": rng.randrange(0, 200),
            "price": round(rng.randrange(50, 50000) / 100, 2),
            "supplier": {"name": f"{rng.choice(FIRST)} & Co",
                         "country": rng.choice(COUNTRIES[:3 + d])},
        }
        if d == 3 and rng.random() < 0.15:
            item.pop("stock")  # missing field: count as zero
        items.append(item)
    data = json.dumps({"generated": "2024-06-01", "items": items}, indent=1).encode()
    files = {name: data}
    items = json.loads(data)["items"]
    note = " Items without a stock field have none in stock." if d == 3 else ""
    variant = rng.randrange(3)
    if variant == 0:
        cat = rng.choice(sorted({i["category"] for i in items}))
        value = sum(i.get("stock", 0) * i["price"] for i in items if i["category"] == cat)
        return _dec_spec(f"`{name}` in the workspace holds an inventory under the key "
                         f"\"items\". What is the total value (stock times price) of the "
                         f"{cat} category? Round to 2 decimals.{note}", files, value)
    if variant == 1:
        country = rng.choice(sorted({i["supplier"]["country"] for i in items}))
        limit = rng.randrange(20, 120)
        count = sum(1 for i in items
                    if i["supplier"]["country"] == country and i.get("stock", 0) < limit)
        return _int_spec(f"Load `{name}` from the workspace. How many items supplied from "
                         f"{country} have fewer than {limit} units in stock?{note}",
                         files, count)
    cat = rng.choice(sorted({i["category"] for i in items}))
    prices = {i["sku"]: i["price"] for i in items if i["category"] == cat}
    top = _ranked(prices)
    if top is None:
        return _int_spec(f"How many items in the workspace file `{name}` belong to the {cat} "
                         "category?", files, len(prices))
    return _name_spec(f"In the workspace file `{name}`, which item of the {cat} category has "
                      "the highest price? Answer with its sku.", files, *top, prices)


def text_logs(rng: random.Random, d: int) -> Spec:
    name = rng.choice(["service.log", "app.log", "events.log"])
    lines = []
    t = 8 * 3600 + rng.randrange(3600)
    for _ in range(_rows(d) * 2):
        t += rng.randrange(1, 120)
        level = rng.choice(LEVELS)
        status = 500 if level == "ERROR" else rng.choice([200, 200, 200, 201, 404])
        lines.append(f"2024-05-03T{t // 3600 % 24:02d}:{t // 60 % 60:02d}:{t % 60:02d} "
                     f"{level} service={rng.choice(SERVICES[:2 + d])} "
                     f"user=u{rng.randrange(1, 5 + 5 * d)} "
                     f"latency_ms={rng.randrange(5, 900)} status={status}")
        if d == 3 and rng.random() < 0.05:
            lines.append("--- log rotated ---")
    data = ("\n".join(lines) + "\n").encode()
    files = {name: data}
    parsed = []
    for line in data.decode().splitlines():
        parts = line.split()
        if len(parts) != 6:
            continue
        fields = dict(p.split("=", 1) for p in parts[2:])
        parsed.append({"hour": int(parts[0][11:13]), "level": parts[1], **fields})
    services = sorted({p["service"] for p in parsed})
    variant = rng.randrange(4)
    if variant == 0:
        svc = rng.choice(services)
        count = sum(1 for p in parsed if p["service"] == svc and p["level"] == "ERROR")
        return _int_spec(f"The workspace has a log file `{name}`. How many ERROR entries "
                         f"does the {svc} service have?", files, count)
    if variant == 1:
        svc = rng.choice(services)
        lat = [int(p["latency_ms"]) for p in parsed
               if p["service"] == svc and p["status"] == "200"]
        if lat:
            return _dec_spec(f"Parse `{name}` in the workspace. What is the mean latency_ms "
                             f"of the {svc} requests that returned status 200? Round to 2 "
                             "decimals.", files, sum(lat) / len(lat))
    if variant == 2:
        users = Counter(p["user"] for p in parsed if p["level"] in ("ERROR", "WARN"))
        top = _ranked(dict(users))
        if top is not None:
            return _name_spec(f"Which user appears most often in WARN or ERROR lines of the "
                              f"log `{name}` (workspace)? Answer like u7.", files, *top,
                              users)
    hours = Counter(p["hour"] for p in parsed)
    top = _ranked({str(h): c for h, c in hours.items()})
    if top is not None:
        return Spec(instruction=f"Look at the timestamps in `{name}` (in the workspace). "
                                "During which hour of the day (0-23) were the most lines "
                                "logged? Answer with the hour as a number.",
                    expected=int(top[0]), files=files, reference_answer=top[0],
                    near_miss=str(int(top[0]) + 1))
    return _int_spec(f"How many log entries in the workspace file `{name}` have status 404?",
                     files, sum(1 for p in parsed if p["status"] == "404"))


def csv_join(rng: random.Random, d: int) -> Spec:
    depts = rng.sample(DEPTS, 3 + d)
    dept_rows = ["dept_id,dept_name,budget"]
    ids = {}
    for k, dept in enumerate(depts):
        ids[dept] = 10 + k
        dept_rows.append(f"{10 + k},{dept},{rng.randrange(100, 900) * 1000}")
    emp_rows = ["emp_id,name,dept_id,salary"]
    for i in range(_rows(d)):
        emp_rows.append(f"{i + 1},{rng.choice(FIRST)} {rng.choice(FIRST)}son,"
                        f"{ids[rng.choice(depts)]},{rng.randrange(30, 150) * 1000}")
    files = {"employees.csv": ("\n".join(emp_rows) + "\n").encode(),
             "departments.csv": ("\n".join(dept_rows) + "\n").encode()}
    emps = list(csv.DictReader(io.StringIO(files["employees.csv"].decode())))
    dps = {r["dept_id"]: r for r in csv.DictReader(io.StringIO(
        files["departments.csv"].decode()))}
    payroll: dict[str, float] = defaultdict(float)
    for e in emps:
        payroll[dps[e["dept_id"]]["dept_name"]] += int(e["salary"])
    variant = rng.randrange(2)
    if variant == 0:
        top = _ranked(dict(payroll))
        if top is not None:
            return _name_spec("The workspace has `employees.csv` and `departments.csv` "
                              "(linked by dept_id). Which department has the largest total "
                              "salary bill? Answer with the department name.", files, *top,
                              payroll)
    over = sum(1 for name, row in ((r["dept_name"], r) for r in dps.values())
               if payroll.get(name, 0) > int(row["budget"]))
    return _int_spec("Join `employees.csv` with `departments.csv` (both in the workspace) on "
                     "dept_id. In how many departments does the sum of salaries exceed the "
                     "department's budget?", files, over)


STORES = ["Harbour St", "Mill Rd", "Station Sq", "Park Ave", "Kings Way", "Bridge End"]


def monthly_reports(rng: random.Random, d: int) -> Spec:
    months = sorted(rng.sample(range(1, 13), 2 + 2 * d))
    stores = rng.sample(STORES, 2 + d)
    products = rng.sample(PRODUCTS, 3 + d)
    files: dict[str, bytes] = {}
    for k, m in enumerate(months):
        cols = ["store", "product", "units", "revenue"]
        if d == 3 and k == 1:  # one file lists its columns in another order
            cols = ["revenue", "units", "product", "store"]
        lines = [",".join(cols)]
        for _ in range(6 + 4 * d):
            units = rng.randrange(1, 60)
            row = {"store": rng.choice(stores), "product": rng.choice(products),
                   "units": str(units), "revenue": f"{units * rng.randrange(200, 2500) / 100:.2f}"}
            lines.append(",".join(row[c] for c in cols))
        files[f"reports/2024-{m:02d}.csv"] = ("\n".join(lines) + "\n").encode()
    rows = [{**r, "month": name[8:15]} for name, data in files.items()
            for r in csv.DictReader(io.StringIO(data.decode()))]
    intro = (f"The workspace folder `reports/` holds {len(files)} monthly sales files named "
             "like `reports/2024-03.csv` (store, product, units, revenue).")
    if d == 3:
        intro += " Not every file lists its columns in the same order."
    variant = rng.randrange(3)
    if variant == 0:
        by: dict[str, float] = defaultdict(float)
        for r in rows:
            by[r["store"]] += float(r["revenue"])
        top = _ranked(by)
        if top is not None:
            return _name_spec(f"{intro} Over all the files, which store had the highest total "
                              "revenue? Answer with the store name.", files, *top, stores)
    if variant == 1:
        product = rng.choice(products)
        per: dict[str, float] = defaultdict(float)
        for r in rows:
            if r["product"] == product:
                per[r["month"]] += int(r["units"])
        top = _ranked(per)
        if top is not None:
            return _name_spec(f"{intro} In which month were the most units of {product} "
                              "sold? Answer as YYYY-MM.", files, *top,
                              [n[8:15] for n in files])
    return _dec_spec(f"{intro} What is the total revenue over all the files, rounded to 2 "
                     "decimals?", files, sum(float(r["revenue"]) for r in rows))


def ini_configs(rng: random.Random, d: int) -> Spec:
    import configparser

    names = rng.sample(["auth", "billing", "search", "upload", "notify", "profile", "media",
                        "export"], 1 + 2 * d)
    yes, no = (["yes", "on", "true"], ["no", "off", "false"]) if d == 3 else (["yes"], ["no"])
    defaults = {"timeout": str(rng.randrange(5, 40)), "max_connections": str(
        rng.randrange(10, 200)), "enabled": rng.choice(yes)}
    files: dict[str, bytes] = {}
    if d >= 2:
        files["services/defaults.ini"] = ("[service]\n" + "".join(
            f"{k} = {v}\n" for k, v in defaults.items())).encode()
    for name in names:
        keys = {"timeout": str(rng.randrange(5, 90)),
                "max_connections": str(rng.randrange(10, 500)),
                "enabled": rng.choice(yes + no)}
        if d >= 2:  # some keys left out: they come from defaults.ini
            for k in rng.sample(list(keys), rng.randrange(0, 3)):
                del keys[k]
        text = f"[service]\nname = {name}\n" + "".join(f"{k} = {v}\n" for k, v in keys.items())
        if d == 3:
            text = f"; {name} service settings\n" + text
        files[f"services/{name}.ini"] = text.encode()
    parsed = {}
    for path, data in files.items():
        if path.endswith("defaults.ini"):
            continue
        cp = configparser.ConfigParser()
        if d >= 2:
            cp.read_string(files["services/defaults.ini"].decode())
        cp.read_string(data.decode())
        sec = cp["service"]
        parsed[sec["name"]] = {"timeout": sec.getint("timeout"),
                               "max_connections": sec.getint("max_connections"),
                               "enabled": sec.getboolean("enabled")}
    intro = (f"The workspace folder `services/` holds one INI file per service "
             f"({len(names)} services), each with a [service] section (name, timeout in "
             "seconds, max_connections, enabled).")
    if d >= 2:
        intro += (" `services/defaults.ini` is not a service: a service file that lacks a "
                  "key takes it from there.")
    variant = rng.randrange(3)
    if variant == 0:
        limit = rng.randrange(10, 60)
        n = sum(1 for v in parsed.values() if v["enabled"] and v["timeout"] > limit)
        return _int_spec(f"{intro} How many enabled services have a timeout above {limit} "
                         "seconds?", files, n)
    if variant == 1:
        top = _ranked({k: float(v["max_connections"]) for k, v in parsed.items()})
        if top is not None:
            return _name_spec(f"{intro} Which service allows the most connections? Answer "
                              "with its name.", files, *top, names)
    return _int_spec(f"{intro} What is the sum of max_connections over the enabled "
                     "services?", files,
                     sum(v["max_connections"] for v in parsed.values() if v["enabled"]))


class FilesGenerator(Generator):
    name = "files"
    description = "data work on CSV, JSON and log files placed in the workspace"
    kinds = ("csv_sales", "json_inventory", "text_logs", "monthly_reports", "ini_configs",
             "csv_join")
    heldout_kinds = ("csv_join",)
    _MAKERS = {"csv_sales": csv_sales, "json_inventory": json_inventory,
               "text_logs": text_logs, "monthly_reports": monthly_reports,
               "ini_configs": ini_configs, "csv_join": csv_join}

    def make(self, kind: str, rng: random.Random, difficulty: int) -> Spec:
        return self._MAKERS[kind](rng, difficulty)
