"""Family ``apis``: multi-tool worlds written the way third-party suites define tools.

Each tool is a tuple ``(name, fn, description, signature)`` with the function's name in
the signature string, non-Python type names (``list of str``, ``int/float``,
``[str, float]``), ``*args`` parameters, and a description string instead of a
docstring; the tools come from a factory over a world object that holds state, so every
run starts fresh and bookings or bids change what later calls return. Answers are
numbers, strings, lists (in order or not, as the task says), dicts and booleans.

Kinds (worlds unlike the bench's and the ``tools`` family's): ``clinic`` (doctors,
open hours, bookings, insurance plans), ``transit`` (routes, timetables, fares,
transfers), ``fleet`` (vehicles, open trips, assignments, fuel) and, held out,
``auction`` (lots, reserves, bids). Every task's reference solution is Python source
that calls the tools by name and leaves its result in ``answer``: it runs here, at
generation time, against a fresh world to compute the expected answer (nothing typed
in), and the same source is kept in ``metadata["solution_code"]`` so
:func:`codeact.bench.selfcheck.check_task` can run it in a sandboxed kernel through the
tool bridge, as a model's code would run.

Difficulty is the number of steps a task needs: more patients booked in turn (each
booking takes an hour the next one cannot have), more transfers allowed on a journey,
more trips to assign, more lots to bid on, and bigger worlds.
"""

from __future__ import annotations

import hashlib
import random
import textwrap
from collections.abc import Callable
from typing import Any

from codeact.bench.selfcheck import render, wrong_answers
from codeact.bench.task import Task
from codeact.bench.thirdparty._spec import AnswerChecker, ToolSpec, run_solution
from codeact.data.generator_base import Generator, Spec

DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri"]
SPECIALTIES = ["cardiology", "dermatology", "neurology", "pediatrics", "orthopedics"]
PEOPLE = ["Aino", "Bilal", "Carmen", "Dmitri", "Esi", "Femi", "Greta", "Hiro", "Ilse",
          "Jomo", "Kalani", "Lorcan", "Mirela", "Nuno", "Olga", "Pavel", "Rania", "Sven"]
STOPS = ["Quayside", "Mill Lane", "Old Forge", "Market Cross", "Ferry Point", "Tannery",
         "Bell Yard", "Chapel Row", "Gasworks", "Rope Walk", "Salt Dock", "Weir Bridge",
         "Tollgate", "Cooper Street"]
VEHICLE_TYPES = {"van": (800, 1500, 9, 13), "truck": (3000, 9000, 3, 6),
                 "pickup": (500, 1100, 7, 10)}
LOT_THINGS = ["clock", "vase", "atlas", "lamp", "mirror", "globe", "chess set", "compass",
              "teapot", "sextant", "quilt", "violin"]
LOT_ADJ = ["Victorian", "brass", "lacquered", "Art Deco", "carved", "enamel", "silver"]


def _code(params: dict[str, Any], body: str) -> str:
    """Solution source: the task's constants as assignments, then the steps."""
    head = "".join(f"{k} = {v!r}\n" for k, v in params.items())
    return head + textwrap.dedent(body).strip() + "\n"


def _spec(instruction: str, factory: Callable[[], list[ToolSpec]], params: dict[str, Any],
          body: str, *, unordered: bool = False, tol: float | None = None,
          unique: str | None = None) -> Spec | None:
    """Run the reference source on a fresh world; the answer it leaves is ``expected``.
    None when the answer would be ambiguous (``unique`` names a dict of scores whose best
    value ties), so the caller picks another question."""
    code = _code(params, body)
    tools = Task(name="probe", instruction="", tools=factory, expected=None).tools_by_name()
    try:
        answer, ns = run_solution(code, tools, name="apis reference")
    except ValueError as exc:  # max() of nothing: a world with no candidate at all
        if "empty" not in str(exc):
            raise
        return None
    if answer in ({}, [], None):  # nothing to find: not a question worth asking
        return None
    if unique is not None:
        scores = ns[unique]
        if list(scores.values()).count(scores[answer]) > 1:
            return None
    if unordered and len(set(map(repr, answer))) != len(answer):
        return None
    wrong = wrong_answers(answer, ordered=not unordered)
    return Spec(instruction=instruction, expected=answer, tools=factory,
                checker=AnswerChecker(unordered=unordered, tol=tol),
                reference_answer=render(answer), near_miss=render(wrong[1]),
                extra={"solution_code": code, "ordered": not unordered})


class Clinic:
    """Doctors with fees and open hours, patients with insurance plans; bookings."""

    def __init__(self, seed: int, d: int) -> None:
        rng = random.Random(seed)
        self.seed = seed
        self.specialties = rng.sample(SPECIALTIES, 2 + d // 2)
        self.doctors: dict[str, dict[str, Any]] = {}
        for i in range(4 + 2 * d):
            did = f"D{rng.randrange(10, 99)}{i}"
            self.doctors[did] = {"name": f"Dr {rng.choice(PEOPLE)}",
                                 "specialty": self.specialties[i % len(self.specialties)],
                                 "fee": rng.randrange(40, 180)}
        self.free = {(doc, day): sorted(rng.sample(range(9, 17), rng.randrange(0, 5)))
                     for doc in self.doctors for day in DAYS}
        self.plans = {"basic": 0.5, "plus": 0.7, "premium": 0.9, "none": 0.0}
        self.patients = {f"P{100 + i}": {"name": rng.choice(PEOPLE), "age": rng.randrange(1, 90),
                                         "plan": rng.choice(list(self.plans))}
                         for i in range(6 + 2 * d)}

    def find_doctors(self, specialty: str) -> list[str]:
        return [k for k, v in self.doctors.items() if v["specialty"] == specialty.lower()]

    def doctor_profile(self, doctor_id: str) -> dict[str, Any]:
        if doctor_id not in self.doctors:
            raise KeyError(f"no doctor {doctor_id!r}")
        return dict(self.doctors[doctor_id])

    def open_slots(self, doctor_id: str, day: str) -> list[int]:
        self.doctor_profile(doctor_id)
        if day not in DAYS:
            raise ValueError(f"day must be one of {', '.join(DAYS)}")
        return list(self.free[(doctor_id, day)])

    def patients_info(self, *patient_ids: str) -> list[dict[str, Any]]:
        out = []
        for pid in patient_ids:
            if pid not in self.patients:
                raise KeyError(f"no patient {pid!r}")
            out.append({"id": pid, **self.patients[pid]})
        return out

    def plan_coverage(self, plan: str) -> float:
        if plan not in self.plans:
            raise KeyError(f"no plan {plan!r}; plans: {', '.join(self.plans)}")
        return self.plans[plan]

    def book_visit(self, patient_id: str, doctor_id: str, day: str, hour: int) -> list[Any]:
        slots = self.free[(doctor_id, day)] if (doctor_id, day) in self.free else []
        if int(hour) not in slots:
            raise ValueError(f"{doctor_id} has no free hour {hour} on {day}")
        plan = self.patients_info(patient_id)[0]["plan"]
        slots.remove(int(hour))
        code = hashlib.sha256(f"{self.seed}/{patient_id}/{doctor_id}/{day}/{hour}".encode()
                              ).hexdigest()[:6].upper()
        return [code, round(self.doctors[doctor_id]["fee"] * (1 - self.plans[plan]), 2)]

    def specs(self) -> list[ToolSpec]:
        return [
            ("find_doctors", self.find_doctors, "Ids of the doctors of one specialty.",
             "find_doctors(specialty: str) -> list of str"),
            ("doctor_profile", self.doctor_profile,
             "A doctor's name, specialty and visit fee in EUR.",
             "doctor_profile(doctor_id: str) -> dict"),
            ("open_slots", self.open_slots,
             "The hours (9 to 16) a doctor still has free on a day (Mon to Fri).",
             "open_slots(doctor_id: str, day: str) -> list of int"),
            ("patients_info", self.patients_info,
             "Records (id, name, age, plan) of any number of patients, in the order given.",
             "patients_info(*patient_ids: str) -> list of dict"),
            ("plan_coverage", self.plan_coverage,
             "The share of a visit fee an insurance plan pays, from 0 to 1.",
             "plan_coverage(plan: str) -> number"),
            ("book_visit", self.book_visit,
             "Book a patient with a doctor at a free hour. Returns [booking code, what the "
             "patient pays in EUR after insurance]; fails if the hour is not free.",
             "book_visit(patient_id: str, doctor_id: str, day: str, hour: int) -> "
             "[str, float]"),
        ]


def clinic(rng: random.Random, d: int) -> Spec | None:
    world, factory = _world(Clinic, rng, d)
    spec = rng.choice(world.specialties)
    day = rng.choice(DAYS)
    variant = rng.randrange(3)
    if variant == 0:
        pids = rng.sample(list(world.patients), d)
        text = (f"Book a {spec} visit on {day} for {_and(pids)}, in that order: each one "
                f"gets the earliest free hour of the cheapest {spec} doctor who still has "
                "one that day (on equal fees, the smaller doctor id). How much do they pay "
                "in total after insurance, in EUR? Answer 0 if nobody could be booked.")
        return _spec(text, factory, {"SPECIALTY": spec, "DAY": day, "PATIENTS": pids}, """
            docs = sorted(find_doctors(SPECIALTY),
                          key=lambda d: (doctor_profile(d)["fee"], d))
            total = 0.0
            for pid in PATIENTS:
                for doc in docs:
                    hours = open_slots(doc, DAY)
                    if hours:
                        total += book_visit(pid, doc, DAY, min(hours))[1]
                        break
            answer = round(total, 2)
            """, tol=0.01)
    if variant == 1:
        pids = rng.sample(list(world.patients), 2 + d)
        doc = rng.choice(list(world.doctors))
        text = (f"Of the patients {_and(pids)}, who would pay the least for a visit to "
                f"doctor {doc} after their insurance plan's share? Answer with the "
                "patient id.")
        return _spec(text, factory, {"DOCTOR": doc, "PATIENTS": pids}, """
            fee = doctor_profile(DOCTOR)["fee"]
            pays = {p["id"]: fee * (1 - plan_coverage(p["plan"]))
                    for p in patients_info(*PATIENTS)}
            answer = min(pays, key=pays.get)
            """, unique="pays")
    text = (f"For each {spec} doctor, how many free hours are left on {day}? Answer with a "
            "dict mapping doctor id to the number of free hours.")
    return _spec(text, factory, {"SPECIALTY": spec, "DAY": day}, """
        answer = {doc: len(open_slots(doc, DAY)) for doc in find_doctors(SPECIALTY)}
        """)


class Transit:
    """Routes through named stops with minutes from each route's start, fares and
    transfer times."""

    def __init__(self, seed: int, d: int) -> None:
        rng = random.Random(seed)
        stops = rng.sample(STOPS, 7 + 2 * d)
        self.routes: dict[str, list[tuple[str, int]]] = {}
        for i in range(3 + d):
            path = rng.sample(stops, rng.randrange(3, 6))
            t, timed = 0, []
            for s in path:
                timed.append((s, t))
                t += rng.randrange(2, 12)
            self.routes[f"{rng.choice('BLMX')}{i + 1}"] = timed
        self.base = {r: rng.choice([1.2, 1.5, 2.0, 2.5]) for r in self.routes}
        self.per_stop = {r: rng.choice([0.2, 0.3, 0.5]) for r in self.routes}
        self.transfer = {s: rng.randrange(2, 9) for s in stops}

    def routes_serving(self, stop: str) -> list[str]:
        return sorted(r for r, st in self.routes.items() if any(s == stop for s, _ in st))

    def route_timetable(self, route: str) -> list[list[Any]]:
        if route not in self.routes:
            raise KeyError(f"no route {route!r}")
        return [[s, m] for s, m in self.routes[route]]

    def ride_fare(self, route: str, board: str, alight: str) -> float:
        names = [s for s, _ in self.route_timetable(route)]
        for s in (board, alight):
            if s not in names:
                raise ValueError(f"route {route} does not stop at {s!r}")
        hops = abs(names.index(board) - names.index(alight))
        return round(self.base[route] + self.per_stop[route] * hops, 2)

    def transfer_minutes(self, stop: str) -> int:
        if stop not in self.transfer:
            raise KeyError(f"no stop {stop!r}")
        return self.transfer[stop]

    def specs(self) -> list[ToolSpec]:
        return [
            ("routes_serving", self.routes_serving, "Routes that call at a stop.",
             "routes_serving(stop: str) -> list of str"),
            ("route_timetable", self.route_timetable,
             "A route's stops in order, each as [stop, minutes after the route's first "
             "stop]. Buses run both ways along the route.",
             "route_timetable(route: str) -> list of [str, int]"),
            ("ride_fare", self.ride_fare,
             "The fare in EUR for one ride on a route between two of its stops.",
             "ride_fare(route: str, board: str, alight: str) -> int/float"),
            ("transfer_minutes", self.transfer_minutes,
             "Minutes needed to change from one route to another at a stop.",
             "transfer_minutes(stop: str) -> int"),
        ]


_JOURNEY = """
def rides_from(stop):
    out = []
    for r in routes_serving(stop):
        table = dict((s, m) for s, m in route_timetable(r))
        for s, m in table.items():
            if s != stop:
                out.append((r, s, abs(m - table[stop])))
    return out

best = {START: 0}
frontier = [(START, 0, None)]
for ride in range(MAX_TRANSFERS + 1):
    nxt = []
    for stop, minutes, last in frontier:
        change = transfer_minutes(stop) if last is not None else 0
        for route, to, ride_min in rides_from(stop):
            if route == last:
                continue
            t = minutes + change + ride_min
            if t < best.get(to, 10 ** 9):
                best[to] = t
                nxt.append((to, t, route))
    frontier = nxt
"""


def transit(rng: random.Random, d: int) -> Spec | None:
    world, factory = _world(Transit, rng, d)
    stops = sorted({s for st in world.routes.values() for s, _ in st})
    start = rng.choice(stops)
    variant = rng.randrange(3)
    if variant == 0:
        params = {"START": start, "MAX_TRANSFERS": d - 1}
        probe = _run(factory, params, _JOURNEY + "answer = best")
        far = sorted(s for s in probe if s != start)
        if not far:
            return None
        goal = rng.choice(far)
        limit = "without changing" if d == 1 else f"with at most {d - 1} change(s) of route"
        text = (f"What is the shortest travel time in minutes from {start} to {goal} "
                f"{limit}? Ride times come from the timetables (the difference of the two "
                "stops' minutes); each change of route at a stop adds that stop's transfer "
                "minutes. Waiting for a bus counts as nothing.")
        return _spec(text, factory, {**params, "GOAL": goal},
                     _JOURNEY + "answer = best[GOAL]\n")
    if variant == 1:
        text = (f"Which stops can be reached from {start} with at most {d} ride(s), that is "
                f"at most {d - 1} change(s) of route? Answer with the stop names, in any order, "
                f"{start} itself left out.")
        return _spec(text, factory, {"START": start, "MAX_TRANSFERS": d - 1},
                     _JOURNEY + "answer = sorted(s for s in best if s != START)\n",
                     unordered=True)
    route = rng.choice(list(world.routes))
    names = [s for s, _ in world.routes[route]]
    board = names[0]
    text = (f"On route {route}, what is the most expensive single ride that starts at "
            f"{board}, and is it dearer than {start}'s cheapest ride on any route serving it? "
            "Answer with a list [fare of that most expensive ride, true or false].")
    return _spec(text, factory, {"ROUTE": route, "BOARD": board, "START": start}, """
        stops = [s for s, _ in route_timetable(ROUTE)]
        top = max(ride_fare(ROUTE, BOARD, s) for s in stops if s != BOARD)
        cheapest = min(ride_fare(r, START, s) for r in routes_serving(START)
                       for s, _ in route_timetable(r) if s != START)
        answer = [top, top > cheapest]
        """, tol=0.01)


class Fleet:
    """Vehicles with capacities and fuel economy; open trips assigned to them."""

    def __init__(self, seed: int, d: int) -> None:
        rng = random.Random(seed)
        self.max_trips = 2
        self.vehicles: dict[str, dict[str, Any]] = {}
        for i in range(3 + d):
            kind = rng.choice(list(VEHICLE_TYPES))
            lo, hi, e_lo, e_hi = VEHICLE_TYPES[kind]
            self.vehicles[f"{kind[0].upper()}-{rng.randrange(100, 999)}{i}"] = {
                "type": kind, "capacity_kg": rng.randrange(lo, hi, 50),
                "km_per_litre": rng.randrange(e_lo, e_hi + 1)}
        self.trips = {f"T{rng.randrange(10, 99)}{i}": {"distance_km": rng.randrange(20, 600),
                                                        "load_kg": rng.randrange(100, 6000, 50)}
                      for i in range(3 + 2 * d)}
        self.assigned: dict[str, str] = {}
        self.price = rng.choice([1.55, 1.62, 1.71, 1.79, 1.84])

    def vehicles_list(self, *types: str) -> list[str]:
        want = {t.lower() for t in types}
        return [v for v, s in self.vehicles.items() if not want or s["type"] in want]

    def vehicle_specs(self, vehicle_id: str) -> dict[str, Any]:
        if vehicle_id not in self.vehicles:
            raise KeyError(f"no vehicle {vehicle_id!r}")
        return dict(self.vehicles[vehicle_id])

    def open_trips(self) -> list[dict[str, Any]]:
        return [{"id": t, **v} for t, v in self.trips.items() if t not in self.assigned]

    def assign(self, trip_id: str, vehicle_id: str) -> int:
        spec = self.vehicle_specs(vehicle_id)
        if trip_id not in self.trips or trip_id in self.assigned:
            raise ValueError(f"{trip_id} is not an open trip")
        if self.trips[trip_id]["load_kg"] > spec["capacity_kg"]:
            raise ValueError(f"{vehicle_id} cannot carry {self.trips[trip_id]['load_kg']} kg")
        mine = [t for t, v in self.assigned.items() if v == vehicle_id]
        if len(mine) >= self.max_trips:
            raise ValueError(f"{vehicle_id} already has {self.max_trips} trips")
        self.assigned[trip_id] = vehicle_id
        return sum(self.trips[t]["distance_km"] for t in [*mine, trip_id])

    def fuel_price(self) -> float:
        return self.price

    def specs(self) -> list[ToolSpec]:
        return [
            ("vehicles", self.vehicles_list,
             "Vehicle ids, only of the given types (van, truck, pickup) when any are given.",
             "vehicles(*types: str) -> list of str"),
            ("vehicle_specs", self.vehicle_specs,
             "A vehicle's type, capacity_kg and km_per_litre.",
             "vehicle_specs(vehicle_id: str) -> dict"),
            ("open_trips", self.open_trips,
             "Trips without a vehicle yet: id, distance_km, load_kg.",
             "open_trips() -> list of dict"),
            ("assign", self.assign,
             "Give an open trip to a vehicle; returns the vehicle's assigned km so far. "
             "Fails when the load exceeds the capacity or the vehicle already has 2 trips.",
             "assign(trip_id: str, vehicle_id: str) -> int/float"),
            ("fuel_price", self.fuel_price, "Price of one litre of fuel in EUR.",
             "fuel_price() -> float"),
        ]


def fleet(rng: random.Random, d: int) -> Spec | None:
    world, factory = _world(Fleet, rng, d)
    variant = rng.randrange(3)
    if variant == 0:
        text = ("Assign the open trips, heaviest load first (on equal loads, the smaller "
                "trip id), each to the first vehicle in the order vehicles() lists them "
                "that accepts it. How many trips are left without a vehicle?")
        return _spec(text, factory, {}, """
            for trip in sorted(open_trips(), key=lambda t: (-t["load_kg"], t["id"])):
                for v in vehicles():
                    try:
                        assign(trip["id"], v)
                        break
                    except ValueError:
                        continue
            answer = len(open_trips())
            """)
    if variant == 1:
        types = rng.sample(list(VEHICLE_TYPES), 1 + (d > 1))
        trip = rng.choice(list(world.trips))
        text = (f"What would the fuel for trip {trip} cost on each vehicle of type "
                f"{_and(types, 'or')} able to carry its load? Answer with a dict mapping "
                "vehicle id to the cost in EUR, rounded to 2 decimals.")
        return _spec(text, factory, {"TRIP": trip, "TYPES": types}, """
            trip = next(t for t in open_trips() if t["id"] == TRIP)
            answer = {}
            for v in vehicles(*TYPES):
                s = vehicle_specs(v)
                if s["capacity_kg"] >= trip["load_kg"]:
                    answer[v] = round(trip["distance_km"] / s["km_per_litre"] * fuel_price(), 2)
            """, tol=0.01)
    kind = rng.choice(list(VEHICLE_TYPES))
    text = (f"Can the {kind}s alone carry every open trip, each trip on one {kind} that "
            "has the capacity for its load? Answer true or false.")
    return _spec(text, factory, {"KIND": kind}, """
        caps = [vehicle_specs(v)["capacity_kg"] for v in vehicles(KIND)]
        answer = bool(caps) and all(t["load_kg"] <= max(caps) for t in open_trips())
        """)


class Auction:
    """Lots with reserves and increments, a bid history; bids change the leaders."""

    def __init__(self, seed: int, d: int) -> None:
        rng = random.Random(seed)
        self.lots: dict[int, dict[str, Any]] = {}
        self.bids: dict[int, list[list[Any]]] = {}
        for i in range(4 + 2 * d):
            lot = 100 + 7 * i + rng.randrange(7)
            reserve = rng.randrange(50, 2000, 10)
            self.lots[lot] = {"title": f"{rng.choice(LOT_ADJ)} {rng.choice(LOT_THINGS)}",
                              "reserve": reserve, "increment": rng.choice([5, 10, 20, 25])}
            amount = reserve - rng.randrange(-200, 200, 10)
            self.bids[lot] = []
            for _ in range(rng.randrange(0, 4)):
                self.bids[lot].append([rng.choice(PEOPLE), max(10, amount)])
                amount += rng.randrange(10, 150, 5)

    def list_lots(self) -> list[int]:
        return list(self.lots)

    def lot_details(self, lot: int) -> dict[str, Any]:
        if int(lot) not in self.lots:
            raise KeyError(f"no lot {lot!r}")
        return dict(self.lots[int(lot)])

    def bid_history(self, lot: int) -> list[list[Any]]:
        self.lot_details(lot)
        return [list(b) for b in self.bids[int(lot)]]

    def place_bid(self, lot: int, bidder: str, amount: float) -> list[Any]:
        info = self.lot_details(lot)
        top = max((b[1] for b in self.bids[int(lot)]), default=None)
        least = info["reserve"] if top is None else max(info["reserve"],
                                                        top + info["increment"])
        if float(amount) < least:
            return [False, f"bid too low: at least {least}"]
        self.bids[int(lot)].append([bidder, amount])
        return [True, f"{bidder} leads lot {lot} at {amount}"]

    def leaders(self, *lots: int) -> dict[int, Any]:
        out = {}
        for lot in lots:
            hist = self.bid_history(lot)
            out[int(lot)] = max(hist, key=lambda b: b[1])[0] if hist else None
        return out

    def specs(self) -> list[ToolSpec]:
        return [
            ("list_lots", self.list_lots, "Numbers of the lots up for auction.",
             "list_lots() -> list of int"),
            ("lot_details", self.lot_details,
             "A lot's title, reserve price and minimum bid increment (EUR).",
             "lot_details(lot: int) -> dict"),
            ("bid_history", self.bid_history,
             "The bids on a lot so far, oldest first, each as [bidder, amount].",
             "bid_history(lot: int) -> list of [str, number]"),
            ("place_bid", self.place_bid,
             "Bid on a lot. Accepted when the amount is at least the reserve and at least "
             "the highest bid plus the increment. Returns [accepted, message].",
             "place_bid(lot: int, bidder: str, amount: number) -> [bool, str]"),
            ("leaders", self.leaders,
             "The highest bidder of each of the given lots (None when a lot has no bids).",
             "leaders(*lots: int) -> dict"),
        ]


def auction(rng: random.Random, d: int) -> Spec | None:
    world, factory = _world(Auction, rng, d)
    variant = rng.randrange(3)
    if variant == 0:
        bidder = rng.choice(PEOPLE)
        lots = sorted(rng.sample(list(world.lots), d + 1))
        text = (f"{bidder} places the smallest acceptable bid on each of the lots "
                f"{_and([str(x) for x in lots])}, in that order. How many of all the "
                f"auction's lots does {bidder} lead afterwards?")
        return _spec(text, factory, {"BIDDER": bidder, "LOTS": lots}, """
            for lot in LOTS:
                info = lot_details(lot)
                amounts = [amount for _, amount in bid_history(lot)]
                least = max([info["reserve"]] + [a + info["increment"] for a in amounts])
                place_bid(lot, BIDDER, least)
            answer = sum(1 for who in leaders(*list_lots()).values() if who == BIDDER)
            """)
    if variant == 1:
        text = ("Which lots have no bid yet that reaches their reserve price? Answer with the "
                "lot numbers, in any order.")
        return _spec(text, factory, {}, """
            answer = [lot for lot in list_lots()
                      if not any(a >= lot_details(lot)["reserve"] for _, a in bid_history(lot))]
            """, unordered=True)
    text = ("Among the lots that have bids, which one's highest bid is furthest above its "
            "reserve price (the difference may be negative)? Answer with the lot number.")
    return _spec(text, factory, {}, """
        margin = {}  # lot -> highest bid minus reserve
        for lot in list_lots():
            hist = bid_history(lot)
            if hist:
                margin[lot] = max(a for _, a in hist) - lot_details(lot)["reserve"]
        answer = max(margin, key=margin.get)
        """, unique="margin")



def _and(items: list[str], word: str = "and") -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} {word} {items[-1]}"


def _world(cls: Any, rng: random.Random, d: int) -> tuple[Any, Callable[[], list[ToolSpec]]]:
    """A world drawn from ``rng`` (to compute the answer from) and a factory of fresh
    copies of it (each run's tools start from the same state)."""
    seed = rng.randrange(2 ** 31)

    def make_tools() -> list[ToolSpec]:
        return cls(seed, d).specs()
    return cls(seed, d), make_tools


def _run(factory: Callable[[], list[ToolSpec]], params: dict[str, Any], body: str) -> Any:
    tools = Task(name="probe", instruction="", tools=factory, expected=None).tools_by_name()
    return run_solution(_code(params, body), tools, name="apis probe")[0]


class ApisGenerator(Generator):
    name = "apis"
    description = "third-party-style tool worlds: clinic, transit, fleet, auction"
    kinds = ("clinic", "transit", "fleet", "auction")
    heldout_kinds = ("auction",)
    _MAKERS: dict[str, Callable[[random.Random, int], Spec | None]] = {
        "clinic": clinic, "transit": transit, "fleet": fleet, "auction": auction}

    def make(self, kind: str, rng: random.Random, difficulty: int) -> Spec:
        for _ in range(20):  # an ambiguous question (a tie) is drawn again
            spec = self._MAKERS[kind](rng, difficulty)
            if spec is not None:
                return spec
        raise RuntimeError(f"apis/{kind}: no unambiguous task in 20 draws")
