"""An example third-party benchmark suite for ``codeact bench``.

Run it from the repository root (the current directory is importable):

    codeact bench --suite examples.browser_suite:load --format code,json,text

or from anywhere with ``PYTHONPATH=/path/to/examples codeact bench --suite
browser_suite:load``. An installed package can instead register an entry point::

    [project.entry-points."codeact.bench_suites"]
    browser = "my_pkg.browser_suite:load"

and run ``codeact bench --suite browser``.

It shows what third-party tools usually look like and what the interface accepts:

- a *stateful* simulated browser (current page, scroll position) created fresh for every
  task and format by a tool factory; the tools run in the host in every format (the code
  format's kernel calls them over the tool bridge), so the state behaves the same;
- tools given as plain callables with a description string and a signature string
  instead of docstrings and type hints, one of them taking ``*args``;
- a task with its own checker, and a task with a reset hook.
"""

from __future__ import annotations

SITE = {
    "/": ("Home", ["Welcome to Example Mart.", "Departments: garden, kitchen.",
                   "Opening hours are on the help page."], ["/garden", "/kitchen", "/help"]),
    "/garden": ("Garden", ["Hose (20 m): 24.99", "Rake: 12.50", "Trowel: 6.75",
                           "Watering can: 9.20", "Seed pack: 2.10"], ["/"]),
    "/kitchen": ("Kitchen", ["Kettle: 31.00", "Toaster: 27.45", "Whisk: 3.99"], ["/"]),
    "/help": ("Help", ["Open Monday to Saturday, 9:00 to 18:00.", "Closed on Sundays."],
              ["/"]),
}
LINES_PER_SCREEN = 2


class Browser:
    """A tiny text browser: one page open at a time, two lines visible, scrollable."""

    def __init__(self) -> None:
        self.url = "/"
        self.offset = 0

    def _screen(self) -> str:
        title, lines, links = SITE[self.url]
        visible = lines[self.offset:self.offset + LINES_PER_SCREEN]
        more = self.offset + LINES_PER_SCREEN < len(lines)
        return (f"[{title}] {self.url}\n" + "\n".join(visible)
                + ("\n(scroll down for more)" if more else "\n(end of page)")
                + "\nlinks: " + ", ".join(links))

    def open(self, url):
        if url not in SITE:
            return f"404 not found: {url}"
        self.url, self.offset = url, 0
        return self._screen()

    def click(self, *args):
        # third-party style: positional args only, the link text or its index
        if not args:
            return "usage: click(link) or click(index)"
        links = SITE[self.url][2]
        target = args[0]
        if isinstance(target, int) and 0 <= target < len(links):
            return self.open(links[target])
        return self.open(str(target))

    def scroll(self, lines=LINES_PER_SCREEN):
        total = len(SITE[self.url][1])
        self.offset = max(0, min(self.offset + int(lines), max(0, total - 1)))
        return self._screen()


def browser_tools():
    """A fresh browser and its tools, for one run (the interface calls this per run)."""
    b = Browser()
    return [
        {"name": "open_page", "fn": b.open, "signature": "(url: str) -> str",
         "description": "Open the page at `url` (e.g. '/garden') and show its first screen."},
        {"name": "click", "fn": b.click, "signature": "(*args) -> str",
         "description": "Follow a link of the current page: click('/help') or click(0)."},
        ("scroll", b.scroll, "Scroll the current page by `lines` lines (default 2) and "
         "show the new screen.", "(lines: int = 2) -> str"),
    ]


VISITS: list[str] = []


def _reset_visits() -> None:
    VISITS.clear()


def _prices(url: str) -> dict[str, float]:
    return {line.split(":")[0]: float(line.split(":")[1]) for line in SITE[url][1]}


def _cheapest_checker(answer, ctx):
    """Accept the item name with or without its size note, e.g. 'Seed pack'."""
    if not answer:
        return False, "no answer"
    ok = answer.strip().lower().startswith(ctx.expected.lower())
    return ok, "" if ok else f"expected {ctx.expected!r}"


def load():
    """The suite: a list of task dicts (Task objects work too)."""
    garden = _prices("/garden")
    return [
        {"name": "browser/garden-count", "domain": "browser",
         "instruction": "Open '/garden' and scroll through the whole page. How many items "
                        "are listed?",
         "tools": browser_tools, "expected": len(garden)},
        {"name": "browser/garden-total", "domain": "browser",
         "instruction": "What is the total price of all items listed on '/garden'? "
                        "Scroll to see them all. Round to 2 decimals.",
         "tools": browser_tools, "expected": round(sum(garden.values()), 2)},
        {"name": "browser/cheapest", "domain": "browser",
         "instruction": "Which item on '/garden' is the cheapest? Answer with its name.",
         "tools": browser_tools, "expected": min(garden, key=garden.get),
         "checker": _cheapest_checker},
        {"name": "browser/sunday", "domain": "browser",
         "instruction": "Starting from the home page '/', follow the link to the help page. "
                        "Is the shop open on Sundays? Answer yes or no.",
         "tools": browser_tools, "expected": False, "reset": _reset_visits},
    ]
