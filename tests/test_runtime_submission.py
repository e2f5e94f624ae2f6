"""What final_answer(value) submits: values as literals, kernel functions as runnable code."""

import linecache

import numpy as np
import pytest

from codeact.runtime.submission import answer_text, global_names, index_cells, plain


def run_cells(*cells: str, cache: bool = False) -> dict:
    """Run cells in one namespace as the kernel would (``__name__ == "__main__"``)."""
    ns: dict = {"__name__": "__main__"}
    for i, cell in enumerate(cells):
        filename = f"<cell-{i}>"
        if cache:  # IPython registers cells with linecache, so inspect.getsource works
            linecache.cache[filename] = (len(cell), None, cell.splitlines(True), filename)
        exec(compile(cell, filename, "exec"), ns)
    return ns


@pytest.mark.parametrize("value,text", [
    ("Paris", "Paris"),
    ("", ""),
    (42, "42"),
    (3.5, "3.5"),
    (True, "True"),
    (None, "None"),
    ([1, "a", (2, 3)], "[1, 'a', (2, 3)]"),
    ({"k": {1, 2}}, "{'k': {1, 2}}"),
    (np.float64(2.5), "2.5"),
    (np.array([[1, 2]]), "[[1, 2]]"),
    ([np.int64(1), np.bool_(False)], "[1, False]"),
    ((x * x for x in range(3)), "[0, 1, 4]"),
    (range(2), "[0, 1]"),
])
def test_values_are_strings_or_python_literals(value, text):
    assert answer_text(value, {"__name__": "__main__"}, []) == text


def test_cycles_do_not_hang():
    loop: list = [1]
    loop.append(loop)
    assert plain(loop)[1] is loop
    text = answer_text(loop, {}, [])
    assert text.startswith("[1, [1, ") and "[...]" in text


CELLS = [
    "import math\nfrom typing import List\nimport collections as co\n",
    "SCALE = 10\nNAMES = ['a', 'b']\nlookup = {n: i for i, n in enumerate(NAMES)}\n",
    "def unused():\n    return 0\n",
    "def square(x):\n    return x * x\n",
    "def helper(x: int) -> float:\n    return math.sqrt(square(x)) * SCALE\n",
    "class Acc:\n    def __init__(self):\n        self.c = co.Counter()\n",
    ("def solve(xs: List[int]) -> float:\n"
     "    '''Sum of helpers.'''\n"
     "    acc = Acc()\n"
     "    total = 0\n"
     "    for x in xs:\n"
     "        total += helper(x) + lookup.get('b', 0)\n"
     "    return total\n"),
]


@pytest.mark.parametrize("cache", [True, False])
def test_function_is_submitted_with_what_it_uses(cache):
    ns = run_cells(*CELLS, cache=cache)
    code = answer_text(ns["solve"], ns, CELLS)
    assert code.startswith("from typing import List\n")
    for piece in ("import math", "import collections as co", "SCALE = 10",
                  "lookup = {'a': 0, 'b': 1}", "def square(x):", "def helper(x: int)",
                  "class Acc:", "def solve(xs: List[int]) -> float:"):
        assert piece in code
    assert "def unused" not in code and "NAMES" not in code
    assert code.index("def helper") < code.index("def solve")
    fresh: dict = {}
    exec(code, fresh)  # it runs on its own
    assert fresh["solve"]([3, 4]) == ns["solve"]([3, 4]) == 72


def test_latest_definition_wins_and_decorators_come_along():
    cells = ["import functools\n",
             "def fib(n):\n    return -1\n",
             "@functools.lru_cache(maxsize=None)\ndef fib(n):\n"
             "    return n if n < 2 else fib(n - 1) + fib(n - 2)\n"]
    ns = run_cells(*cells)
    code = answer_text(ns["fib"], ns, cells)
    assert "return -1" not in code and "@functools.lru_cache" in code
    fresh: dict = {}
    exec(code, fresh)
    assert fresh["fib"](20) == 6765


def test_non_literal_globals_come_from_their_assignment():
    cells = ["import re\nPATTERN = re.compile(r'\\d+')\n",
             "def numbers(s):\n    return [int(m) for m in PATTERN.findall(s)]\n"]
    ns = run_cells(*cells)
    code = answer_text(ns["numbers"], ns, cells)
    assert "import re" in code and "PATTERN = re.compile" in code
    fresh: dict = {}
    exec(code, fresh)
    assert fresh["numbers"]("a1b22") == [1, 22]


def test_imported_objects_without_a_recorded_import_are_imported_by_module():
    from collections import Counter

    cells = ["def top(xs):\n    return Counter(xs).most_common(1)[0][0]\n"]
    ns = run_cells(*cells)
    ns["Counter"] = Counter  # bound by a cell the history no longer has
    code = answer_text(ns["top"], ns, cells)
    assert "from collections import Counter" in code


def test_hidden_names_tools_and_builtins_are_left_out():
    cells = ["def f(xs):\n    return len(xs) + tool(xs) + In\n"]
    ns = run_cells(*cells)
    ns["In"] = []

    def tool(x):
        return 0

    tool.__module__ = "codeact_tools"
    ns["tool"] = tool
    code = answer_text(ns["f"], ns, cells, hidden=["In"])
    assert code == cells[0]


def test_what_cannot_be_submitted_is_a_clear_error():
    with pytest.raises(TypeError, match="only functions and classes defined in this kernel"):
        answer_text(len, {"__name__": "__main__"}, [])
    ns = {"__name__": "__main__"}
    exec("def made():\n    return 1\n", ns)  # no cell history, no linecache entry
    with pytest.raises(TypeError, match="source code of made is not available"):
        answer_text(ns["made"], ns, [])


def test_index_and_global_names():
    index = index_cells(["import os.path\nfrom a.b import c as d\nx: int = 1\n",
                         "this is not python", "def g():\n    pass\n"])
    assert index["os"] == ("import", "import os.path")
    assert index["d"] == ("import", "from a.b import c as d")
    assert index["x"][0] == "assign" and index["g"][0] == "def"
    src = ("@deco\ndef f(a=DEFAULT):\n    local = 1\n    def inner():\n"
           "        return local + G\n    return [y for y in Y] + len(a)\n")
    assert set(global_names(src, exclude="f")) == {"deco", "DEFAULT", "G", "Y", "len"}
