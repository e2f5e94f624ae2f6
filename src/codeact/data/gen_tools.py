"""Family ``tools``: multi-tool tasks over host tools of new domains, randomised per task.

Kinds (domains disjoint from the built-in bench's units/travel/codec/ledger/web/
directory): ``warehouse`` (stateful stock moves), ``library`` (stateful loans with a
limit), ``weather`` (station readings to aggregate), ``shipping`` (quotes per carrier,
stateful labels), ``helpdesk`` (stateful ticket assignment under skills and capacity)
and, held out, ``calendar`` (stateful room bookings that return confirmation codes).
Difficulty makes bigger worlds: more bins, books, stations, parcels, carriers, agents
and tickets, so a task takes more tool calls. Each task's world (names,
numbers, limits) comes from the task's seed; the tools are a factory, so every run
starts from a fresh copy of that world. The expected answer is computed by a reference
solution that calls the same tools on another fresh copy.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable
from typing import Any

from codeact.bench.task import Task
from codeact.data.checkers import choice_checker, number_checker
from codeact.data.generator_base import Generator, Spec
from codeact.tools import Tool

GIVEN = ["Amara", "Bruno", "Chen", "Dalia", "Emeka", "Farah", "Goran", "Hana", "Ines",
         "Jonas", "Kenji", "Leila", "Mateo", "Nadia", "Oskar", "Priya"]
SURNAMES = ["Okafor", "Lindqvist", "Moreau", "Tanaka", "Haddad", "Novak", "Silva", "Kowal"]
NOUNS = ["River", "Lantern", "Orchard", "Compass", "Harbour", "Meadow", "Signal", "Ember",
         "Quarry", "Willow", "Atlas", "Tide"]
ADJ = ["Silent", "Crimson", "Hidden", "Northern", "Paper", "Glass", "Last", "Golden"]
PLACES = ["Alder", "Birch", "Cedar", "Dune", "Elm", "Fjord", "Grove", "Heath", "Iris",
          "Juniper", "Kestrel", "Lark"]


class Warehouse:
    """Bins holding stock of SKUs; moving stock changes what the bins report."""

    def __init__(self, seed: int, difficulty: int) -> None:
        rng = random.Random(seed)
        self.bins = [f"{chr(65 + i)}{rng.randrange(1, 9)}" for i in range(3 + 2 * difficulty)]
        self.skus = {f"SKU-{rng.randrange(100, 999)}{chr(97 + i)}":
                     round(rng.randrange(5, 400) / 100, 2) for i in range(4 + 2 * difficulty)}
        self.stock = {b: {s: rng.randrange(0, 40) for s in rng.sample(list(self.skus),
                                                                      rng.randrange(2, 5))}
                      for b in self.bins}

    def list_bins(self) -> list[str]:
        """Ids of all storage bins."""
        return list(self.bins)

    def bin_contents(self, bin_id: str) -> dict:
        """Stock held in one bin, as {sku: units} (SKUs with 0 units omitted)."""
        if bin_id not in self.stock:
            raise KeyError(f"unknown bin {bin_id!r}")
        return {s: q for s, q in self.stock[bin_id].items() if q}

    def sku_info(self, sku: str) -> dict:
        """Name and unit weight (kg) of a SKU."""
        if sku not in self.skus:
            raise KeyError(f"unknown sku {sku!r}")
        return {"sku": sku, "weight_kg": self.skus[sku]}

    def move_stock(self, sku: str, from_bin: str, to_bin: str, units: int) -> dict:
        """Move `units` of `sku` from one bin to another. Fails if the source holds fewer."""
        held = self.bin_contents(from_bin).get(sku, 0)
        self.bin_contents(to_bin)
        if units <= 0 or units > held:
            raise ValueError(f"{from_bin} holds {held} units of {sku}; cannot move {units}")
        self.stock[from_bin][sku] = held - units
        self.stock[to_bin][sku] = self.stock[to_bin].get(sku, 0) + units
        return {"moved": units, "sku": sku, "from": from_bin, "to": to_bin}

    def tools(self) -> list[Tool]:
        return [Tool.from_function(m) for m in (self.list_bins, self.bin_contents,
                                                self.sku_info, self.move_stock)]


def warehouse(rng: random.Random, d: int) -> Spec:
    seed = rng.randrange(2 ** 31)
    w = Warehouse(seed, d)
    target = rng.choice(w.bins)
    variant = rng.randrange(3)
    if variant == 0:
        sku = rng.choice([s for s in w.skus if any(s in c for c in w.stock.values())])

        def consolidated(t: dict[str, Tool]) -> int:
            for b in t["list_bins"].fn():
                held = t["bin_contents"].fn(b).get(sku, 0)
                if b != target and held:
                    t["move_stock"].fn(sku, b, target, held)
            return t["bin_contents"].fn(target).get(sku, 0)
        text = (f"Consolidate {sku}: use the warehouse tools to move every unit of it from "
                f"the other bins into bin {target}. Afterwards, how many units of {sku} does "
                f"bin {target} hold?")
        return _int_ref(Warehouse, seed, d, text, consolidated)
    if variant == 1:
        def bin_weight(t: dict[str, Tool]) -> float:
            return round(sum(q * t["sku_info"].fn(s)["weight_kg"]
                             for s, q in t["bin_contents"].fn(target).items()), 2)
        text = (f"What is the total weight in kg of everything stored in bin {target}? Look up "
                "each SKU's unit weight. Round to 2 decimals.")
        return _dec_ref(Warehouse, seed, d, text, bin_weight)
    limit = rng.randrange(3, 15)

    def ref(t: dict[str, Tool]) -> int:
        moved = 0
        for b in t["list_bins"].fn():
            if b == target:
                continue
            for s, q in t["bin_contents"].fn(b).items():
                if q < limit:
                    t["move_stock"].fn(s, b, target, q)
                    moved += q
        return sum(t["bin_contents"].fn(target).values())
    text = (f"Tidy the warehouse: in every bin except {target}, any SKU with fewer than {limit} "
            f"units should be moved entirely to bin {target}. Do the moves, then report the "
            f"total number of units (all SKUs) in bin {target}.")
    return _int_ref(Warehouse, seed, d, text, ref)


class Library:
    """Books with copies, members with loans and a loan limit."""

    def __init__(self, seed: int, difficulty: int) -> None:
        rng = random.Random(seed)
        self.limit = rng.randrange(3, 6)
        authors = [f"{rng.choice(GIVEN)} {rng.choice(SURNAMES)}" for _ in range(2 + difficulty)]
        self.books = {}
        for i in range(8 + 5 * difficulty):
            self.books[f"B{100 + i}"] = {
                "id": f"B{100 + i}", "title": f"The {rng.choice(ADJ)} {rng.choice(NOUNS)}",
                "author": rng.choice(authors), "year": rng.randrange(1950, 2024),
                "copies": rng.choice([0, 1, 1, 2])}
        self.members = {f"M{rng.randrange(10, 99)}{i}": [] for i in range(3)}
        for m in self.members:
            self.members[m] = rng.sample(list(self.books), rng.randrange(0, 3))

    def search_books(self, author: str) -> list[dict]:
        """Books whose author contains `author` (case-insensitive): id, title, year."""
        a = author.lower()
        return [{k: b[k] for k in ("id", "title", "year")} for b in self.books.values()
                if a in b["author"].lower()]

    def availability(self, book_id: str) -> int:
        """Copies of a book that are on the shelf now."""
        if book_id not in self.books:
            raise KeyError(f"unknown book {book_id!r}")
        return self.books[book_id]["copies"]

    def member_loans(self, member_id: str) -> list[str]:
        """Ids of the books a member has on loan."""
        if member_id not in self.members:
            raise KeyError(f"unknown member {member_id!r}")
        return list(self.members[member_id])

    def checkout(self, book_id: str, member_id: str) -> dict:
        """Lend a book to a member. Fails when no copy is on the shelf, when the member
        already has this book, or when the member is at the loan limit."""
        loans = self.member_loans(member_id)
        if self.availability(book_id) < 1:
            raise ValueError(f"no copy of {book_id} is available")
        if book_id in loans:
            raise ValueError(f"{member_id} already has {book_id}")
        if len(loans) >= self.limit:
            raise ValueError(f"{member_id} is at the loan limit of {self.limit}")
        self.books[book_id]["copies"] -= 1
        self.members[member_id].append(book_id)
        return {"book": book_id, "member": member_id, "loans": len(loans) + 1}

    def tools(self) -> list[Tool]:
        return [Tool.from_function(m) for m in (self.search_books, self.availability,
                                                self.member_loans, self.checkout)]


def library(rng: random.Random, d: int) -> Spec:
    seed = rng.randrange(2 ** 31)
    lib = Library(seed, d)
    member = rng.choice(list(lib.members))
    author = rng.choice(sorted({b["author"] for b in lib.books.values()}))
    surname = author.split()[-1]
    year = rng.randrange(1975, 2015)

    def ref(t: dict[str, Tool]) -> int:
        books = sorted((b for b in t["search_books"].fn(surname) if b["year"] < year),
                       key=lambda b: (b["year"], b["id"]))
        for b in books:
            try:
                t["checkout"].fn(b["id"], member)
            except ValueError:
                continue
        return len(t["member_loans"].fn(member))
    text = (f"Member {member} wants to borrow every book by an author named {surname} "
            f"published before {year}, oldest first. Check out each one that can be "
            "checked out (skip any that fail: no copy, already borrowed, or the member's "
            f"loan limit). How many books does {member} have on loan afterwards?")
    return _int_ref(Library, seed, d, text, ref)


class WeatherNetwork:
    """Stations in regions with daily readings for days 1-30."""

    def __init__(self, seed: int, difficulty: int) -> None:
        rng = random.Random(seed)
        self.regions = rng.sample(["Valley", "Coast", "Plateau", "Delta", "Ridge"], 2)
        self.stations = {}
        for i in range(4 + 2 * difficulty):
            self.stations[f"{rng.choice(PLACES)}-{i}"] = {
                "region": rng.choice(self.regions), "elevation_m": rng.randrange(0, 2500),
                "base": rng.randrange(-5, 25)}
        self.readings = {s: [{"temp_c": round(v["base"] + rng.gauss(0, 4), 1),
                              "rain_mm": round(max(0.0, rng.gauss(2, 6)), 1)}
                             for _ in range(30)] for s, v in self.stations.items()}

    def list_stations(self, region: str) -> list[str]:
        """Station ids in a region (one of the network's regions)."""
        found = [s for s, v in self.stations.items() if v["region"].lower() == region.lower()]
        if not found:
            raise KeyError(f"no stations in {region!r}; regions: {', '.join(self.regions)}")
        return found

    def station_info(self, station: str) -> dict:
        """Region and elevation (m) of a station."""
        if station not in self.stations:
            raise KeyError(f"unknown station {station!r}")
        v = self.stations[station]
        return {"station": station, "region": v["region"], "elevation_m": v["elevation_m"]}

    def daily_reading(self, station: str, day: int) -> dict:
        """Mean temperature (C) and rainfall (mm) of a station on a day from 1 to 30."""
        self.station_info(station)
        if not 1 <= int(day) <= 30:
            raise ValueError("day must be from 1 to 30")
        return dict(self.readings[station][int(day) - 1])

    def tools(self) -> list[Tool]:
        return [Tool.from_function(m) for m in (self.list_stations, self.station_info,
                                                self.daily_reading)]


def weather(rng: random.Random, d: int) -> Spec:
    seed = rng.randrange(2 ** 31)
    net = WeatherNetwork(seed, d)
    region = rng.choice([r for r in net.regions
                         if sum(v["region"] == r for v in net.stations.values()) >= 2]
                        or net.regions)
    d1 = rng.randrange(1, 20)
    d2 = d1 + rng.randrange(3, 10)
    variant = rng.randrange(3)
    if variant == 0 and sum(v["region"] == region for v in net.stations.values()) >= 2:
        def mean_temp(t: dict[str, Tool], s: str) -> float:
            return sum(t["daily_reading"].fn(s, k)["temp_c"] for k in range(d1, d2 + 1))

        def warmest(t: dict[str, Tool]) -> str:
            return max(t["list_stations"].fn(region), key=lambda s: mean_temp(t, s))
        probe = {s: mean_temp(_tools_by_name(net), s)
                 for s in net.list_stations(region)}
        ranked = sorted(probe, key=lambda s: -probe[s])
        if abs(probe[ranked[0]] - probe[ranked[1]]) > 0.05:
            text = (f"Which weather station in the {region} region had the highest mean "
                    f"temperature over days {d1} to {d2} (inclusive)? Answer with the "
                    "station id.")
            expected = warmest(_tools_by_name(WeatherNetwork(seed, d)))
            return Spec(instruction=text, expected=expected,
                        tools=_factory(WeatherNetwork, seed, d), reference_answer=expected,
                        checker=choice_checker(expected, net.stations), near_miss=ranked[1])
    if variant == 1:
        station = rng.choice(list(net.stations))
        mm = rng.choice([1, 2, 5])

        def rainy_days(t: dict[str, Tool]) -> int:
            return sum(1 for k in range(1, 31) if t["daily_reading"].fn(station, k)["rain_mm"]
                       > mm)
        text = (f"On how many of the 30 days did station {station} record more than {mm} mm "
                "of rain?")
        return _int_ref(WeatherNetwork, seed, d, text, rainy_days)
    elev = rng.randrange(200, 1500)
    day = rng.randrange(1, 31)

    def ref(t: dict[str, Tool]) -> float:
        temps = [t["daily_reading"].fn(s, day)["temp_c"] for s in t["list_stations"].fn(region)
                 if t["station_info"].fn(s)["elevation_m"] < elev]
        return round(sum(temps) / len(temps), 2) if temps else 0.0
    text = (f"On day {day}, what was the average temperature across the {region} stations "
            f"located below {elev} m elevation? Round to 2 decimals (0 if there are none).")
    return _dec_ref(WeatherNetwork, seed, d, text, ref)


class RoomBooking:
    """Meeting rooms with capacities and an hourly booking grid; bookings return codes."""

    def __init__(self, seed: int, difficulty: int) -> None:
        rng = random.Random(seed)
        self.seed = seed
        self.rooms = {f"{rng.choice(NOUNS)} {i + 1}": rng.randrange(2, 30)
                      for i in range(4 + 2 * difficulty)}
        self.booked = {(r, day, h) for r in self.rooms for day in ("Mon", "Tue", "Wed")
                       for h in range(9, 17) if rng.random() < 0.4}

    def list_rooms(self) -> list[dict]:
        """All rooms with their seating capacity."""
        return [{"room": r, "capacity": c} for r, c in self.rooms.items()]

    def is_free(self, room: str, day: str, hour: int) -> bool:
        """Whether a room is free on a day (Mon, Tue or Wed) at an hour from 9 to 16."""
        if room not in self.rooms:
            raise KeyError(f"unknown room {room!r}")
        return (room, day, int(hour)) not in self.booked

    def book(self, room: str, day: str, hour: int) -> dict:
        """Book a room for one hour. Returns a confirmation code; fails if taken."""
        if not self.is_free(room, day, hour):
            raise ValueError(f"{room} is already booked on {day} at {hour}")
        self.booked.add((room, day, int(hour)))
        code = hashlib.sha256(f"{self.seed}/{room}/{day}/{hour}".encode()).hexdigest()[:6]
        return {"room": room, "day": day, "hour": int(hour), "confirmation": code.upper()}

    def tools(self) -> list[Tool]:
        return [Tool.from_function(m) for m in (self.list_rooms, self.is_free, self.book)]


def calendar(rng: random.Random, d: int) -> Spec:
    seed = rng.randrange(2 ** 31)
    people = rng.randrange(3, 20)
    day = rng.choice(["Mon", "Tue", "Wed"])
    hour = rng.randrange(9, 17)

    def ref(t: dict[str, Tool]) -> str:
        rooms = sorted((r for r in t["list_rooms"].fn() if r["capacity"] >= people),
                       key=lambda r: (r["capacity"], r["room"]))
        for r in rooms:
            if t["is_free"].fn(r["room"], day, hour):
                return t["book"].fn(r["room"], day, hour)["confirmation"]
        return "none"
    text = (f"Book a room for {people} people on {day} at {hour}:00: pick the smallest room "
            "that seats them and is free then (on equal capacity, the alphabetically first). "
            "Answer with the booking's confirmation code, or none if no room fits.")
    expected = ref(_tools_by_name(RoomBooking(seed, d)))
    return Spec(instruction=text, expected=expected, tools=_factory(RoomBooking, seed, d),
                checker=choice_checker(expected, ["none"]), reference_answer=expected,
                near_miss="none" if expected != "none" else "A1B2C3")


class Shipping:
    """Parcels to zones, carriers with per-zone rates and weight limits; labels."""

    def __init__(self, seed: int, difficulty: int) -> None:
        rng = random.Random(seed)
        self.seed = seed
        self.zones = ["A", "B", "C", "D"][:2 + difficulty // 2 + 1]
        self.carriers = {}
        for name in rng.sample(["Kestrel Post", "Fennec Freight", "Orca Express",
                                "Lynx Logistics", "Heron Haul"], 2 + difficulty):
            self.carriers[name] = {"max_kg": rng.choice([10, 20, 30, 50]),
                                   "base": {z: rng.randrange(300, 1500) / 100
                                            for z in self.zones},
                                   "per_kg": rng.randrange(20, 150) / 100}
        self.parcels = {f"PX{rng.randrange(100, 999)}{i}": {
            "weight_kg": rng.randrange(5, 600) / 10, "zone": rng.choice(self.zones)}
            for i in range(4 + 3 * difficulty)}
        self.labels: dict[str, str] = {}

    def list_parcels(self) -> list[str]:
        """Ids of the parcels waiting, labelled or not."""
        return list(self.parcels)

    def parcel_info(self, parcel_id: str) -> dict:
        """Weight (kg), destination zone and whether a label exists for a parcel."""
        if parcel_id not in self.parcels:
            raise KeyError(f"unknown parcel {parcel_id!r}")
        return {**self.parcels[parcel_id], "labelled": parcel_id in self.labels}

    def list_carriers(self) -> list[str]:
        """Names of the carriers."""
        return list(self.carriers)

    def quote(self, carrier: str, parcel_id: str) -> float:
        """Price in EUR for a carrier to take a parcel: its zone's base price plus a price
        per kg. Fails if the parcel is heavier than the carrier's limit."""
        if carrier not in self.carriers:
            raise KeyError(f"unknown carrier {carrier!r}")
        c, p = self.carriers[carrier], self.parcel_info(parcel_id)
        if p["weight_kg"] > c["max_kg"]:
            raise ValueError(f"{carrier} takes at most {c['max_kg']} kg")
        return round(c["base"][p["zone"]] + c["per_kg"] * p["weight_kg"], 2)

    def create_label(self, parcel_id: str, carrier: str) -> dict:
        """Buy a shipping label; returns the tracking code and the price paid. Fails for a
        parcel that already has a label or is too heavy for the carrier."""
        if self.parcel_info(parcel_id)["labelled"]:
            raise ValueError(f"{parcel_id} already has a label")
        price = self.quote(carrier, parcel_id)
        self.labels[parcel_id] = carrier
        code = hashlib.sha256(f"{self.seed}/{parcel_id}/{carrier}".encode()).hexdigest()[:8]
        return {"parcel": parcel_id, "tracking": code.upper(), "price": price}

    def tools(self) -> list[Tool]:
        return [Tool.from_function(m) for m in (self.list_parcels, self.parcel_info,
                                                self.list_carriers, self.quote,
                                                self.create_label)]


def _cheapest(t: dict[str, Tool], parcel: str) -> tuple[float, str] | None:
    quotes = []
    for c in t["list_carriers"].fn():
        try:
            quotes.append((t["quote"].fn(c, parcel), c))
        except ValueError:
            continue
    return min(quotes) if quotes else None


def shipping(rng: random.Random, d: int) -> Spec:
    seed = rng.randrange(2 ** 31)
    world = Shipping(seed, d)
    variant = rng.randrange(3)
    if variant == 0:
        zone = rng.choice(world.zones)

        def ref(t: dict[str, Tool]) -> float:
            total = 0.0
            for p in t["list_parcels"].fn():
                if t["parcel_info"].fn(p)["zone"] != zone:
                    continue
                best = _cheapest(t, p)
                if best is not None:
                    total += t["create_label"].fn(p, best[1])["price"]
            return round(total, 2)
        text = (f"Create a shipping label for every parcel going to zone {zone}, each with "
                "the carrier that quotes the lowest price for it (skip parcels no carrier "
                "can take). What is the total price of the labels in EUR, rounded to 2 "
                "decimals?")
        return _dec_ref(Shipping, seed, d, text, ref)
    if variant == 1:
        tools = _tools_by_name(world)
        for parcel in rng.sample(list(world.parcels), len(world.parcels)):
            quotes: list[tuple[float, str]] = []
            for c in world.carriers:
                price = _quote(tools, c, parcel)
                if price is not None:
                    quotes.append((price, c))
            quotes.sort()
            if len(quotes) >= 2 and quotes[1][0] - quotes[0][0] > 0.01:
                best, runner = quotes[0][1], quotes[1][1]
                text = (f"Which carrier gives the lowest quote for parcel {parcel}? Answer "
                        "with the carrier's name.")
                return Spec(instruction=text, expected=best,
                            tools=_factory(Shipping, seed, d), reference_answer=best,
                            checker=choice_checker(best, world.carriers), near_miss=runner)

    def stuck(t: dict[str, Tool]) -> int:
        return sum(1 for p in t["list_parcels"].fn() if _cheapest(t, p) is None)
    text = ("How many of the waiting parcels are too heavy for every carrier (no carrier "
            "will quote for them)?")
    return _int_ref(Shipping, seed, d, text, stuck)


def _quote(tools: dict[str, Tool], carrier: str, parcel: str) -> float | None:
    try:
        return tools["quote"].fn(carrier, parcel)
    except ValueError:
        return None


class Helpdesk:
    """Support tickets with priorities, agents with skills and capacity; assignments."""

    def __init__(self, seed: int, difficulty: int) -> None:
        rng = random.Random(seed)
        self.products = rng.sample(["mobile app", "billing", "api", "website", "printer"],
                                   2 + difficulty // 2)
        self.agents = {}
        for _ in range(2 + difficulty):
            name = rng.choice(GIVEN)
            while name in self.agents:
                name = rng.choice(GIVEN)
            self.agents[name] = {"skills": rng.sample(self.products,
                                                      rng.randrange(1, len(self.products) + 1)),
                                 "capacity": rng.randrange(1, 4), "tickets": []}
        self.tickets = {}
        for i in range(5 + 3 * difficulty):
            self.tickets[f"TK-{1000 + 13 * i + rng.randrange(13)}"] = {
                "priority": rng.randrange(1, 5), "product": rng.choice(self.products),
                "status": "open", "assignee": None}

    def open_tickets(self, product: str = "") -> list[dict]:
        """Open tickets (of one product when given): id, priority (1 is most urgent),
        product, assignee (None when unassigned)."""
        return [{"id": k, "priority": v["priority"], "product": v["product"],
                 "assignee": v["assignee"]} for k, v in self.tickets.items()
                if v["status"] == "open" and (not product or v["product"] == product)]

    def list_agents(self) -> list[str]:
        """Names of the support agents."""
        return list(self.agents)

    def agent_info(self, name: str) -> dict:
        """An agent's skills (products), capacity and the tickets they hold."""
        if name not in self.agents:
            raise KeyError(f"unknown agent {name!r}")
        a = self.agents[name]
        return {"skills": list(a["skills"]), "capacity": a["capacity"],
                "tickets": list(a["tickets"])}

    def assign_ticket(self, ticket_id: str, agent: str) -> dict:
        """Give an open, unassigned ticket to an agent. Fails when the agent lacks the
        product skill or already holds as many tickets as their capacity."""
        a = self.agent_info(agent)
        t = self.tickets.get(ticket_id)
        if t is None or t["status"] != "open" or t["assignee"] is not None:
            raise ValueError(f"{ticket_id} is not an open, unassigned ticket")
        if t["product"] not in a["skills"]:
            raise ValueError(f"{agent} does not handle {t['product']}")
        if len(a["tickets"]) >= a["capacity"]:
            raise ValueError(f"{agent} is at capacity")
        t["assignee"] = agent
        self.agents[agent]["tickets"].append(ticket_id)
        return {"ticket": ticket_id, "agent": agent, "load": len(a["tickets"]) + 1}

    def close_ticket(self, ticket_id: str) -> str:
        """Close a ticket; returns its new status."""
        if ticket_id not in self.tickets:
            raise KeyError(f"unknown ticket {ticket_id!r}")
        self.tickets[ticket_id]["status"] = "closed"
        return "closed"

    def tools(self) -> list[Tool]:
        return [Tool.from_function(m) for m in (self.open_tickets, self.list_agents,
                                                self.agent_info, self.assign_ticket,
                                                self.close_ticket)]


def helpdesk(rng: random.Random, d: int) -> Spec:
    seed = rng.randrange(2 ** 31)
    world = Helpdesk(seed, d)
    variant = rng.randrange(2)
    if variant == 0:
        worst = rng.randrange(2, 4)

        def ref(t: dict[str, Tool]) -> int:
            urgent = sorted((x for x in t["open_tickets"].fn() if x["priority"] <= worst),
                            key=lambda x: (x["priority"], x["id"]))
            for x in urgent:
                for a in t["list_agents"].fn():
                    try:
                        t["assign_ticket"].fn(x["id"], a)
                        break
                    except ValueError:
                        continue
            return sum(1 for x in t["open_tickets"].fn()
                       if x["priority"] <= worst and x["assignee"] is None)
        text = (f"Assign every open ticket of priority {worst} or more urgent (1 is the most "
                "urgent), most urgent first and then by ticket id, each to the first agent "
                "in list_agents() order who can take it. How many of those tickets are "
                "still unassigned afterwards?")
        return _int_ref(Helpdesk, seed, d, text, ref)
    product = rng.choice(world.products)
    least = rng.randrange(2, 5)

    def closing(t: dict[str, Tool]) -> int:
        for x in t["open_tickets"].fn(product):
            if x["priority"] >= least:
                t["close_ticket"].fn(x["id"])
        return len(t["open_tickets"].fn())
    text = (f"Close every open {product} ticket of priority {least} or less urgent "
            f"(priority number {least} or higher). How many open tickets of any product are "
            "left?")
    return _int_ref(Helpdesk, seed, d, text, closing)


def _tools_by_name(world: Any) -> dict[str, Tool]:
    return {t.name: t for t in world.tools()}


def _factory(cls: type, seed: int, d: int) -> Callable[[], list[Tool]]:
    def make_tools() -> list[Tool]:
        return cls(seed, d).tools()
    return make_tools


def _expected(cls: type, seed: int, d: int, ref: Callable[[dict[str, Tool]], Any]) -> Any:
    return ref(Task(name="probe", instruction="", tools=_factory(cls, seed, d),
                    expected=None).tools_by_name())


def _int_ref(cls: type, seed: int, d: int, text: str, ref: Callable[..., Any]) -> Spec:
    value = int(_expected(cls, seed, d, ref))
    return Spec(instruction=text, expected=value, tools=_factory(cls, seed, d),
                reference_answer=str(value), near_miss=str(value + 1))


def _dec_ref(cls: type, seed: int, d: int, text: str, ref: Callable[..., Any]) -> Spec:
    value = round(float(_expected(cls, seed, d, ref)), 2)
    return Spec(instruction=text, expected=value, tools=_factory(cls, seed, d),
                checker=number_checker(value, abs_tol=0.01, rel_tol=0.0),
                reference_answer=f"{value:.2f}", near_miss=f"{value + 1:.2f}")


class ToolsGenerator(Generator):
    name = "tools"
    description = ("multi-tool tasks over host tools (warehouse, library, weather, "
                   "shipping, helpdesk, calendar)")
    kinds = ("warehouse", "library", "weather", "shipping", "helpdesk", "calendar")
    heldout_kinds = ("calendar",)
    _MAKERS = {"warehouse": warehouse, "library": library, "weather": weather,
               "shipping": shipping, "helpdesk": helpdesk, "calendar": calendar}

    def make(self, kind: str, rng: random.Random, difficulty: int) -> Spec:
        return self._MAKERS[kind](rng, difficulty)
