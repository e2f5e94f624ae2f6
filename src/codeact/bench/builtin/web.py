"""Domain ``web``: a tiny fixed web of pages about fictional coastal towns."""

from __future__ import annotations

import re
from collections import deque

from codeact.bench.builtin._common import Toolbox, tasks_for, unique_best
from codeact.bench.task import Task

_TOWNS = {
    # name: (population, founded, mayor, feature)
    "Saltmere": (5230, 1712, "Ada Brook", "a lighthouse on the northern cliff"),
    "Kellow": (1890, 1654, "Tom Reyes", "a fish market every Friday"),
    "Brinewick": (12480, 1803, "Mira Sand", "a shipyard and a naval museum"),
    "Dunhaven": (760, 1598, "Olu Grant", "ruins of a Norman chapel"),
    "Portlyn": (8315, 1761, "Kai Moreno", "a ferry to the islands"),
    "Gullsby": (3402, 1689, "Edda Holm", "a lighthouse museum and a seal colony"),
}


def _slug(name: str) -> str:
    return "wiki/" + name.lower()


def _build() -> dict[str, dict]:
    pages: dict[str, dict] = {
        "home": {"title": "Coastal Wiki", "text": "Welcome to the Coastal Wiki, a guide to "
                 "the towns of the Amber Coast.",
                 "links": ["wiki/towns", "wiki/history", "wiki/about"]},
        "wiki/about": {"title": "About this wiki", "text": "Written by volunteers.",
                       "links": []},
        "wiki/history": {"title": "History of the Amber Coast", "text": "The oldest "
                         "settlement is described on its own page. Trade grew in the 1700s.",
                         "links": ["wiki/dunhaven", "wiki/trade"]},
        "wiki/trade": {"title": "Coastal trade", "text": "Salt, fish and timber were traded "
                       "through Brinewick and Portlyn.",
                       "links": ["wiki/brinewick", "wiki/portlyn", "archive/ledgers"]},
        "archive/ledgers": {"title": "Old trade ledgers", "text": "Scanned ledgers from "
                            "1790 to 1850.", "links": []},
        "wiki/towns": {"title": "Towns of the Amber Coast", "text": "Every town has its own "
                       "page.", "links": [_slug(n) for n in _TOWNS]},
        "unlisted/cove": {"title": "Hidden cove", "text": "A page no other page links to.",
                          "links": ["home"]},
    }
    names = list(_TOWNS)
    for i, (name, (pop, founded, mayor, feature)) in enumerate(_TOWNS.items()):
        neighbour = names[(i + 1) % len(names)]
        links = [_slug(neighbour), "wiki/towns"]
        if name == "Portlyn":
            links.append("wiki/ferry")
        pages[_slug(name)] = {
            "title": name,
            "text": f"{name} is a town on the Amber Coast, known for {feature}. "
                    f"Population: {pop}. Founded: {founded}. Mayor: {mayor}.",
            "links": links,
        }
    pages["wiki/ferry"] = {"title": "Island ferry", "text": "The ferry leaves Portlyn at "
                           "09:15 and 16:40 and takes 55 minutes.", "links": []}
    return pages


PAGES = _build()


def _get(url: str) -> dict:
    u = url.strip().strip("/")
    if u not in PAGES:
        raise KeyError(f"404: no page at {url!r}")
    return PAGES[u]


def fetch_page(url: str) -> str:
    """The page at `url` (e.g. "home", "wiki/towns") as text: title, body and its links."""
    p = _get(url)
    links = "\n".join(f"- {link}" for link in p["links"]) or "(none)"
    return f"# {p['title']}\n\n{p['text']}\n\nLinks:\n{links}"


def get_links(url: str) -> list[str]:
    """The urls that the page at `url` links to, in page order."""
    return list(_get(url)["links"])


def page_title(url: str) -> str:
    """The title of the page at `url`."""
    return _get(url)["title"]


def search_pages(query: str) -> list[str]:
    """Urls of pages whose title or text contains `query` (case-insensitive), sorted."""
    q = query.strip().lower()
    return sorted(u for u, p in PAGES.items() if q in (p["title"] + " " + p["text"]).lower())


TOOLS = [fetch_page, get_links, page_title, search_pages]


def _fact(t: Toolbox, url: str, key: str, value: str = r": ([^.]+)\.") -> str:
    m = re.search(key + value, t.fetch_page(url))
    if not m:
        raise ValueError(f"{key} not on {url}")
    return m.group(1)


def _towns(t: Toolbox) -> list[str]:
    return t.get_links("wiki/towns")


def _reachable(t: Toolbox, start: str = "home") -> dict[str, int]:
    dist = {start: 0}
    queue = deque([start])
    while queue:
        u = queue.popleft()
        for v in t.get_links(u):
            if v not in dist:
                dist[v] = dist[u] + 1
                queue.append(v)
    return dist


def _pop(t: Toolbox, url: str) -> int:
    return int(_fact(t, url, "Population"))


SPECS = [
    ("home-title", "What is the title of the page at 'home'?", lambda t: t.page_title("home")),
    ("home-links", "How many links does the page 'home' have?",
     lambda t: len(t.get_links("home"))),
    ("first-link-title", "Open the page 'home', follow its first link, and give the title of "
     "the page you land on.", lambda t: t.page_title(t.get_links("home")[0])),
    ("population", "What is the population of Saltmere, according to its page "
     "'wiki/saltmere'?", lambda t: _pop(t, "wiki/saltmere")),
    ("total-population", "What is the combined population of all towns linked from the page "
     "'wiki/towns'?", lambda t: sum(_pop(t, u) for u in _towns(t))),
    ("oldest-town", "Among the towns linked from 'wiki/towns', which was founded earliest? "
     "Answer with the town name.",
     lambda t: t.page_title(unique_best(_towns(t), key=lambda u: int(_fact(t, u, "Founded"))))),
    ("reachable-count", "How many distinct pages can be reached from 'home' by following "
     "links (count 'home' itself)?", lambda t: len(_reachable(t))),
    ("click-distance", "What is the minimum number of link clicks needed to get from 'home' to "
     "'wiki/ferry'?", lambda t: _reachable(t)["wiki/ferry"]),
    ("lighthouse", "Which town pages mention a lighthouse? Answer with the list of town "
     "names sorted alphabetically.",
     lambda t: sorted(t.page_title(u) for u in t.search_pages("lighthouse")
                      if u in _towns(t))),
    ("big-towns", "How many towns linked from 'wiki/towns' have a population above 5000?",
     lambda t: sum(1 for u in _towns(t) if _pop(t, u) > 5000)),
    ("towns-by-population", "List the names of the towns linked from 'wiki/towns', ordered "
     "from largest to smallest population.",
     lambda t: [t.page_title(u) for u in sorted(_towns(t), key=lambda u: -_pop(t, u))]),
    ("backlinks", "How many pages in the wiki link to 'wiki/towns'? Consider every page "
     "reachable from 'home'.",
     lambda t: sum(1 for u in _reachable(t) if "wiki/towns" in t.get_links(u))),
    ("avg-founded", "What is the average founding year of the towns linked from "
     "'wiki/towns'? Round to 1 decimal place.",
     lambda t: round(sum(int(_fact(t, u, "Founded")) for u in _towns(t)) / len(_towns(t)), 1)),
    ("dead-ends", "Which pages reachable from 'home' have no links at all? Answer with the "
     "list of their urls sorted alphabetically.",
     lambda t: sorted(u for u in _reachable(t) if not t.get_links(u))),
    ("largest-mayor", "Who is the mayor of the most populous town linked from 'wiki/towns'?",
     lambda t: _fact(t, unique_best(_towns(t), key=lambda u: _pop(t, u), largest=True),
                     "Mayor")),
    ("ferry-times", "Starting from the page 'wiki/portlyn', follow its link about the ferry. "
     "How long does the ferry trip take, in minutes?",
     lambda t: int(_fact(t, "wiki/ferry", "takes", r" (\d+) minutes"))),
]


def load() -> list[Task]:
    return tasks_for("web", TOOLS, SPECS)
