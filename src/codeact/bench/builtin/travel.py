"""Domain ``travel``: a small, fixed, in-memory flight and hotel catalogue."""

from __future__ import annotations

import random
from typing import Any

from codeact.bench.builtin._common import Toolbox, tasks_for, unique_best
from codeact.bench.task import Task

CITIES = ["NYC", "LON", "PAR", "ROM", "BER", "MAD"]
DATES = ["2025-05-01", "2025-05-02", "2025-05-03"]
CITY_NAMES = {"NYC": "New York", "LON": "London", "PAR": "Paris", "ROM": "Rome",
              "BER": "Berlin", "MAD": "Madrid"}
AIRLINES = ["Aerolux", "BlueJet", "Cirrus Air", "Drift Airways"]


def _build_flights() -> list[dict[str, Any]]:
    rng = random.Random(20250501)
    routes = [(a, b) for a in CITIES for b in CITIES if a != b]
    n = len(routes) * len(DATES) * 3
    prices = rng.sample(range(80, 1400), n)
    flights = []
    i = 0
    for date in DATES:
        for a, b in routes:
            base = 420 if "NYC" in (a, b) else 95
            for _ in range(3):
                dep = rng.randrange(6 * 60, 21 * 60, 5)
                dur = base + rng.randrange(0, 120, 5)
                stops = rng.choice([0, 0, 1])
                dur += 90 * stops
                arr = dep + dur
                flights.append({
                    "id": f"FL{100 + i}",
                    "origin": a,
                    "destination": b,
                    "date": date,
                    "depart": f"{dep // 60:02d}:{dep % 60:02d}",
                    "arrive": f"{(arr // 60) % 24:02d}:{arr % 60:02d}"
                              + ("+1" if arr >= 24 * 60 else ""),
                    "duration_min": dur,
                    "stops": stops,
                    "airline": rng.choice(AIRLINES),
                    "price": float(prices[i] // 2 + (300 if "NYC" in (a, b) else 0)),
                })
                i += 1
    return flights


_HOTEL_NAMES = ["Grand", "Plaza", "Riverside", "Garden", "Central", "Harbour", "Old Town",
                "Skyline"]


def _build_hotels() -> list[dict[str, Any]]:
    rng = random.Random(77)
    hotels = []
    nightly = rng.sample(range(60, 480), len(CITIES[1:]) * 5 + 5)
    ratings = rng.sample(range(30, 50), 20) + rng.sample(range(30, 50), 10)
    k = 0
    for city in CITIES:
        names = rng.sample(_HOTEL_NAMES, 5)
        for name in names:
            hotels.append({
                "name": f"{name} {CITY_NAMES[city]}",
                "city": city,
                "stars": rng.choice([2, 3, 3, 4, 4, 5]),
                "price_per_night": float(nightly[k]),
                "rating": ratings[k] / 10,
            })
            k += 1
    return hotels


FLIGHTS = _build_flights()
HOTELS = _build_hotels()
TAX_RATE = 0.12


def list_cities() -> list[str]:
    """City codes served by the catalogue."""
    return list(CITIES)


def search_flights(origin: str, destination: str, date: str) -> list[dict]:
    """Flights from `origin` to `destination` (city codes, e.g. "NYC") on `date`
    ("YYYY-MM-DD"). Each flight is a dict with id, origin, destination, date, depart,
    arrive, duration_min, stops, airline and price (USD)."""
    o, d = origin.strip().upper(), destination.strip().upper()
    return [dict(f) for f in FLIGHTS if f["origin"] == o and f["destination"] == d
            and f["date"] == date.strip()]


def get_flight(flight_id: str) -> dict:
    """Details of one flight by its id (e.g. "FL123")."""
    for f in FLIGHTS:
        if f["id"] == flight_id.strip().upper():
            return dict(f)
    raise KeyError(f"no flight {flight_id!r}")


def search_hotels(city: str, min_stars: int = 0) -> list[dict]:
    """Hotels in `city` (a city code) with at least `min_stars` stars. Each hotel is a dict
    with name, city, stars, price_per_night (USD, before tax) and rating (out of 5)."""
    c = city.strip().upper()
    return [dict(h) for h in HOTELS if h["city"] == c and h["stars"] >= min_stars]


def hotel_total(hotel_name: str, nights: int) -> float:
    """Total price in USD for `nights` nights at a hotel, including 12% tax."""
    for h in HOTELS:
        if h["name"].lower() == hotel_name.strip().lower():
            return round(h["price_per_night"] * nights * (1 + TAX_RATE), 2)
    raise KeyError(f"no hotel {hotel_name!r}")


TOOLS = [list_cities, search_flights, get_flight, search_hotels, hotel_total]

D1, D2, D3 = DATES


def _cheapest(t: Toolbox, a: str, b: str, date: str) -> dict:
    return unique_best(t.search_flights(a, b, date), key=lambda f: f["price"])


def _mins(hhmm: str) -> int:
    day = 24 * 60 if hhmm.endswith("+1") else 0
    h, m = hhmm.replace("+1", "").split(":")
    return int(h) * 60 + int(m) + day


def _via(t: Toolbox) -> float:
    best = []
    for f1 in t.search_flights("NYC", "MAD", D1):
        if f1["arrive"].endswith("+1"):
            continue
        for f2 in t.search_flights("MAD", "ROM", D1):
            if _mins(f2["depart"]) >= _mins(f1["arrive"]) + 60:
                best.append(f1["price"] + f2["price"])
    return min(best)


def _trip(t: Toolbox) -> float:
    flight = _cheapest(t, "LON", "PAR", D1)
    hotel = unique_best(t.search_hotels("PAR", 3), key=lambda h: h["price_per_night"])
    return round(flight["price"] + t.hotel_total(hotel["name"], 3), 2)


def _nights_budget(t: Toolbox) -> int:
    out = _cheapest(t, "BER", "MAD", D1)["price"]
    back = _cheapest(t, "MAD", "BER", D3)["price"]
    hotel = unique_best(t.search_hotels("MAD", 4), key=lambda h: h["rating"], largest=True)
    nights = 0
    while out + back + t.hotel_total(hotel["name"], nights + 1) <= 2000:
        nights += 1
    return nights


def _cheapest_dest(t: Toolbox) -> str:
    return unique_best(["PAR", "ROM", "BER", "MAD"],
                       key=lambda c: _cheapest(t, "LON", c, D2)["price"])


def _best_day(t: Toolbox) -> str:
    return unique_best(DATES, key=lambda d: _cheapest(t, "ROM", "BER", d)["price"])


def _cheapest_any_date(t: Toolbox) -> str:
    fl = [f for d in DATES for f in t.search_flights("PAR", "NYC", d)]
    return unique_best(fl, key=lambda f: f["price"])["id"]


SPECS = [
    ("cheapest-id", f"What is the id of the cheapest flight from NYC to LON on {D1}?",
     lambda t: _cheapest(t, "NYC", "LON", D1)["id"]),
    ("cheapest-price", f"How much (USD) does the cheapest flight from PAR to ROM on {D2} cost?",
     lambda t: _cheapest(t, "PAR", "ROM", D2)["price"]),
    ("direct-count", f"How many non-stop flights (0 stops) go from LON to BER on {D1}?",
     lambda t: sum(1 for f in t.search_flights("LON", "BER", D1) if f["stops"] == 0)),
    ("earliest-departure", f"Which flight from MAD to PAR on {D3} departs earliest? Answer "
     "with its id.", lambda t: unique_best(t.search_flights("MAD", "PAR", D3),
                                           key=lambda f: _mins(f["depart"]))["id"]),
    ("cheap-4star-paris", "What is the name of the cheapest hotel in PAR with at least 4 "
     "stars (by price per night)?",
     lambda t: unique_best(t.search_hotels("PAR", 4), key=lambda h: h["price_per_night"])["name"]),
    ("trip-total", f"Plan a trip: the cheapest flight from LON to PAR on {D1} plus 3 nights "
     "in the cheapest hotel in PAR with at least 3 stars (by price per night), tax "
     "included. What is the total cost in USD, rounded to 2 decimals?", _trip),
    ("round-trip", f"What is the lowest total price for a round trip NYC to MAD on {D1}, "
     f"returning MAD to NYC on {D3}?",
     lambda t: _cheapest(t, "NYC", "MAD", D1)["price"] + _cheapest(t, "MAD", "NYC", D3)["price"]),
    ("cheapest-destination", f"From LON on {D2}, which of PAR, ROM, BER and MAD has the "
     "cheapest flight? Answer with the city code.", _cheapest_dest),
    ("avg-hotel-rome", "What is the average price per night of all hotels in ROM, rounded to "
     "2 decimals?", lambda t: round(sum(h["price_per_night"] for h in t.search_hotels("ROM"))
                                    / len(t.search_hotels("ROM")), 2)),
    ("best-rated-berlin", "Which hotel in BER has the highest rating? Answer with its name.",
     lambda t: unique_best(t.search_hotels("BER"), key=lambda h: h["rating"],
                           largest=True)["name"]),
    ("airlines-nyc-lon", f"Which airlines fly from NYC to LON on {D2}? Answer with the list "
     "of distinct airline names sorted alphabetically.",
     lambda t: sorted({f["airline"] for f in t.search_flights("NYC", "LON", D2)})),
    ("via-madrid", f"You must fly NYC to ROM on {D1} with a connection in MAD: the second "
     "flight (MAD to ROM, same date) must depart at least 60 minutes after the first one "
     "arrives (ignore flights arriving after midnight). What is the lowest total price?",
     _via),
    ("top-rated-count", "Across all cities in the catalogue, how many hotels have a rating of "
     "4.5 or higher?",
     lambda t: sum(1 for c in t.list_cities() for h in t.search_hotels(c) if h["rating"] >= 4.5)),
    ("nights-budget", f"With a budget of 2000 USD: take the cheapest flight BER to MAD on "
     f"{D1} and the cheapest flight MAD to BER on {D3}, and stay at the best-rated hotel in "
     "MAD with at least 4 stars (tax included). How many whole nights can you afford?",
     _nights_budget),
    ("best-day", "On which date is the cheapest ROM to BER flight? Answer with the date "
     "(YYYY-MM-DD).", _best_day),
    ("cheapest-any-date", f"Find the cheapest flight from PAR to NYC on any of the dates "
     f"{', '.join(DATES)}. Answer with its id.", _cheapest_any_date),
]


def load() -> list[Task]:
    return tasks_for("travel", TOOLS, SPECS)
