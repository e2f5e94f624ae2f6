"""Domain ``units``: a unit converter and a fixed-rate currency table."""

from __future__ import annotations

from codeact.bench.builtin._common import Toolbox, tasks_for, unique_best
from codeact.bench.task import Task

_LENGTH_M = {"mm": 0.001, "cm": 0.01, "m": 1.0, "km": 1000.0, "in": 0.0254,
             "ft": 0.3048, "yd": 0.9144, "mi": 1609.344}
_MASS_G = {"mg": 0.001, "g": 1.0, "kg": 1000.0, "t": 1_000_000.0, "oz": 28.349523125,
           "lb": 453.59237}
_VOLUME_L = {"ml": 0.001, "l": 1.0, "cup": 0.2365882365, "gal": 3.785411784,
             "floz": 0.0295735295625}
_USD_PER = {"USD": 1.0, "EUR": 1.08, "GBP": 1.27, "JPY": 0.0067, "CHF": 1.12, "CAD": 0.74}


def _convert(table: dict[str, float], kind: str, value: float, from_unit: str,
             to_unit: str) -> float:
    f, t = from_unit.strip().lower(), to_unit.strip().lower()
    for u in (f, t):
        if u not in table:
            raise ValueError(f"unknown {kind} unit {u!r}; known: {', '.join(table)}")
    return value * table[f] / table[t]


def convert_length(value: float, from_unit: str, to_unit: str) -> float:
    """Convert a length. Units: mm, cm, m, km, in, ft, yd, mi."""
    return _convert(_LENGTH_M, "length", value, from_unit, to_unit)


def convert_mass(value: float, from_unit: str, to_unit: str) -> float:
    """Convert a mass. Units: mg, g, kg, t (metric tonne), oz, lb."""
    return _convert(_MASS_G, "mass", value, from_unit, to_unit)


def convert_volume(value: float, from_unit: str, to_unit: str) -> float:
    """Convert a volume. Units: ml, l, cup (US), gal (US), floz (US fluid ounce)."""
    return _convert(_VOLUME_L, "volume", value, from_unit, to_unit)


def convert_temperature(value: float, from_unit: str, to_unit: str) -> float:
    """Convert a temperature. Units: C (Celsius), F (Fahrenheit), K (Kelvin)."""
    f, t = from_unit.strip().upper(), to_unit.strip().upper()
    to_c = {"C": lambda v: v, "F": lambda v: (v - 32) * 5 / 9, "K": lambda v: v - 273.15}
    from_c = {"C": lambda v: v, "F": lambda v: v * 9 / 5 + 32, "K": lambda v: v + 273.15}
    for u in (f, t):
        if u not in to_c:
            raise ValueError(f"unknown temperature unit {u!r}; known: C, F, K")
    return from_c[t](to_c[f](value))


def exchange_rate(base: str, quote: str) -> float:
    """How many units of currency `quote` one unit of currency `base` buys.

    Currencies: USD, EUR, GBP, JPY, CHF, CAD (fixed rates)."""
    b, q = base.strip().upper(), quote.strip().upper()
    for c in (b, q):
        if c not in _USD_PER:
            raise ValueError(f"unknown currency {c!r}; known: {', '.join(_USD_PER)}")
    return _USD_PER[b] / _USD_PER[q]


TOOLS = [convert_length, convert_mass, convert_volume, convert_temperature, exchange_rate]


def _r(x: float, n: int = 2) -> float:
    return round(x, n)


def _hottest(t: Toolbox) -> str:
    readings = {"Lisbon": (24.0, "C"), "Phoenix": (88.0, "F"), "Oslo": (290.0, "K"),
                "Cairo": (30.5, "C")}
    return unique_best(list(readings),
                       key=lambda c: t.convert_temperature(readings[c][0], readings[c][1], "C"),
                       largest=True)


def _cheapest_country(t: Toolbox) -> str:
    prices = {"USA": (129.0, "USD"), "UK": (99.0, "GBP"), "Germany": (115.0, "EUR"),
              "Japan": (18500.0, "JPY")}
    return unique_best(list(prices),
                       key=lambda c: prices[c][0] * t.exchange_rate(prices[c][1], "EUR"))


SPECS = [
    ("miles-to-km", "Convert 26.2 miles to kilometres. Answer with the number rounded to "
     "2 decimal places.", lambda t: _r(t.convert_length(26.2, "mi", "km"))),
    ("body-temp", "What is 98.6 degrees Fahrenheit in Celsius? Round to 1 decimal place.",
     lambda t: _r(t.convert_temperature(98.6, "F", "C"), 1)),
    ("kg-to-lb", "How many pounds are 3.5 kilograms? Round to 2 decimal places.",
     lambda t: _r(t.convert_mass(3.5, "kg", "lb"))),
    ("eur-to-jpy", "How many Japanese yen (JPY) do you get for 250 euros (EUR)? Round to the "
     "nearest whole yen.", lambda t: round(250 * t.exchange_rate("EUR", "JPY"))),
    ("sum-lengths", "Add up 3 feet, 20 inches and 0.5 metres. Give the total in centimetres, "
     "rounded to 2 decimal places.",
     lambda t: _r(t.convert_length(3, "ft", "cm") + t.convert_length(20, "in", "cm")
                  + t.convert_length(0.5, "m", "cm"))),
    ("heavier", "Which is heavier: 2.3 lb of apples or 1 kg of pears? Answer 'apples' or "
     "'pears'.", lambda t: "apples" if t.convert_mass(2.3, "lb", "kg") > 1 else "pears"),
    ("f-list-to-c", "Convert each of these Fahrenheit temperatures to Celsius, rounded to 1 "
     "decimal place, and answer with the list in the same order: [14, 50, 77, 104, 451].",
     lambda t: [_r(t.convert_temperature(v, "F", "C"), 1) for v in [14, 50, 77, 104, 451]]),
    ("route-total", "A cycling route has segments of 12.5 km, 8 mi, 3000 m, 4.2 mi and "
     "7.75 km. What is the total distance in kilometres, rounded to 2 decimal places?",
     lambda t: _r(sum(t.convert_length(v, u, "km") for v, u in
                      [(12.5, "km"), (8, "mi"), (3000, "m"), (4.2, "mi"), (7.75, "km")]))),
    ("cheapest-country", "The same phone costs 129 USD in the USA, 99 GBP in the UK, 115 EUR in "
     "Germany and 18500 JPY in Japan. In which country is it cheapest? Answer with the "
     "country name exactly as written here.", _cheapest_country),
    ("mile-breakdown", "Express one mile in feet, in yards and in inches. Answer with a list "
     "[feet, yards, inches] of whole numbers.",
     lambda t: [round(t.convert_length(1, "mi", u)) for u in ("ft", "yd", "in")]),
    ("boiling-kelvin", "Water boils at 212 degrees Fahrenheit. What is that in Kelvin, rounded "
     "to 2 decimal places?", lambda t: _r(t.convert_temperature(212, "F", "K"))),
    ("parcels-kg", "Five parcels weigh 12 oz, 30 oz, 7.5 oz, 48 oz and 16 oz. What is their "
     "total weight in kilograms, rounded to 3 decimal places?",
     lambda t: round(sum(t.convert_mass(v, "oz", "kg") for v in [12, 30, 7.5, 48, 16]), 3)),
    ("flour-bags", "How many full 250 g bags can be filled from 12 lb of flour? Answer with a "
     "whole number.", lambda t: int(t.convert_mass(12, "lb", "g") // 250)),
    ("hottest-city", "Noon temperatures: Lisbon 24 C, Phoenix 88 F, Oslo 290 K, Cairo 30.5 C. "
     "Which city is hottest? Answer with the city name.", _hottest),
    ("expenses-usd", "Travel expenses: 45 EUR, 30 GBP, 5200 JPY, 60 CHF and 80 CAD. What is "
     "the total in US dollars, rounded to 2 decimal places?",
     lambda t: _r(sum(a * t.exchange_rate(c, "USD") for a, c in
                      [(45, "EUR"), (30, "GBP"), (5200, "JPY"), (60, "CHF"), (80, "CAD")]))),
    ("cups-in-gallon", "How many US cups fit in 2.5 US gallons? Answer with a number rounded "
     "to 1 decimal place.", lambda t: _r(t.convert_volume(2.5, "gal", "cup"), 1)),
]


def load() -> list[Task]:
    return tasks_for("units", TOOLS, SPECS)
