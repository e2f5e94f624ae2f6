"""Domain ``warehouse``: stock of ten SKUs at two sites, with transfers and supplier orders.

Stateful: :func:`make_tools` builds a fresh :class:`Warehouse` for every run, so a
transfer or an order made in one run is never seen by another.
"""

from __future__ import annotations

import copy
from typing import Any

from codeact.bench.task import Task
from codeact.bench.thirdparty._spec import ToolSpec, make_task

DOMAIN = "warehouse"

SKUS: dict[str, dict[str, Any]] = {
    "HX-210": {"name": "Hex key set", "category": "tools", "unit_cost": 7.45,
               "reorder_point": 60},
    "DR-118": {"name": "Cordless drill", "category": "tools", "unit_cost": 64.90,
               "reorder_point": 15},
    "SW-402": {"name": "Hand saw", "category": "tools", "unit_cost": 18.25,
               "reorder_point": 25},
    "GL-330": {"name": "Garden gloves", "category": "garden", "unit_cost": 4.80,
               "reorder_point": 80},
    "HS-515": {"name": "Garden hose 25 m", "category": "garden", "unit_cost": 22.10,
               "reorder_point": 20},
    "SP-207": {"name": "Spade", "category": "garden", "unit_cost": 15.60,
               "reorder_point": 30},
    "PT-115": {"name": "White wall paint 5 L", "category": "paint", "unit_cost": 31.50,
               "reorder_point": 40},
    "PT-116": {"name": "Primer 2.5 L", "category": "paint", "unit_cost": 17.95,
               "reorder_point": 30},
    "BR-044": {"name": "Paint brush set", "category": "paint", "unit_cost": 9.30,
               "reorder_point": 50},
    "RL-090": {"name": "Paint roller", "category": "paint", "unit_cost": 6.15,
               "reorder_point": 45},
}
STOCK: dict[str, dict[str, int]] = {
    "north": {"HX-210": 41, "DR-118": 9, "SW-402": 7, "GL-330": 95, "HS-515": 14,
              "SP-207": 12, "PT-115": 22, "PT-116": 6, "BR-044": 33, "RL-090": 20},
    "south": {"HX-210": 12, "DR-118": 11, "SW-402": 10, "GL-330": 38, "HS-515": 19,
              "SP-207": 9, "PT-115": 30, "PT-116": 15, "BR-044": 28, "RL-090": 31},
}


class Warehouse:
    """Two sites' stock levels plus the purchase orders placed in this session."""

    def __init__(self) -> None:
        self.stock = copy.deepcopy(STOCK)
        self.orders: list[dict[str, Any]] = []

    def _sku(self, sku):
        key = str(sku).strip().upper()
        if key not in SKUS:
            raise KeyError(f"unknown SKU {sku!r}; use list_skus() to see the catalogue")
        return key

    def _site(self, site, *, allow_all=False):
        key = str(site).strip().lower()
        if key in self.stock or (allow_all and key == "all"):
            return key
        allowed = ", ".join([*self.stock, *(["all"] if allow_all else [])])
        raise ValueError(f"unknown site {site!r}; use one of {allowed}")

    def list_skus(self, category=""):
        cat = str(category).strip().lower()
        return [s for s, info in SKUS.items() if not cat or info["category"] == cat]

    def sku_info(self, sku):
        return dict(SKUS[self._sku(sku)])

    def stock_level(self, sku, site="all"):
        key, where = self._sku(sku), self._site(site, allow_all=True)
        if where == "all":
            return sum(levels[key] for levels in self.stock.values())
        return self.stock[where][key]

    def total_units(self, *skus):
        return sum(self.stock_level(s) for s in skus)

    def move_stock(self, sku, qty, from_site, to_site):
        key = self._sku(sku)
        src, dst = self._site(from_site), self._site(to_site)
        qty = int(qty)
        if qty <= 0:
            raise ValueError("qty must be a positive whole number")
        if src == dst:
            raise ValueError("from_site and to_site are the same site")
        if self.stock[src][key] < qty:
            raise ValueError(f"{src} holds only {self.stock[src][key]} units of {key}")
        self.stock[src][key] -= qty
        self.stock[dst][key] += qty
        return {site: levels[key] for site, levels in self.stock.items()}

    def place_order(self, sku, qty, site):
        key, where = self._sku(sku), self._site(site)
        qty = int(qty)
        if qty <= 0:
            raise ValueError("qty must be a positive whole number")
        self.stock[where][key] += qty
        order_id = f"PO-{1001 + len(self.orders)}"
        self.orders.append({"id": order_id, "sku": key, "qty": qty,
                            "cost": round(qty * SKUS[key]["unit_cost"], 2)})
        return order_id

    def order_total(self):
        return round(sum(o["cost"] for o in self.orders), 2)


def make_tools() -> list[ToolSpec]:
    """A fresh warehouse and its tools, for one run."""
    w = Warehouse()
    return [
        ("list_skus", w.list_skus,
         "SKU codes in the catalogue; with a category ('tools', 'garden' or 'paint') only "
         "that category's.",
         "list_skus(category: str = '') -> list of str"),
        ("sku_info", w.sku_info,
         "One SKU's record: a dict with name, category, unit_cost (USD per unit) and "
         "reorder_point (the total stock below which it must be reordered).",
         "sku_info(sku: str) -> dict"),
        ("stock_level", w.stock_level,
         "Units of a SKU on hand at a site: 'north', 'south', or 'all' for both together.",
         "stock_level(sku: str, site: str = 'all') -> int"),
        ("total_units", w.total_units,
         "Total units on hand, both sites together, of all the SKUs given.",
         "total_units(*skus: str) -> int"),
        ("move_stock", w.move_stock,
         "Transfer qty units of a SKU from one site to the other. Fails if the source site "
         "holds fewer. Returns the new levels of that SKU as {site: units}.",
         "move_stock(sku: str, qty: int, from_site: str, to_site: str) -> dict"),
        ("place_order", w.place_order,
         "Order qty units of a SKU from the supplier, delivered at once to the site. "
         "Returns the purchase order id.",
         "place_order(sku: str, qty: int, site: str) -> str"),
        ("order_total", w.order_total,
         "Total cost in USD of every purchase order placed so far (qty x unit_cost).",
         "order_total() -> int/float"),
    ]


def load() -> list[Task]:
    tasks = [
        ("paint-units", "How many units of paint-category items are in stock in total, "
         "counting both sites?",
         """
         answer = total_units(*list_skus("paint"))
         """, {}),
        ("below-reorder", "Which SKUs have a total stock (both sites) below their reorder "
         "point? Answer with the list of SKU codes, in any order.",
         """
         answer = [s for s in list_skus() if stock_level(s) < sku_info(s)["reorder_point"]]
         """, {"unordered": True}),
        ("north-value", "What is the total value in USD of the stock held at the north site "
         "(units times unit cost, over all SKUs)? Round to 2 decimals.",
         """
         answer = round(sum(stock_level(s, "north") * sku_info(s)["unit_cost"]
                            for s in list_skus()), 2)
         """, {"tol": 0.01}),
        ("restock", "For every SKU whose total stock is below its reorder point, order "
         "enough units for the south site to bring its total stock up to exactly twice the "
         "reorder point. What is the total cost in USD of the orders you placed?",
         """
         for s in list_skus():
             point = sku_info(s)["reorder_point"]
             level = stock_level(s)
             if level < point:
                 place_order(s, 2 * point - level, "south")
         answer = order_total()
         """, {"tol": 0.01}),
        ("balance-hex", "Move units of SKU HX-210 between the sites so that both hold the "
         "same number (if the total is odd, north keeps the extra unit). Answer with the "
         "new levels as a dict {site: units}.",
         """
         north, south = stock_level("HX-210", "north"), stock_level("HX-210", "south")
         target_south = (north + south) // 2
         if south < target_south:
             answer = move_stock("HX-210", target_south - south, "north", "south")
         elif south > target_south:
             answer = move_stock("HX-210", south - target_south, "south", "north")
         else:
             answer = {"north": north, "south": south}
         """, {}),
        ("top-category", "Which category has the highest total stock value (units at both "
         "sites times unit cost)? Answer with the category name.",
         """
         value = {}
         for s in list_skus():
             info = sku_info(s)
             cat = info["category"]
             value[cat] = value.get(cat, 0) + stock_level(s) * info["unit_cost"]
         answer = max(value, key=value.get)
         """, {"unique": "value"}),
        ("south-can-ship", "A customer orders 40 units of GL-330 and 25 units of PT-115, to "
         "be shipped from the south site only. Can the south site fill the whole order "
         "from its current stock without any transfer? Answer true or false.",
         """
         order = {"GL-330": 40, "PT-115": 25}
         answer = all(stock_level(s, "south") >= q for s, q in order.items())
         """, {}),
    ]
    return [make_task(DOMAIN, name, prompt, code, make_tools, **opts)
            for name, prompt, code, opts in tasks]
