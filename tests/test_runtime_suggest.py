"""Did-you-mean notes: on the host with real exceptions, and in a real sandboxed kernel."""

from __future__ import annotations

import sys
from typing import Any

from codeact.agent.observe import render_observation
from codeact.runtime import suggest
from codeact.runtime.suggest import annotate, close_match, note_for


def _note(code: str, namespace: dict[str, Any] | None = None) -> str | None:
    ns: dict[str, Any] = {} if namespace is None else namespace
    try:
        exec(code, ns)
    except Exception as exc:
        return note_for(exc, sys.exc_info()[2], ns)
    raise AssertionError("the code did not fail")


def test_close_match_prefers_a_case_difference_then_similarity():
    assert close_match("mrna_seq", ["seq", "mRNA_seq", "mrna_seqs"]) == "mRNA_seq"
    assert close_match("totl", ["total", "tool"]) == "total"
    assert close_match("zzz", ["alpha", "beta"]) is None
    assert close_match("x", [1, None, "x"]) is None  # itself is no suggestion


def test_names_attributes_and_keys_get_their_fix():
    assert _note("mRNA_seq = 'AUG'\nprint(mrna_seq)") == "Did you mean: 'mRNA_seq'?"
    assert _note("lenn([1])") == "Did you mean: 'len'?"
    assert _note("code = 'w686y666'\nprint(w686y666)") == (
        "`w686y666` is not a variable: it is the text held by the variable `code`. Use "
        "code, or write the text in quotes: 'w686y666'.")
    assert _note("import math\nmath.sqr(2)") == "Did you mean: 'sqrt'?"
    assert _note("d = {'k': 1}\nd.k") == \
        "'k' is a key of this dict, not an attribute: use ['k']."
    assert _note("prices = {'apple': 1}\nprices['aple']") == \
        "Did you mean the key 'apple' of `prices`?"
    assert _note("cfg = {'a': 1, 'b': 2}\ncfg['zzz']") == "The keys of `cfg` are: 'a', 'b'."
    assert _note("big = {str(i): i for i in range(50)}\nbig['zzz']") is None
    assert _note("rows = {'order_id': 1, 'date': 2, 'units': 3}\nrows['transaction_date']") \
        == ("'transaction_date' is not a key of `rows`. Did you mean the key 'date'? Its "
            "keys are: 'order_id', 'date', 'units'.")
    assert _note("1 / 0") is None
    assert _note("print(nothing_like_it_anywhere)") is None


def test_a_called_name_that_is_no_tool_lists_the_tools():
    exc = NameError("name 'get_price' is not defined", name="get_price")
    assert note_for(exc, None, {}, ["convert_mass", "exchange_rate"]) == (
        "Nothing defines `get_price`: it is no variable or function of yours and none of "
        "your tools. The tools you have are: convert_mass, exchange_rate.")
    many = [f"tool_{i}" for i in range(20)]
    assert note_for(exc, None, {}, many).endswith("tool_10, tool_11 and 8 more.")
    close = NameError("name 'convert_mas' is not defined", name="convert_mas")
    assert note_for(close, None, {"convert_mass": len}, ["convert_mass"]) == \
        "Did you mean: 'convert_mass'?"


def test_a_call_with_wrong_arguments_gets_the_signature_and_the_doc():
    # seen: `sympy.prime()` re-sent without the `nth` it needs
    assert _note("import json\njson.dumps()").startswith(
        "The call must match `json.dumps(obj, *, skipkeys=False")
    assert _note("def area(w, h):\n    'Width times height.'\n    return w * h\n"
                 "area(3)") == "The call must match `area(w, h)`: Width times height."
    # a method through the instance the cell used: no `self`
    assert _note("from collections import Counter\nc = Counter('aab')\n"
                 "c.most_common(1, 2)").startswith("The call must match `c.most_common(n=None)`")
    assert _note("class Box:\n    def __init__(self, size): pass\nBox()") == \
        "The call must match `Box(size)`."
    assert _note("len(1, 2)") == \
        "The call must match `len(obj, /)`: Return the number of items in a container."
    long = _note("def f(a):\n    " + repr("word " * 100) + "\nf()")
    assert long is not None and long.endswith(" ...") and len(long) < 300


def test_a_type_error_that_is_no_bad_call_of_the_cell_gets_no_note():
    assert _note("'a' + 1") is None
    assert _note("def inner(x):\n    return x()\ndef outer():\n    return inner(1)\n"
                 "outer()") is None  # raised inside a function, not by the cell's call
    namespace: dict[str, Any] = {}
    try:
        exec("def lookup(key):\n    return key\nlookup()", namespace)
    except TypeError as exc:  # a tool has its own note (the agent's tool_reminder)
        assert note_for(exc, sys.exc_info()[2], namespace, ["lookup"]) is None


def test_an_iterator_indexed_or_sliced_is_told_to_make_a_list_first():
    """Seen: `sympy.primerange(1, 1000)[:100]` re-sent three times with the error alone."""
    note = _note("found = (p for p in range(9))\nfound[:3]")
    assert note is not None and note.startswith("A generator object cannot be indexed")
    assert "`list(...)[:n]`" in note
    assert "A map object" in (_note("map(str, [1, 2])[0]") or "")
    assert "dict_keys" in (_note("{'a': 1}.keys()[0]") or "")
    assert "list(" not in (_note("x = None\nx[0]") or "")  # not an iterator: no such fix


def _note_with_source(code: str) -> str | None:
    """Like _note, but with the source in linecache, as IPython keeps a cell's."""
    return _note_with_source_in(code, {})


def test_errors_a_value_causes_show_the_values_on_the_failing_line():
    # seen: a list of three names multiplied by 0.07, re-sent six times
    assert _note_with_source(
        "employees = ['Liam Walsh', 'Nora Quinn', 'Pavel Ivanov']\nrate = 0.07\n"
        "def cost():\n    staff = employees\n    return staff * rate\ncost()") == (
        "Values on the failing line: staff = ['Liam Walsh', 'Nora Quinn', 'Pavel Ivanov'] "
        "(list of 3 str); rate = 0.07 (float).")
    assert _note_with_source("nights = 0\nprice = 1052.0\nprice / nights") == \
        "Values on the failing line: price = 1052.0 (float); nights = 0 (int)."
    assert _note_with_source("items = []\nprint('items[0]', items[0])") == \
        "Values on the failing line: items = [] (list of 0)."  # nothing from the string
    assert _note_with_source("page = None\npage.find_all('a')") == \
        "Values on the failing line: page = None (NoneType)."
    assert _note_with_source("raise ValueError('mine')") is None  # no variable on the line
    long = _note_with_source("text = 'x' * 500\nint(text)")
    assert long is not None and len(long) < 200 and "(str)" in long


def test_a_failed_bare_assert_shows_what_its_sides_held():
    # seen: a right function, a wrong expected value, the same test re-sent seven turns
    code = ("def vowels(s):\n    return sum(c in 'aeiou' for c in s)\n"
            "word = 'quick'\nassert vowels(word) == 1")
    assert _note_with_source(code) == (
        "The assert failed: vowels(word) = 2 (int). Check which is wrong, the code or the "
        "value the assert expects: work the example out by hand.")
    both = _note_with_source("want = [1, 2]\nassert sorted([2, 1, 3]) == want")
    assert both == ("The assert failed: sorted([2, 1, 3]) = [1, 2, 3] (list of 3 int); "
                    "want = [1, 2] (list of 2 int). Check which is wrong, the code or the "
                    "value the assert expects: work the example out by hand.")
    pure = _note_with_source("import math\ndef hyp(a, b):\n    parts = [a * a]\n"
                             "    parts.append(b * b)\n    return ', '.join(map(str, parts)) "
                             "+ str(math.sqrt(sum(parts)))\nassert hyp(3, 4) == '9, 16'")
    assert pure is not None and pure.startswith("The assert failed: hyp(3, 4) = '9, 165.0'")
    assert _note_with_source("assert 1 == 2") is None  # the line shows both sides
    assert _note_with_source("x = 3\nassert x == 4, 'x is off'") == (  # its own message
        "The assert failed: x = 3 (int). Check which is wrong, the code or the value the "
        "assert expects: work the example out by hand.")


def test_an_assert_is_not_evaluated_again_where_that_could_have_effects():
    calls: list[int] = []
    ns = {"calls": calls}
    code = ("def tick():\n    calls.append(1)\n    return len(calls)\n"
            "assert tick() == 5")
    # a method call (calls.append) is no function of the model's: not called again
    assert _note_with_source_in(code, ns) is None and calls == [1]
    tool_user = ("def buy(n):\n    return n\ndef total():\n    return buy(2)\n"
                 "assert total() == 3")
    assert _note_with_source_in(tool_user, {}, tools=["buy"]) is None  # it calls a tool
    assert _note_with_source_in("assert print('x') == 1", {}) is None  # no pure builtin
    # indexing a defaultdict stores the key: not evaluated again, nothing added
    from collections import Counter, defaultdict
    counts: defaultdict[str, int] = defaultdict(int)
    assert _note_with_source_in("assert counts['x'] == 2", {"counts": counts}) is None
    assert dict(counts) == {"x": 0}  # only the cell's own read stored it
    counts.clear()
    shown = _note_with_source_in("assert tally['x'] == 2", {"tally": Counter("xyz")})
    assert shown is not None and "tally['x'] = 1" in shown  # a Counter only reads
    own = ("class Log:\n    def __init__(self):\n        self.asked = []\n"
           "    def __getitem__(self, k):\n        self.asked.append(k)\n        return 0\n"
           "log = Log()\nassert log['a'] == 1")
    ns: dict[str, Any] = {}
    assert _note_with_source_in(own, ns) is None and ns["log"].asked == ["a"]


def _note_with_source_in(code: str, ns: dict[str, Any], tools: list[str] | None = None
                         ) -> str | None:
    """:func:`_note_with_source` in the namespace ``ns``, with these tool names."""
    import linecache

    filename = f"/tmp/ipykernel_0/{abs(hash(code))}.py"
    linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)
    try:
        exec(compile(code, filename, "exec"), ns)
    except Exception as exc:
        return note_for(exc, sys.exc_info()[2], ns, tools)
    raise AssertionError("the code did not fail")


def test_describe_value_is_short_and_says_the_kind():
    from codeact.runtime.suggest import describe_value

    assert describe_value({"a": 1, "b": 2}) == "{'a': 1, 'b': 2} (dict of 2 keys)"
    assert describe_value([1, "a"]) == "[1, 'a'] (list of 2)"
    assert describe_value(list(range(100))).endswith("(list of 100 int)")
    assert len(describe_value(list(range(100)))) < 80


def test_a_missing_file_gets_a_close_name_or_the_files_there(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert _note("open('hotels.csv')") == ("the working directory has no files: the data "
                                           "for this task is not in a file here; take it "
                                           "from the task text.")
    try:
        open("hotels.csv")
    except FileNotFoundError as exc:
        assert note_for(exc, None, {}, ["search_hotels"]) == (
            "the working directory has no files. The task's data comes from your tools, "
            "already defined: search_hotels.")  # not callable here: no call to name
    (tmp_path / "sales.csv").write_text("a\n")
    (tmp_path / "notes.txt").write_text("a\n")
    assert _note("open('Sales.csv')") == "Did you mean: 'sales.csv'?"
    assert _note("open('hotels.csv')") == "The files in the working directory are: " \
                                          "'notes.txt', 'sales.csv'."
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "towns.json").write_text("{}")
    assert _note("open('data/town.json')") == "Did you mean: 'data/towns.json'?"
    assert _note("open('nowhere/x.csv')") is None  # no such folder: nothing to list
    for i in range(20):
        (tmp_path / f"f{i}.txt").write_text("")
    assert _note("open('zzz.csv')") is None  # too many to list, none close


def test_a_name_that_is_a_file_of_the_workspace_says_to_read_it(tmp_path, monkeypatch):
    # seen: `sum(... for x in catalog['items'])` with `catalog.json` never read, twice,
    # told to quote 'catalog' as text
    monkeypatch.chdir(tmp_path)
    assert _note("catalog['items']") is None
    (tmp_path / "catalog.json").write_text("{}")
    assert _note("total = sum(x['price'] for x in catalog['items'])") == (
        "Nothing defines `catalog`: the working directory has the file 'catalog.json', "
        "which no cell has read yet. Read it into a variable first: "
        "`import json; catalog = json.load(open('catalog.json'))`.")
    (tmp_path / "orders.tsv").write_text("a\n")
    (tmp_path / "README").write_text("a\n")
    assert _note("orders.head()").endswith(
        "`import pandas as pd; orders = pd.read_csv('orders.tsv', sep='\\t')`.")
    assert _note("print(README)").endswith("`README = open('README').read()`.")
    # two files with that stem: which one is meant is not known
    (tmp_path / "catalog.csv").write_text("a\n")
    assert _note("catalog['items']") is None
    # a close variable of the model's wins over a file: it has read it already
    assert _note("orders_df = [1]\norders") == "Did you mean: 'orders_df'?"


def _file_note_with_tools(path: str, tools: dict[str, Any]) -> str | None:
    try:
        open(path)
    except FileNotFoundError as exc:
        return note_for(exc, None, dict(tools), list(tools))
    raise AssertionError("the file exists")


def test_a_missing_file_in_a_tools_task_names_a_first_call(tmp_path, monkeypatch):
    # seen: `hotels.csv` read for nine turns, `recipes.csv` for six, under a note that
    # only listed the tools; a small model copies a call it is shown
    monkeypatch.chdir(tmp_path)

    def list_cities() -> list: ...
    def search_hotels(city: str, max_stars: int = 5) -> list: ...
    def hotel_total(hotel_id: str, nights: int) -> float: ...
    def get_flight(*args): ...

    tools = {"search_hotels": search_hotels, "hotel_total": hotel_total,
             "get_flight": get_flight, "list_cities": list_cities}
    listed = ("the working directory has no files. The task's data comes from your "
              "tools, already defined: search_hotels, hotel_total, get_flight, list_cities.")
    hotel_calls = ("`search_hotels(city: str, max_stars: int = 5) -> list` or "
                   "`hotel_total(hotel_id: str, nights: int) -> float`.")
    # what the tools named like the file take (a city) comes from a no-argument tool first
    assert _file_note_with_tools("hotels.csv", tools) == listed + (
        " Call them instead of reading files: start with `print(list_cities())`, then "
        + hotel_calls)
    # a folder that does not exist is the same missing data; `*args` needs arguments
    assert _file_note_with_tools("data/Flights.json", tools) == listed + (
        " Call them instead of reading files: start with `get_flight(*args)`.")
    # a no-argument tool named like the file comes first
    def list_hotels() -> list: ...
    assert _file_note_with_tools("hotels.csv", {**tools, "list_hotels": list_hotels}) \
        .endswith("start with `print(list_hotels())`, then " + hotel_calls)
    # a no-argument tool unrelated to the file is no start (seen: `member_ids()` named for
    # `books.csv`, and the run went after members)
    def member_ids() -> list: ...
    def books_by_genre(genre: str) -> list: ...
    assert _file_note_with_tools("books.csv", {"member_ids": member_ids,
                                               "books_by_genre": books_by_genre}) \
        .endswith("start with `books_by_genre(genre: str) -> list`.")
    # nothing named like the file: any no-argument tool is a start
    assert _file_note_with_tools("prices.csv", tools).endswith(
        "start with `print(list_cities())`.")
    assert _file_note_with_tools("weather.csv", {"get_flight": get_flight}) == (
        "the working directory has no files. The task's data comes from your tools, "
        "already defined: get_flight.")
    (tmp_path / "notes.txt").write_text("a\n")  # files here: they are what to read
    assert _file_note_with_tools("data/x.csv", tools) is None


TOOLS_SOURCE = """
LOTS = {101: {'reserve': 50}}
def list_lots() -> list:
    return list(LOTS)
def lot_details(lot: int) -> dict:
    if int(lot) not in LOTS:
        raise KeyError(f"no lot {lot!r}")
    return LOTS[int(lot)]
def list_carriers() -> list:
    return ['DHL']
def quote(carrier: str, parcel_id: str) -> float:
    if parcel_id == 'P9':
        raise ValueError('no service today')
    if parcel_id == 'P8':
        raise ValueError(f'{carrier} takes at most 30 kg')
    if carrier not in list_carriers():
        raise ValueError(f'unknown carrier {carrier!r} for {parcel_id!r}')
    return 1.0
"""


def _tools_namespace() -> tuple[dict[str, Any], list[str]]:
    """Tools defined outside the cell (as the kernel's are), and their names."""
    ns: dict[str, Any] = {}
    exec(compile(TOOLS_SOURCE, "tools.py", "exec"), ns)
    return ns, ["list_lots", "lot_details", "list_carriers", "quote"]


def test_a_value_a_tool_refused_names_the_tool_that_lists_its_values():
    # seen: lots 1 and 2 tried for five turns, `list_lots()` never called
    ns, tools = _tools_namespace()
    assert _note_with_source_in("lot_details(1)", dict(ns), tools) == (
        "`lot_details` has no lot 1: take the lot values from `list_lots()` (print it "
        "first), then pass one of those.")
    assert _note_with_source_in("n = 7\nx = lot_details(lot=n)['reserve']", dict(ns),
                                tools).startswith("`lot_details` has no lot 7:")
    # no tool lists them: the mapping notes as before; a value the message does not name
    # (the tool failed for another reason) gets no such note
    assert _note_with_source_in("lot_details(1)", dict(ns), ["lot_details"]) != \
        _note_with_source_in("lot_details(1)", dict(ns), tools)
    assert "has no" not in (_note_with_source_in("quote('DHL', 'P9')", dict(ns), tools) or "")
    # a ValueError is about a value the tool does not know only when it says so
    assert "has no" not in (_note_with_source_in("quote('DHL', 'P8')", dict(ns), tools) or "")
    assert _note_with_source_in("quote('UPS', 'P1')", dict(ns), tools) == (
        "`quote` has no carrier 'UPS': take the carrier values from `list_carriers()` "
        "(print it first), then pass one of those.")


def test_a_parameter_name_used_as_a_value_is_called_a_parameter():
    # seen: `quote(carrier, parcel_id)`, then told to write 'carrier' in quotes
    ns, tools = _tools_namespace()
    assert _note_with_source_in("for p in ['P1']:\n    quote(carrier, p)", dict(ns),
                                tools) == (
        "`carrier` is a parameter of the tool `quote(carrier: str, parcel_id: str) -> "
        "float`, not a value you have: pass a real carrier. `list_carriers()` gives them: "
        "print it first, then use its values.")
    assert _note_with_source_in("quote(carrier, 'P1')", dict(ns), ["quote"]).endswith(
        "pass a real carrier.")


def test_a_name_used_without_its_import_gets_the_import():
    assert _note("buf = StringIO('a')") == "`StringIO` is not imported: add `from io import " \
        "StringIO`."
    assert _note("d = defaultdict(int)") == "`defaultdict` is not imported: add `from " \
        "collections import defaultdict`."
    assert _note("math.sqrt(2)") == "`math` is not imported: add `import math`."
    assert _note("datetime.now()") == "`datetime` is not imported: add `import datetime` " \
        "(the module) or `from datetime import datetime`."
    assert _note("print(e)") is None  # a short name: more likely a variable never set
    # seen on HumanEval: the task's `List[int]` without its import was told "Did you mean
    # 'list'?" four times; an exported name comes before a close spelling
    assert _note("hint = List[int]") == \
        "`List` is not imported: add `from typing import List`."
    assert _note("counter = 1\nCounter('ab')") == \
        "`Counter` is not imported: add `from collections import Counter`."


def test_an_installed_package_or_its_usual_alias_gets_its_import(monkeypatch):
    assert _note("pytest.fail('x')") == "`pytest` is not imported: add `import pytest`."
    monkeypatch.setitem(suggest.CONVENTIONAL_ALIASES, "pt", "pytest")
    assert _note("pt.fail('x')") == "`pt` is not imported: add `import pytest as pt`."
    monkeypatch.setitem(suggest.CONVENTIONAL_ALIASES, "nm", "no_such_package_here")
    assert _note("nm.x") is None  # an alias whose package is not installed


def test_a_missing_module_gets_a_close_name_or_the_tools():
    assert _note("import colections") == "Did you mean: 'import collections'?"
    assert _note("import no_such_module_anywhere") == \
        "`no_such_module_anywhere` is not installed in this kernel: use the packages that are."
    exc = ModuleNotFoundError("No module named 'no_such_http'", name="no_such_http")
    assert note_for(exc, None, {}, ["fetch_page", "get_links"]) == (
        "`no_such_http` is not installed in this kernel. The task's data comes from your "
        "tools, already defined: fetch_page, get_links.")
    assert _note("import json.nothing_here") is None  # the package is there


def test_annotate_adds_the_note_once_and_never_raises():
    exc = NameError("name 'lenn' is not defined", name="lenn")
    annotate(exc, None, {})
    annotate(exc, None, {})
    assert exc.__notes__ == ["Did you mean: 'len'?"]

    class Hostile:
        def __dir__(self):
            raise RuntimeError("no")

    bad = AttributeError("x", name="x", obj=Hostile())
    annotate(bad, None, {})
    assert not hasattr(bad, "__notes__")


def test_the_kernel_shows_the_note_under_the_error(session):
    obs = session.execute("frame = pd.DataFrame()")  # pandas not imported yet
    assert render_observation(obs).splitlines()[-1] == \
        "`pd` is not imported: add `import pandas as pd`."
    obs = session.execute("mRNA_seq = 'AUG'\nlen(mrna_seq)")
    text = render_observation(obs)
    assert text.splitlines()[-2:] == ["NameError: name 'mrna_seq' is not defined",
                                      "Did you mean: 'mRNA_seq'?"]
    obs = session.execute("import pandas as pd\ndf = pd.DataFrame({'price': [1]})\n"
                          "df['prices']")
    assert render_observation(obs).endswith("Did you mean the key 'price' of `df`? The line "
                                            "would read: `df['price']`.")
    obs = session.execute("sales = pd.DataFrame({'date': ['2024-07-01'], 'units': [3]})\n"
                          "sales['transaction_date']")
    assert render_observation(obs).splitlines()[-1] == (
        "'transaction_date' is not a key of `sales`. Did you mean the key 'date'? Its keys "
        "are: 'date', 'units'.")
    obs = session.execute("def info(sku):\n    return {'weight_kg': 2.5}\n"
                          "for s in ['A1']:\n    w = info(s)['unit_weight']")
    assert render_observation(obs).splitlines()[-1] == (
        "What `info(s)` returned has no key 'unit_weight'. Print it once (print(info(s)); "
        "`s` holds 'A1' now) to see the keys it has, then use one of them.")
    obs = session.execute("orders = pd.DataFrame({'order_id': [1], 'total': [9.5]})\n"
                          "refunds = pd.DataFrame({'order_id': [1], 'amount': [2.0]})\n"
                          "net = orders['total'] - refunds['total']")
    assert render_observation(obs).splitlines()[-1] == \
        "The keys of `refunds` are: 'order_id', 'amount'."
    obs = session.execute("cust = pd.DataFrame({'customer_id': [1], 'tier': ['b']})\n"
                          "orders = pd.DataFrame({'order_id': [7], 'customer': [1]})\n"
                          "cust.groupby('customer_id')['order_id'].count()")
    assert render_observation(obs).splitlines()[-1] == (
        "'order_id' is a key of `orders`, not of `cust`. The keys of `cust` are: "
        "'customer_id', 'tier'. To use columns of both, merge `cust` with `orders` first.")
    obs = session.execute("books = [{'id': 'B1', 'year': 1965}]\nprint(books[0]['author'])")
    assert render_observation(obs).splitlines()[-1] == \
        "`books[0]` has no key 'author'. Its keys are: 'id', 'year'."
    obs = session.execute("import pandas as pd\npd.read_csv('hotels.csv')")
    assert "FileNotFoundError" in render_observation(obs)
    assert render_observation(obs).splitlines()[-1].startswith(
        "the working directory has no files")
    session.execute("with open('stock.json', 'w') as f:\n    f.write('{}')")
    obs = session.execute("stock['items']")
    assert render_observation(obs).splitlines()[-1].endswith(
        "Read it into a variable first: `import json; stock = json.load(open('stock.json'))`.")
    obs = session.execute("names = ['Liam Walsh', 'Nora Quinn']\nnames * 0.07")
    assert render_observation(obs).splitlines()[-1] == \
        "Values on the failing line: names = ['Liam Walsh', 'Nora Quinn'] (list of 2 str)."
    obs = session.execute("def double(n):\n    return n + n\nassert double(3) == 9")
    assert render_observation(obs).splitlines()[-1].startswith(
        "The assert failed: double(3) = 6 (int).")
    obs = session.execute("import statistics\nstatistics.mean()")
    assert render_observation(obs).splitlines()[-1].startswith(
        "The call must match `statistics.mean(data)`: Return the sample arithmetic mean")


def test_a_key_that_adds_or_drops_a_word_gets_the_key_with_those_words():
    from codeact.runtime.suggest import word_match

    assert word_match("transaction_date", ["order_id", "date", "region"]) == "date"
    assert word_match("product_name", ["product", "units"]) == "product"
    assert word_match("units", ["units_sold", "unit_price_usd"]) == "units_sold"
    assert word_match("unitsSold", ["units", "unit_price"]) == "units"  # closer share wins
    assert word_match("date", ["order_date", "ship_date"]) is None  # a tie says nothing
    assert word_match("unit_price", ["units_sold"]) is None  # one shared word of two
    assert word_match("customer", ["order_id", 3, None]) is None
    big = {f"col_{i}": i for i in range(40)} | {"total_amount": 1}
    assert _note("big = " + repr(big) + "\nbig['amount']") == \
        "'amount' is not a key of `big`. Did you mean the key 'total_amount'?"


def test_a_key_looked_up_on_what_a_call_returned_says_to_print_that_value():
    tools = "def sku_info(sku):\n    return {'name': sku, 'weight_kg': 2.5}\n"
    assert _note_with_source(tools + "w = sku_info('A1')['unit_weight']") == (
        "What `sku_info('A1')` returned has no key 'unit_weight'. Print it once "
        "(print(sku_info('A1'))) to see the keys it has, then use one of them.")
    loop = "total = 0\nfor s in ['A1']:\n    total += sku_info(s)['unit_weight']"
    assert _note_with_source(tools + loop) == (
        "What `sku_info(s)` returned has no key 'unit_weight'. Print it once "
        "(print(sku_info(s)); `s` holds 'A1' now) to see the keys it has, then use one "
        "of them.")
    block = "for k in sku_info('A1')['parts']:\n    print(k)"  # a line that opens a block
    assert _note_with_source(tools + block).startswith(
        "What `sku_info('A1')` returned has no key 'parts'.")
    # a close key of a stored value still comes first; other keys say nothing of calls
    assert _note_with_source(tools + "info = sku_info('A1')\ninfo['weight_kq']") == \
        "Did you mean the key 'weight_kg' of `info`? The line would read: `info['weight_kg']`."
    assert _note_with_source(tools + "d = {}\nd[sku_info('A1')['name']]") is None


def test_a_key_error_names_the_mapping_that_lacks_the_key():
    # `orders` has 'total': the failed lookup was `refunds['total']`, and a note listing
    # the keys of `orders` (with 'total' among them) would tell the model nothing is wrong
    code = ("orders = {'order_id': 1, 'total': 9.5}\nrefunds = {'order_id': 1, 'amount': 2}\n"
            "net = orders['total'] - refunds['total']")
    assert _note(code) == "The keys of `refunds` are: 'order_id', 'amount'."
    assert _note_with_source(code) == "The keys of `refunds` are: 'order_id', 'amount'."
    # the mapping the failing line names comes before one the cell named earlier
    lines = "a = {'x': 1}\nb = {'y': 2}\nprint(a['x'])\nb['z']"
    assert _note_with_source(lines) == "The keys of `b` are: 'y'."
    # the only mapping in sight has the key: the lookup failed inside a call, no note
    assert _note("m = {'k': 1}\ndef f():\n    raise KeyError('k')\nv = m['k'] + f()") is None


def test_a_key_of_another_mapping_names_the_one_that_has_it():
    import pandas as pd

    # seen: the customers frame grouped by the orders' columns for five turns, told a
    # close key of the customers ('customer_id') and then to print the groupby
    frames = ("customers = pd.DataFrame({'customer_id': [1], 'name': ['A'], 'tier': ['b']})\n"
              "orders = pd.DataFrame({'order_id': [7], 'customer': [1], 'total': [2.0]})\n"
              "bronze = customers[customers['tier'] == 'b']\n")
    assert _note_with_source_in(frames + "bronze.groupby('customer_id')['order_id'].count()",
                                {"pd": pd}) == (
        "'order_id' is a key of `orders`, not of `bronze`. The keys of `bronze` are: "
        "'customer_id', 'name', 'tier'. To use columns of both, merge `bronze` with "
        "`orders` first.")
    assert _note_with_source_in(frames + "bronze.groupby('customer').size()",
                                {"pd": pd}).startswith(
        "'customer' is a key of `orders`, not of `bronze`.")
    # plain dicts: no merge advice; a long key list gives its closest key instead
    wide = {f"col_{i}": i for i in range(30)} | {"unit_prices": 1}
    dicts = f"prices = {{'sku': 1, 'unit_price': 2}}\nrow = {wide!r}\n"
    assert _note_with_source(dicts + "x = row['unit_price']") == (
        "'unit_price' is a key of `prices`, not of `row`. Its closest key is 'unit_prices'.")
    # the holder on the failing line: the model knows it has the key; the other's keys
    assert _note_with_source("a = {'k': 1}\nb = {'j': 2}\nv = a['k'] + b['k']") == \
        "The keys of `b` are: 'j'."


def test_a_key_on_an_item_of_a_list_or_dict_gets_that_items_keys():
    books = "books = [{'id': 'B1', 'title': 'Dune', 'year': 1965}]\n"
    assert _note_with_source(books + "print(books[0]['author'])") == \
        "`books[0]` has no key 'author'. Its keys are: 'id', 'title', 'year'."
    data = "data = {'items': [{'unit_price': 2.5, 'qty': 3}]}\ni = 0\n"
    assert _note_with_source(data + "t = data['items'][i]['price'] * 2") == (
        "`data['items'][i]` has no key 'price'. Did you mean the key 'unit_price'? Its keys "
        "are: 'unit_price', 'qty'.")
    # a container of another class (its __getitem__ may do anything) is not read again
    own = ("class Shelf(list):\n    def __getitem__(self, i):\n        log.append(i)\n"
           "        return {'a': 1}\nlog = []\ns = Shelf()\n")
    ns: dict[str, Any] = {}
    assert _note_with_source_in(own + "x = s[0]['b']", ns) is None and ns["log"] == [0]


def test_pandas_messages_give_the_missing_column():
    import pandas as pd

    from codeact.runtime.suggest import missing_key

    df = pd.DataFrame({"customer_id": [1], "total": [2.0]})
    found = []
    for look in (lambda: df.groupby("total")["customer"], lambda: df[["total", "customer"]],
                 lambda: df[["customer", "x"]], lambda: df["customer"]):
        try:
            look()
        except KeyError as exc:
            found.append(missing_key(exc))
    assert found == ["customer"] * 4
    assert missing_key(KeyError(3)) is None and missing_key(KeyError("a", "b")) is None
    ns = {"pd": pd}
    assert _note_with_source_in("orders = pd.DataFrame({'customer_id': [1], 'n': [2]})\n"
                                "orders.groupby('n')['customer'].sum()", ns) == \
        "Did you mean the key 'customer_id' of `orders`? The line would read: " \
        "`orders.groupby('n')['customer_id'].sum()`."
    # a key quoted twice on the line: which use failed is not known, no line
    assert _note_with_source_in("orders = pd.DataFrame({'customer_id': [1], 'n': [2]})\n"
                                "orders['customer'] + orders['customer']", ns) == \
        "Did you mean the key 'customer_id' of `orders`?"


def test_a_pandas_accessor_on_the_wrong_values_gets_the_conversion():
    import pandas as pd

    # seen: `expenses['date'].dt.month` on a CSV's text dates, told "Did you mean: 'dot'?"
    frame = "e = pd.DataFrame({'date': ['2024-03-01'], 'amount': [2]})\n"
    assert _note_with_source_in(frame + "q = e[e['date'].dt.month == 3]", {"pd": pd}) == (
        "`.dt` needs dates, and `e['date']` holds text (pandas reads the dates of a file as "
        "strings): convert it first: `e['date'] = pd.to_datetime(e['date'])`.")
    assert _note_with_source_in(frame + "e['amount'].str.upper()", {"pd": pd}) == \
        "`.str` needs text, and `e['amount']` holds other values: use " \
        "`e['amount'].astype(str).str`."
    # an attribute that exists and raised on its own gets no close name
    cls = ("class Box:\n    @property\n    def dt(self):\n        raise AttributeError('no')\n"
           "    def dot(self):\n        pass\n")
    assert _note_with_source_in(cls + "Box().dt", {}) != "Did you mean: 'dot'?"
    assert _note_with_source_in(cls + "Box().dott", {}) == "Did you mean: 'dot'?"


def test_a_class_or_function_used_as_its_module_is_named():
    # seen: `from datetime import datetime`, then `datetime.datetime.strptime(...)` twice
    assert _note_with_source_in("from datetime import datetime\n"
                                "d = datetime.datetime.strptime('2024', '%Y')", {}) == (
        "`datetime` here is the class datetime.datetime itself (as `from datetime import "
        "datetime` gives it), not the module: drop one `.datetime` "
        "(`datetime.strptime(...)`), or `import datetime` to use the module.")
    assert _note_with_source_in("from time import time\nt = time.time()", {}).startswith(
        "`time` here is the function time.time itself")
    # a class whose module has another name: not this mistake
    assert "itself" not in (_note_with_source_in(
        "from collections import Counter\nCounter.Counter('ab')", {}) or "")


def test_a_factorial_written_as_in_maths_gets_math_factorial(session):
    # seen: `factorial_37 = 37!` from a 0.5B model; the note is added by the kernel's
    # SyntaxError formatter (a cell that does not compile never runs)
    obs = session.execute("factorial_37 = 37!\nprint(factorial_37)")
    assert "Python has no `!` for factorials: write `math.factorial(37)` (after `import " \
        "math`)." in render_observation(obs)
    assert "`math.factorial(n)`" in render_observation(session.execute("x = (5 - 2)!"))
    for other in ("if x != 3 print(x)", "print('wow!' 3)"):
        assert "factorial" not in render_observation(session.execute(other)), other


def test_short_names_need_a_close_match():
    assert close_match("nope", ["open", "print"]) is None
    assert close_match("alpah", ["alpha"]) == "alpha"


def test_a_kernel_started_without_suggestions_adds_none():
    from codeact.runtime import Session

    with Session(sandbox="bwrap", suggest=False) as session:
        text = render_observation(session.execute("mRNA_seq = 'AUG'\nlen(mrna_seq)"))
    assert text.splitlines()[-1] == "NameError: name 'mrna_seq' is not defined"
    assert "Did you mean" not in text


def test_a_tools_kernel_names_a_first_call_under_a_missing_file():
    from codeact.runtime import Session
    from codeact.tools import Tool, tool

    @tool
    def list_recipes() -> list:
        """The recipes' names."""
        return ["pancakes"]

    def _get_recipe(*args):
        return {"name": args[0]}

    spec = Tool.from_spec("get_recipe", _get_recipe, "One recipe.",
                          "get_recipe(name: str) -> dict")
    with Session(sandbox="bwrap", tools=[spec, list_recipes]) as s:
        obs = s.execute("import pandas as pd\npd.read_csv('recipes.csv')")
    assert render_observation(obs).splitlines()[-1] == (
        "the working directory has no files. The task's data comes from your tools, already "
        "defined: get_recipe, list_recipes. Call them instead of reading files: start with "
        "`print(list_recipes())`, then `get_recipe(name: str) -> dict`.")
