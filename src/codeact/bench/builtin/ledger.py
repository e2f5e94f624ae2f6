"""Domain ``ledger``: a stateful stock-trading ledger, created fresh for every run.

The tools share one :class:`Ledger` instance, so buying changes the cash that a later
``get_cash()`` reports. They run in the host in every format (in the code format the
sandboxed kernel calls them over the tool bridge), so state behaves the same everywhere.
"""

from __future__ import annotations

from codeact.bench.builtin._common import Toolbox, tasks_for, unique_best
from codeact.bench.task import Task
from codeact.tools import Tool

PRICES = {"ACME": 132.40, "BOLT": 48.25, "CHIP": 211.10, "DYNA": 18.75, "ECHO": 76.30,
          "FERN": 9.85, "GLOW": 164.00}
HISTORY = {
    "ACME": [120.10, 125.50, 128.00, 130.25, 132.40],
    "BOLT": [52.00, 50.75, 49.90, 49.10, 48.25],
    "CHIP": [180.00, 190.40, 201.75, 205.00, 211.10],
    "DYNA": [15.00, 16.20, 17.10, 18.40, 18.75],
    "ECHO": [80.00, 78.50, 77.00, 75.90, 76.30],
    "FERN": [10.50, 10.10, 9.70, 9.90, 9.85],
    "GLOW": [150.00, 171.00, 160.50, 158.00, 164.00],
}
START_CASH = 10_000.0
START_HOLDINGS = {"ACME": 10, "BOLT": 40, "FERN": 120}


class Ledger:
    """A brokerage account: cash plus share holdings, trading at fixed prices."""

    def __init__(self) -> None:
        self.cash = START_CASH
        self.holdings = dict(START_HOLDINGS)
        self.trades: list[tuple[str, str, int]] = []

    def _symbol(self, symbol: str) -> str:
        s = symbol.strip().upper()
        if s not in PRICES:
            raise KeyError(f"unknown symbol {symbol!r}; known: {', '.join(PRICES)}")
        return s

    def list_symbols(self) -> list[str]:
        """All tradable ticker symbols."""
        return list(PRICES)

    def get_price(self, symbol: str) -> float:
        """Current price of one share of `symbol`, in USD."""
        return PRICES[self._symbol(symbol)]

    def price_history(self, symbol: str) -> list[float]:
        """Closing prices of `symbol` over the last 5 days, oldest first (last = today)."""
        return list(HISTORY[self._symbol(symbol)])

    def get_cash(self) -> float:
        """Cash available in the account, in USD."""
        return round(self.cash, 2)

    def get_holdings(self) -> dict:
        """Shares held, as a dict {symbol: quantity}."""
        return {k: v for k, v in self.holdings.items() if v}

    def buy(self, symbol: str, quantity: int) -> dict:
        """Buy `quantity` shares of `symbol` at the current price. Fails if cash is short.
        Returns a confirmation with the cost and the remaining cash."""
        s = self._symbol(symbol)
        if quantity <= 0:
            raise ValueError("quantity must be positive")
        cost = round(PRICES[s] * quantity, 2)
        if cost > self.cash + 1e-9:
            raise ValueError(f"insufficient cash: {quantity} {s} costs {cost}, "
                             f"cash is {self.cash:.2f}")
        self.cash = round(self.cash - cost, 2)
        self.holdings[s] = self.holdings.get(s, 0) + quantity
        self.trades.append(("buy", s, quantity))
        return {"symbol": s, "bought": quantity, "cost": cost, "cash": self.cash}

    def sell(self, symbol: str, quantity: int) -> dict:
        """Sell `quantity` shares of `symbol` at the current price. Fails if you hold fewer.
        Returns a confirmation with the proceeds and the new cash balance."""
        s = self._symbol(symbol)
        if quantity <= 0:
            raise ValueError("quantity must be positive")
        held = self.holdings.get(s, 0)
        if quantity > held:
            raise ValueError(f"you hold only {held} {s}")
        proceeds = round(PRICES[s] * quantity, 2)
        self.cash = round(self.cash + proceeds, 2)
        self.holdings[s] = held - quantity
        self.trades.append(("sell", s, quantity))
        return {"symbol": s, "sold": quantity, "proceeds": proceeds, "cash": self.cash}


def make_tools() -> list[Tool]:
    """A fresh ledger and its tools (the task factory: one per run)."""
    ledger = Ledger()
    methods = [ledger.list_symbols, ledger.get_price, ledger.price_history, ledger.get_cash,
               ledger.get_holdings, ledger.buy, ledger.sell]
    return [Tool.from_function(m) for m in methods]


def _value(t: Toolbox) -> float:
    return t.get_cash() + sum(q * t.get_price(s) for s, q in t.get_holdings().items())


def _sell_cheap(t: Toolbox) -> float:
    for s, q in t.get_holdings().items():
        if t.get_price(s) < 50:
            t.sell(s, q)
    return t.get_cash()


def _max_shares(t: Toolbox) -> int:
    n = int(2000 // t.get_price("CHIP"))
    t.buy("CHIP", n)
    return n


def _best_gain(t: Toolbox) -> str:
    def gain(s: str) -> float:
        h = t.price_history(s)
        return (h[-1] - h[0]) / h[0]
    return unique_best(t.list_symbols(), key=gain, largest=True)


def _above_avg(t: Toolbox) -> list[str]:
    out = []
    for s in t.list_symbols():
        h = t.price_history(s)
        if t.get_price(s) > sum(h) / len(h):
            out.append(s)
    return sorted(out)


def _cheapest_buy(t: Toolbox) -> float:
    s = unique_best(t.list_symbols(), key=t.get_price)
    t.buy(s, 20)
    return t.get_cash()


def _buy_each(t: Toolbox) -> float:
    for s in ["BOLT", "DYNA", "ECHO"]:
        t.buy(s, 3)
    return t.get_cash()


def _equal_split(t: Toolbox) -> dict:
    out = {}
    for s in ["ACME", "ECHO", "GLOW"]:
        n = int(1500 // t.get_price(s))
        t.buy(s, n)
        out[s] = n
    return t.get_holdings()


def _worst_day(t: Toolbox) -> str:
    def drop(s: str) -> float:
        h = t.price_history(s)
        return min(b - a for a, b in zip(h, h[1:], strict=False))
    return unique_best(t.list_symbols(), key=drop)


SPECS = [
    ("price", "What is the current price of one ACME share?", lambda t: t.get_price("ACME")),
    ("buy-then-cash", "Buy 10 shares of BOLT. How much cash is left afterwards?",
     lambda t: (t.buy("BOLT", 10), t.get_cash())[1]),
    ("portfolio-value", "What is the total value of the account: cash plus all holdings "
     "valued at current prices? Round to 2 decimals.", lambda t: round(_value(t), 2)),
    ("sell-all-acme", "Sell all your ACME shares. What is the cash balance afterwards?",
     lambda t: (t.sell("ACME", t.get_holdings()["ACME"]), t.get_cash())[1]),
    ("buy-three", "Buy 3 shares each of BOLT, DYNA and ECHO. What is the remaining cash?",
     _buy_each),
    ("best-gain", "Over the 5-day price history, which symbol had the largest percentage "
     "increase from the first to the last day? Answer with the symbol.", _best_gain),
    ("max-chip", "Spend at most 2000 USD on CHIP: buy as many whole shares as that allows. "
     "How many shares did you buy?", _max_shares),
    ("avg-history", "What is the average of GLOW's 5-day price history, rounded to 2 decimals?",
     lambda t: round(sum(t.price_history("GLOW")) / 5, 2)),
    ("sell-cheap", "Sell every holding whose current price is below 50 USD (all shares of "
     "it). What is the cash balance afterwards?", _sell_cheap),
    ("holdings-after-buy", "Buy 7 more ACME shares. How many ACME shares do you hold now?",
     lambda t: (t.buy("ACME", 7), t.get_holdings()["ACME"])[1]),
    ("holdings-value", "What is the value of your share holdings alone (not cash) at current "
     "prices, rounded to 2 decimals?",
     lambda t: round(sum(q * t.get_price(s) for s, q in t.get_holdings().items()), 2)),
    ("buy-sell-dyna", "Buy 25 DYNA shares, then sell 10 of them. What is the cash balance?",
     lambda t: (t.buy("DYNA", 25), t.sell("DYNA", 10), t.get_cash())[2]),
    ("above-average", "Which symbols have a current price above the average of their 5-day "
     "price history? Answer with the list of symbols sorted alphabetically.", _above_avg),
    ("cheapest-buy", "Buy 20 shares of the cheapest symbol on the market. What is the "
     "remaining cash?", _cheapest_buy),
    ("split-budget", "For each of ACME, ECHO and GLOW, buy as many whole shares as 1500 USD "
     "allows (1500 USD per symbol). Then answer with your holdings as a dict "
     "{symbol: quantity} of everything you hold.", _equal_split),
    ("worst-day", "Which symbol had the largest single-day price drop (in USD) in its 5-day "
     "history? Answer with the symbol.", _worst_day),
]


def load() -> list[Task]:
    return tasks_for("ledger", make_tools, SPECS)
