"""Notes that say the fix for the lookup errors small models repeat (also run in the kernel).

Python 3.11 suggests a close name for ``NameError`` and ``AttributeError`` only when it
prints a traceback itself; IPython formats its own, so the suggestion is lost, and a
1.5B model re-sends ``f(mrna_seq)`` while the variable it set is ``mRNA_seq``. The kernel
adds the note back to the exception (PEP 678 ``add_note``, which IPython shows under the
error line), plus two cases Python never covers: an undefined name that is the value of
a variable (the model typed printed text as a bare word), a ``KeyError`` whose close
key is in a mapping the failing line uses, a called name that is none of the given tools
(the tools are listed), a name that is an installed package or its usual alias (the
import line: ``import pandas as pd``), a missing file (a close name, or the files that are
there), a missing module (a close importable name, or the tools to use instead), a
call with the wrong arguments (the function's signature and the first lines of its
docstring: ``sympy.prime()`` was called without the ``nth`` it needs), and for the
other errors a value causes (``TypeError``, ``ValueError``, ``IndexError``,
``ZeroDivisionError``, an ``AttributeError`` with no close name) the values of the
variables on the failing line: a list of three names multiplied by 0.07 was re-sent six
times by a model that never looked at what ``employees`` held. A failed ``assert a == b``
gets what its sides held (evaluated again only when that has no effect: the
model's own functions that call no tool, a few pure builtins).
Standard library only: the kernel loads this file's source
(:mod:`codeact.runtime.kernel_code`).
"""

from __future__ import annotations

import ast
import builtins
import collections
import contextlib
import difflib
import importlib.util
import inspect
import io
import keyword
import linecache
import os
import pkgutil
import re
import reprlib
import sys
import textwrap
import tokenize
import types
from collections.abc import Iterable
from types import FrameType, TracebackType
from typing import Any

MAX_KEYS = 10_000  # mappings larger than this are not searched for a close key
LIST_KEYS = 12  # a mapping with at most this many keys has them listed when none is close
LIST_FILES = 12  # a folder with at most this many entries has them listed
LIST_TOOLS = 12  # tools named when a called name is none of them
DOC_CHARS = 240  # the most of a function's docstring a call note quotes
VALUE_NAMES = 4  # variables of the failing line whose values a note shows
VALUE_CHARS = 100  # the most of one value's repr shown
MAX_CELL_CHARS = 20_000  # a longer cell's names are not read for a key's other holders
# "prime() missing 1 required positional argument", "f() takes 1 positional argument but
# 2 were given", "Foo.__init__() got an unexpected keyword argument 'x'"
_CALL_ERROR = re.compile(r"([A-Za-z_][\w.]*)\(\) (?:missing|takes|got)")
# where a name a cell used without importing it usually lives (`StringIO`, `defaultdict`,
# `reduce`, `sqrt`): standard modules, cheap to import in any kernel
IMPORT_HOMES = ("io", "collections", "itertools", "functools", "math", "datetime",
                "statistics", "fractions", "decimal", "string", "random", "re", "json",
                "typing")
MIN_IMPORTED = 3  # shorter names (`e`, `pi`) are more often a variable never set
# the names code usually gives a package on import (`pd.read_csv` without `import pandas`)
CONVENTIONAL_ALIASES = {"pd": "pandas", "np": "numpy", "plt": "matplotlib.pyplot",
                        "sns": "seaborn", "sp": "scipy", "nx": "networkx", "sm": "sympy"}


def close_match(word: str, candidates: Iterable[Any]) -> str | None:
    """The candidate closest to ``word``: one differing only in case first, else the
    best ``difflib`` match with a similarity of 0.8 or more (``nope`` is not ``open``)."""
    names = [c for c in candidates if isinstance(c, str) and c != word]
    by_case = [c for c in names if c.lower() == word.lower()]
    if by_case:
        return by_case[0]
    found = difflib.get_close_matches(word, names, n=1, cutoff=0.8)
    return found[0] if found else None


def cell_frame(tb: TracebackType | None) -> FrameType | None:
    """The innermost frame of the model's own code: a cell's (IPython compiles cells to
    ``.../ipykernel_<pid>/<hash>.py``), else the innermost frame at all."""
    last = found = None
    while tb is not None:
        name = tb.tb_frame.f_code.co_filename
        last = tb.tb_frame
        if "ipykernel_" in name or name.startswith("<ipython-input"):
            found = tb.tb_frame
        tb = tb.tb_next
    return found or last


def _visible(frame: FrameType | None, namespace: dict[str, Any]) -> dict[str, Any]:
    names = dict(namespace)
    if frame is not None:
        names.update(frame.f_globals)
        names.update(frame.f_locals)
    return {k: v for k, v in names.items() if not k.startswith("_")}


def _name_note(exc: NameError, names: dict[str, Any], tools: list[str]) -> str | None:
    missing = getattr(exc, "name", None)
    if not isinstance(missing, str):
        return None
    holders = [k for k, v in names.items() if isinstance(v, str) and v == missing]
    if holders:
        return (f"`{missing}` is not a variable: it is the text held by the variable "
                f"`{holders[0]}`. Use {holders[0]}, or write the text in quotes: "
                f"{missing!r}.")
    if missing in sys.stdlib_module_names:
        inner = sys.modules.get(missing)
        if inner is not None and hasattr(inner, missing):  # datetime.datetime
            return (f"`{missing}` is not imported: add `import {missing}` (the module) or "
                    f"`from {missing} import {missing}`.")
        return f"`{missing}` is not imported: add `import {missing}`."
    # a standard module or a name one exports, before a close spelling: `List` (a type hint
    # from the task's signature) needs `from typing import List`, not "Did you mean 'list'?"
    home = _stdlib_home(missing) if len(missing) >= MIN_IMPORTED else None
    if home is not None and missing not in names:
        return f"`{missing}` is not imported: add `from {home} import {missing}`."
    match = close_match(missing, [*names, *dir(builtins)])
    if match:
        return f"Did you mean: '{match}'?"
    data_file = _data_file_note(missing)
    if data_file is not None:
        return data_file
    package = _installed_import(missing)
    if package is not None:
        return f"`{missing}` is not imported: add `{package}`."
    parameter = _parameter_note(missing, tools, names) if tools else None
    if parameter is not None:
        return parameter
    if tools:  # a function from an example or from memory, not one of the tools
        return (f"Nothing defines `{missing}`: it is no variable or function of yours and "
                f"none of your tools. The tools you have are: {listed_names(tools)}.")
    return None


# how a cell reads a workspace file into a variable, by suffix ({v}: the name, {f}: file)
_READERS = {
    ".json": "import json; {v} = json.load(open({f!r}))",
    ".jsonl": "import json; {v} = [json.loads(line) for line in open({f!r})]",
    ".csv": "import pandas as pd; {v} = pd.read_csv({f!r})",
    ".tsv": "import pandas as pd; {v} = pd.read_csv({f!r}, sep='\\t')",
    ".xlsx": "import pandas as pd; {v} = pd.read_excel({f!r})",
    ".xls": "import pandas as pd; {v} = pd.read_excel({f!r})",
    ".parquet": "import pandas as pd; {v} = pd.read_parquet({f!r})",
    ".yaml": "import yaml; {v} = yaml.safe_load(open({f!r}))",
    ".yml": "import yaml; {v} = yaml.safe_load(open({f!r}))",
}
READ_TEXT = "{v} = open({f!r}).read()"


def _data_file_note(missing: str) -> str | None:
    """An undefined name that is a file of the working directory without its suffix
    (``catalog`` for ``catalog.json``): the data was never read. Seen: a 0.5B model summed
    ``catalog['items']`` twice, and was told to quote 'catalog' as text."""
    try:
        entries = sorted(os.listdir("."))
    except OSError:
        return None
    found = [e for e in entries if os.path.splitext(e)[0] == missing and os.path.isfile(e)]
    if len(found) != 1:
        return None
    file = found[0]
    reader = _READERS.get(os.path.splitext(file)[1].lower(), READ_TEXT)
    return (f"Nothing defines `{missing}`: the working directory has the file {file!r}, "
            f"which no cell has read yet. Read it into a variable first: "
            f"`{reader.format(v=missing, f=file)}`.")


def _installed_import(name: str) -> str | None:
    """The import line for ``name`` when it is an installed package (``import requests``
    after ``%pip install requests``) or a package's usual alias (``import pandas as
    pd``); None otherwise. Finds the module without importing it."""
    module = CONVENTIONAL_ALIASES.get(name, name)
    try:
        found = importlib.util.find_spec(module.split(".")[0]) is not None
    except (ImportError, ValueError):
        found = False
    if not found:
        return None
    return f"import {module}" if module == name else f"import {module} as {name}"


def _stdlib_home(name: str) -> str | None:
    """The standard module that defines ``name`` publicly, if one of IMPORT_HOMES does."""
    if name.startswith("_"):
        return None
    for home in IMPORT_HOMES:
        module = sys.modules.get(home)
        if module is None:
            try:
                module = __import__(home)
            except ImportError:
                continue
        if name in getattr(module, "__all__", ()) or \
                (not hasattr(module, "__all__") and hasattr(module, name)):
            return home
    return None


def listed_names(names: list[str], most: int = LIST_TOOLS) -> str:
    """``a, b, c and 9 more``: names for a note, at most ``most`` of them spelled out."""
    listed = ", ".join(names[:most])
    if len(names) > most:
        listed += f" and {len(names) - most} more"
    return listed


def _module_note(exc: ModuleNotFoundError, tools: list[str]) -> str | None:
    """A close importable name (``sklearn`` for ``scikit_learn``), else what to use."""
    missing = getattr(exc, "name", None)
    if not isinstance(missing, str) or not missing:
        return None
    if "." in missing:
        return None  # a submodule of an installed package: the package is there
    importable = [m.name for m in pkgutil.iter_modules() if not m.name.startswith("_")]
    match = close_match(missing, importable)
    if match:
        return f"Did you mean: 'import {match}'?"
    if tools:
        return (f"`{missing}` is not installed in this kernel. The task's data comes from "
                f"your tools, already defined: {listed_names(tools)}.")
    return f"`{missing}` is not installed in this kernel: use the packages that are."


def _words(name: str) -> set[str]:
    """``list_Recipes`` / ``listRecipes`` / ``recipes.csv`` -> {"list", "recipe"}: words
    of a name, lower-cased and singular, so a file and a tool can be matched."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", os.path.splitext(name)[0])
    words = re.split(r"[^a-zA-Z0-9]+", spaced.lower())
    return {_singular(w) for w in words if w}


def _singular(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def signature_text(obj: Any) -> str | None:
    """``(city: str) -> list``: a signature as it would be typed, annotations given as
    strings (a tool's, or under ``from __future__ import annotations``) unquoted."""
    try:
        text = str(inspect.signature(obj))
    except (TypeError, ValueError):
        return None
    return re.sub(r"(: |-> )'([^'\n]*)'", r"\1\2", text)


def _needs_no_arguments(obj: Any) -> bool:
    """True when ``obj()`` binds: every parameter has a default (``*args`` does not count:
    a tool that takes them usually needs some)."""
    try:
        params = inspect.signature(obj).parameters.values()
    except (TypeError, ValueError):
        return False
    return all(p.default is not inspect.Parameter.empty or
               p.kind is inspect.Parameter.VAR_KEYWORD for p in params)


# words too common in names to tie a tool to a file or a parameter
_GENERIC_WORDS = {"data", "file", "csv", "json", "txt", "id", "name", "get", "list", "all"}
NAMED_LIKE_SHOWN = 2  # tools named like the missing file, shown with their signatures


def _parameter_words(obj: Any) -> set[str]:
    try:
        params = inspect.signature(obj).parameters
    except (TypeError, ValueError):
        return set()
    return set().union(*(_words(p) for p in params)) - _GENERIC_WORDS


def _shown_call(tool: str, obj: Any) -> str:
    shown = tool + (signature_text(obj) or "")
    return f"`{shown if len(shown) <= 80 else shown[:77] + '...'}`"


def _tool_start(missing: str, tools: list[str], namespace: dict[str, Any]) -> str:
    """A first call to make instead of reading a file that will never be there (seen:
    ``hotels.csv`` read for nine turns with the tools listed under each error): the tools
    named like the file, with their signatures, after a tool that needs no arguments and
    gives what they take (``list_cities()`` before ``search_hotels(city)``); with no tool
    named like the file, a tool that needs no arguments. Empty when none is known."""
    found = [t for t in tools if callable(namespace.get(t))]
    stem = _words(os.path.basename(missing)) - _GENERIC_WORDS
    named_like = [t for t in found if stem & _words(t)]
    starters = sorted((t for t in found if _needs_no_arguments(namespace[t])),
                      key=lambda t: t not in named_like)  # named like the file first
    wanted = stem.union(*(_parameter_words(namespace[t]) for t in named_like)) \
        if named_like else None
    first = next((t for t in starters if wanted is None or _words(t) & wanted), None)
    calls = [_shown_call(t, namespace[t]) for t in named_like if t != first]
    calls = calls[:NAMED_LIKE_SHOWN]
    if first is None and not calls:
        return ""
    start = f"`print({first}())`" if first else " or ".join(calls)
    then = ", then " + " or ".join(calls) if first and calls else ""
    return f" Call them instead of reading files: start with {start}{then}."


def _listers(parameter: str, tools: list[str], namespace: dict[str, Any]) -> list[str]:
    """Tools that need no arguments and are named like ``parameter`` (``list_lots`` for
    ``lot``, ``carriers`` for ``carrier_id``): where that parameter's values come from."""
    wanted = _words(parameter) - _GENERIC_WORDS
    return [t for t in tools if callable(namespace.get(t)) and wanted & _words(t)
            and _needs_no_arguments(namespace[t])]


def _parameter_note(missing: str, tools: list[str], namespace: dict[str, Any]) -> str | None:
    """An undefined name that is a parameter of a tool (``quote(carrier, parcel_id)``
    with no ``carrier`` set): the signature's word, not a value. Seen: a 0.5B model
    called ``quote(carrier, parcel_id)`` and was told to write 'carrier' in quotes."""
    for tool in tools:
        func = namespace.get(tool)
        try:
            params = inspect.signature(func).parameters if callable(func) else {}
        except (TypeError, ValueError):
            continue
        if missing not in params:
            continue
        note = (f"`{missing}` is a parameter of the tool {_shown_call(tool, func)}, not a "
                f"value you have: pass a real {missing}.")
        listers = _listers(missing, tools, namespace)
        if listers:
            note += f" `{listers[0]}()` gives them: print it first, then use its values."
        return note
    return None


# how a tool says it does not know a value (a KeyError is a failed lookup by itself)
_UNKNOWN_VALUE = re.compile(r"\b(unknown|not found|no such|does not exist|doesn't exist|"
                            r"not a valid|invalid)\b", re.I)


def _tool_value_note(exc: BaseException, tb: TracebackType | None, frame: FrameType | None,
                     names: dict[str, Any], tools: list[str]) -> str | None:
    """A tool that did not know a value the cell passed (``KeyError: 'no lot 1'`` from
    ``lot_details(1)``): where that parameter's values come from, a tool that needs no
    arguments named like it. Only when the message names exactly one of the values passed
    that such a tool lists (``DHL takes at most 30 kg`` is no unknown carrier). Seen: a 0.5B
    model tried lots 1 and 2 for five turns, never calling ``list_lots()``."""
    message = str(exc)
    if not isinstance(exc, KeyError) and not _UNKNOWN_VALUE.search(message):
        return None
    line = _failing_line(tb, frame) if frame is not None and tools else None
    tree = _parsed_line(line) if line else None
    if tree is None:
        return None
    found: list[str] = []
    for call in ast.walk(tree):
        if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name)
                and call.func.id in tools and callable(names.get(call.func.id))):
            continue
        tool, func = call.func.id, names[call.func.id]
        try:
            params = list(inspect.signature(func).parameters)
        except (TypeError, ValueError):
            continue
        given = [*((params[i] if i < len(params) else None, a)
                   for i, a in enumerate(call.args)),
                 *((k.arg, k.value) for k in call.keywords)]
        for param, arg in given:
            value = arg.value if isinstance(arg, ast.Constant) else \
                names.get(arg.id) if isinstance(arg, ast.Name) else None
            if param is None or type(value) not in (str, int, float) or \
                    not re.search(rf"(?<![\w.]){re.escape(str(value))}(?![\w.])", message):
                continue
            listers = [t for t in _listers(param, tools, names) if t != tool]
            if listers:
                found.append(f"`{tool}` has no {param} {value!r}: take the {param} values "
                             f"from `{listers[0]}()` (print it first), then pass one of those.")
    return found[0] if len(set(found)) == 1 else None


def _file_note(exc: FileNotFoundError, tools: list[str],
               namespace: dict[str, Any]) -> str | None:
    """What is there instead: a close name in the folder the path names, or its files."""
    path = exc.filename
    if not isinstance(path, str) or not path:
        return None
    folder, base = os.path.split(path)
    try:
        entries = sorted(e for e in os.listdir(folder or ".") if not e.startswith("."))
    except OSError:  # no such folder: only worth a note when the tools hold the data
        if not tools or any(not e.startswith(".") for e in os.listdir(".")):
            return None
        folder, entries = "", []
    where = f"`{folder}`" if folder else "the working directory"
    match = close_match(base, entries)
    if match:
        return f"Did you mean: {os.path.join(folder, match)!r}?"
    if not entries and tools:  # seen: a CSV typed out "from the task text" instead
        return (f"{where} has no files. The task's data comes from your tools, already "
                f"defined: {listed_names(tools)}."
                + _tool_start(path, tools, namespace))
    if not entries:
        return (f"{where} has no files: the data for this task is not in a file here; "
                "take it from the task text.")
    if len(entries) <= LIST_FILES:
        return f"The files in {where} are: {', '.join(map(repr, entries))}."
    return None


def _attribute_note(exc: AttributeError) -> str | None:
    missing, obj = getattr(exc, "name", None), getattr(exc, "obj", None)
    if not isinstance(missing, str) or obj is None:
        return None
    if isinstance(obj, dict) and missing in obj:
        return f"{missing!r} is a key of this dict, not an attribute: use [{missing!r}]."
    home = getattr(obj, "__module__", None)
    if isinstance(home, str) and getattr(obj, "__name__", None) == missing == home and \
            getattr(sys.modules.get(home), missing, None) is obj:
        # `from datetime import datetime`, then `datetime.datetime.strptime(...)`
        kind, call = ("class", f"{missing}.{_first_method(obj)}(...)") \
            if isinstance(obj, type) else ("function", f"{missing}()")
        return (f"`{missing}` here is the {kind} {home}.{missing} itself (as `from {home} "
                f"import {missing}` gives it), not the module: drop one `.{missing}` "
                f"(`{call}`), or `import {home}` to use the module.")
    try:
        inspect.getattr_static(type(obj), missing)
        return None  # it exists: its own code raised (a pandas accessor), no other name
    except AttributeError:
        pass
    try:
        match = close_match(missing, [a for a in dir(obj) if not a.startswith("__")])
    except Exception:  # a hostile __dir__
        return None
    return f"Did you mean: '{match}'?" if match else None


def _first_method(cls: type) -> str:
    """A public callable of ``cls`` to show in a call (``strptime`` for ``datetime``)."""
    for name in ("strptime", "fromisoformat", "now", "today"):
        if callable(getattr(cls, name, None)):
            return name
    return next((n for n in sorted(vars(cls)) if not n.startswith("_")
                 and callable(getattr(cls, n, None))), "method")


_ACCESSOR = re.compile(r"Can only use \.(dt|str) accessor with")


def _accessor_note(exc: AttributeError, line: str | None) -> str | None:
    """pandas' ``.dt`` on a column of text (a CSV's dates stay strings until converted) or
    ``.str`` on one of numbers: the conversion, on the failing line's own column. Seen: a
    0.5B model's ``expenses['date'].dt.month`` was told "Did you mean: 'dot'?"."""
    found = _ACCESSOR.match(str(exc))
    if found is None:
        return None
    accessor = found.group(1)
    tree = _parsed_line(line) if line else None
    column = next((ast.unparse(node.value) for node in ast.walk(tree)
                   if isinstance(node, ast.Attribute) and node.attr == accessor),
                  None) if tree is not None else None
    if column is None or len(column) > VALUE_CHARS:
        column = None
    where = f"`{column}`" if column else "the column"
    if accessor == "dt":
        fix = f"`{column} = pd.to_datetime({column})`" if column else "pd.to_datetime(...)"
        return (f"`.dt` needs dates, and {where} holds text (pandas reads the dates of a file "
                f"as strings): convert it first: {fix}.")
    fix = f"`{column}.astype(str).str`" if column else "`.astype(str).str`"
    return f"`.str` needs text, and {where} holds other values: use {fix}."


def _mappings(frame: FrameType | None, names: dict[str, Any]) -> list[tuple[str, Any]]:
    """(name, mapping) for the mappings the failing frame's code names."""
    if frame is None:
        return []
    used = [*frame.f_code.co_names, *frame.f_code.co_varnames]
    found = []
    for name in dict.fromkeys(used):
        value: Any = names.get(name)
        if value is None or isinstance(value, type) or \
                not callable(getattr(value, "keys", None)) or not hasattr(value, "__getitem__"):
            continue
        try:
            if len(value) <= MAX_KEYS:
                found.append((name, value))
        except Exception:
            continue
    return found


def word_match(word: str, candidates: Iterable[Any]) -> str | None:
    """The one candidate whose words contain, or are contained in, the words of ``word``
    (``transaction_date`` -> ``date``, ``units`` -> ``units_sold``): a guessed column or
    key name usually adds or drops a word rather than misspelling one. The candidate
    sharing the largest part of its words wins; a tie gives nothing."""
    wanted = _words(word)
    if not wanted:
        return None
    scored: list[tuple[float, str]] = []
    for c in candidates:
        if not isinstance(c, str) or c == word:
            continue
        have = _words(c)
        if have and (have <= wanted or wanted <= have):
            scored.append((len(have & wanted) / len(have | wanted), c))
    scored.sort(key=lambda sc: -sc[0])
    if not scored or (len(scored) > 1 and scored[0][0] == scored[1][0]):
        return None
    return scored[0][1]


def _parsed_line(line: str) -> ast.AST | None:
    """A failing source line as a tree: a line that opens a block (``for x in f()['k']:``)
    gets a ``pass`` to parse; None when it does not parse alone."""
    for text in (line, line + " pass"):
        try:
            return ast.parse(text)
        except SyntaxError:
            continue
    return None


def _argument_values(call: ast.Call, names: dict[str, Any]) -> str:
    """What the call's plain-name arguments hold now (``; `sku` holds 'P-301' now``): a
    1.5B model told to print ``sku_info(sku)`` after a loop printed ``sku_info("D1")``,
    the bin the task named, and the tool refused it. Simple values only."""
    shown = []
    for arg in [*call.args, *(k.value for k in call.keywords)]:
        if isinstance(arg, ast.Name) and arg.id in names:
            value = names[arg.id]
            if isinstance(value, (str, int, float)) and not isinstance(value, bool):
                text = repr(value)
                if len(text) <= VALUE_CHARS:
                    shown.append(f"`{arg.id}` holds {text} now")
    return "; " + ", ".join(dict.fromkeys(shown)) if shown else ""


def _unstored_key_note(key: str, line: str | None, names: dict[str, Any]) -> str | None:
    """A key looked up right on what a call returned (``sku_info(sku)["unit_weight"]``):
    no variable holds that value, so no keys can be listed, and the model guesses key
    after key. It is told to print the call's value once."""
    tree = _parsed_line(line) if line else None
    if tree is None:
        return None
    for node in ast.walk(tree):
        if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Call) and \
                isinstance(node.slice, ast.Constant) and node.slice.value == key:
            call = ast.unparse(node.value)
            if len(call) > VALUE_CHARS:
                return None
            return (f"What `{call}` returned has no key {key!r}. Print it once "
                    f"(print({call}){_argument_values(node.value, names)}) to see the "
                    "keys it has, then use one of them.")
    return None


def _suspects(line: str | None, frame: FrameType | None,
              names: dict[str, Any]) -> list[tuple[str, Any]]:
    """The mappings a ``KeyError`` may have come from, those the failing line names first
    (``orders['total'] - refunds['total']``: the cell's first mapping is not the suspect
    when the line names another)."""
    found = _mappings(frame, names)
    if not line:
        return found
    on_line = set(_line_names(line))
    return sorted(found, key=lambda nm: nm[0] not in on_line)


_PLAIN_CONTAINERS = (list, tuple, dict)


def _indexed_value(node: ast.expr, names: dict[str, Any]) -> Any:
    """The value of ``rows[0]`` or ``data['items'][i]`` read again: a variable indexed by
    literals or plain-name ints and strings, through plain lists, tuples and dicts only (their
    indexing has no effects). Raises LookupError or TypeError where it cannot."""
    if isinstance(node, ast.Name):
        if node.id not in names:
            raise LookupError(node.id)
        return names[node.id]
    if not isinstance(node, ast.Subscript):
        raise TypeError("not an index")
    index: Any
    if isinstance(node.slice, ast.Constant):
        index = node.slice.value
    elif isinstance(node.slice, ast.Name) and \
            type(names.get(node.slice.id)) in (int, str):
        index = names[node.slice.id]
    else:
        raise TypeError("not a plain index")
    container = _indexed_value(node.value, names)
    if type(container) not in _PLAIN_CONTAINERS or type(index) not in (int, str):
        raise TypeError("not a plain container")
    return container[index]


def _nested_key_note(key: str, line: str | None, names: dict[str, Any]) -> str | None:
    """A key looked up on an item of a list or dict (``books[0]['author']``): no variable
    is that dict, so none of its keys were named; a 1.5B model re-sent
    ``filtered_books[0]['author']`` for seven turns. The item is read again (plain
    containers only) and its keys given."""
    tree = _parsed_line(line) if line else None
    if tree is None:
        return None
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Subscript) and isinstance(node.value, ast.Subscript)
                and isinstance(node.slice, ast.Constant) and node.slice.value == key):
            continue
        try:
            item = _indexed_value(node.value, names)
        except (LookupError, TypeError):
            continue
        if type(item) is not dict or key in item or not item:
            continue
        keys = list(item)
        shown = ast.unparse(node.value)
        if len(shown) > VALUE_CHARS:
            return None
        close = close_match(key, keys) or word_match(key, keys)
        text = f"`{shown}` has no key {key!r}."
        if close is not None:
            text += f" Did you mean the key {close!r}?"
        if len(keys) <= LIST_KEYS:
            text += f" Its keys are: {', '.join(map(repr, keys))}."
        return text
    return None


# pandas words a missing column inside its message: the column is the key looked up
_WRAPPED_KEY = (re.compile(r"^Column not found: (?P<key>.+)$"),
                re.compile(r"^\[(?P<keys>.+)\] not in index$"),
                re.compile(r"^None of \[Index\(\[(?P<keys>.+)\], dtype=.*\)\] are in the "
                           r"\[\w+\]$"))


def missing_key(exc: KeyError) -> str | None:
    """The key a ``KeyError`` is about: its argument, or the first column a pandas
    message names (``Column not found: total``, ``['total'] not in index``)."""
    if len(exc.args) != 1 or not isinstance(exc.args[0], str):
        return None
    text = exc.args[0]
    for pattern in _WRAPPED_KEY:
        found = pattern.match(text)
        if found is None:
            continue
        if "key" in found.groupdict():
            return found.group("key")
        first = found.group("keys").split(",")[0].strip()
        return first[1:-1] if len(first) >= 2 and first[0] == first[-1] and \
            first[0] in "'\"" else None
    return text


def _keys_of(mapping: Any) -> list[Any] | None:
    try:
        return list(mapping.keys())
    except Exception:
        return None


def _is_frame(value: Any) -> bool:
    return type(value).__name__ == "DataFrame" and \
        type(value).__module__.startswith("pandas")


def _holders(key: str, frame: FrameType | None, names: dict[str, Any],
             skip: set[str]) -> list[tuple[str, Any]]:
    """Variables that have ``key``: the mappings the whole cell names (IPython runs a
    cell's last statement as code of its own, so the failing frame may name less), then
    any DataFrame of the namespace. Names in ``skip`` are left out."""
    cell: list[str] = []
    if frame is not None:
        source = "".join(linecache.getlines(frame.f_code.co_filename, frame.f_globals))
        cell = _line_names(source) if len(source) <= MAX_CELL_CHARS else []
    frames = [n for n, v in names.items() if _is_frame(v)]
    found = []
    for name in dict.fromkeys([*cell, *frames]):
        value = names.get(name)
        if name in skip or value is None or isinstance(value, type) or \
                not callable(getattr(value, "keys", None)):
            continue
        if not (_is_frame(value) or type(value) is dict):
            continue  # a Series' keys are its index labels, a class's keys anything
        keys = _keys_of(value)
        if keys is not None and len(keys) <= MAX_KEYS and key in keys:
            found.append((name, value))
    return found


def _key_elsewhere_note(key: str, line: str | None, frame: FrameType | None,
                        names: dict[str, Any],
                        suspects: list[tuple[str, Any]]) -> str | None:
    """A key looked up on the wrong one of two tables: the failing line uses a mapping
    that lacks it, and another variable (not on that line) has it exactly. A 1.5B model
    grouped the customers frame by the orders' columns (``customer``, then ``order_id``)
    for five turns, each time told a close key of the customers or to print the groupby;
    that the column belongs to ``orders`` is what it never saw."""
    if not line:
        return None
    on_line = set(_line_names(line))
    lacking = next(((n, m, keys) for n, m in suspects if n in on_line
                    and (keys := _keys_of(m)) is not None and key not in keys), None)
    if lacking is None:
        return None
    holders = _holders(key, frame, names, skip=on_line)
    if not holders:
        return None
    name, mapping, keys = lacking
    holder, table = holders[0]
    text = f"{key!r} is a key of `{holder}`, not of `{name}`."
    if 0 < len(keys) <= LIST_KEYS:
        text += f" The keys of `{name}` are: {', '.join(map(repr, keys))}."
    elif (close := close_match(key, keys) or word_match(key, keys)) is not None:
        text += f" Its closest key is {close!r}."
    if _is_frame(mapping) and _is_frame(table):
        text += f" To use columns of both, merge `{name}` with `{holder}` first."
    return text


FIXED_LINE_CHARS = 160  # a longer failing line is not shown corrected


def _fixed_line(line: str | None, key: str, match: str) -> str:
    """`` The line would read: `...` `` with the key's one quoted use replaced, or empty.
    Seen: a 0.5B model told "Did you mean the key 'product'?" sent ``'Product'`` four
    more times; a line to copy is the smallest step there is."""
    if not line:
        return ""
    uses = [q + key + q for q in ("'", '"') if q + key + q in line]
    if len(uses) != 1 or line.count(uses[0]) != 1:
        return ""
    quote = uses[0][0]
    fixed = line.replace(uses[0], quote + match + quote)
    return f" The line would read: `{fixed}`." if len(fixed) <= FIXED_LINE_CHARS else ""


def _key_note(exc: KeyError, tb: TracebackType | None, frame: FrameType | None,
              names: dict[str, Any]) -> str | None:
    key = missing_key(exc)
    if key is None:
        return None
    line = _failing_line(tb, frame) if frame is not None else None
    nested = _nested_key_note(key, line, names)
    if nested is not None:
        return nested
    suspects = _suspects(line, frame, names)
    elsewhere = _key_elsewhere_note(key, line, frame, names, suspects)
    if elsewhere is not None:
        return elsewhere
    small: tuple[str, list[Any]] | None = None
    by_words: tuple[str, str, list[Any]] | None = None
    for name, mapping in suspects:
        keys = _keys_of(mapping)
        if keys is None:
            continue
        if key in keys:  # this one has the key: the lookup that failed was elsewhere
            continue
        match = close_match(key, keys)
        if match is not None:
            return f"Did you mean the key {match!r} of `{name}`?" + _fixed_line(line, key, match)
        if by_words is None and (found := word_match(key, keys)) is not None:
            by_words = (name, found, keys)
        if small is None and 0 < len(keys) <= LIST_KEYS:
            small = (name, keys)
    if by_words is not None:
        name, found, keys = by_words
        listed = f" Its keys are: {', '.join(map(repr, keys))}." \
            if len(keys) <= LIST_KEYS else ""
        return f"{key!r} is not a key of `{name}`. Did you mean the key {found!r}?{listed}"
    unstored = _unstored_key_note(key, line, names)
    if unstored is not None:
        return unstored
    if small is not None:
        return f"The keys of `{small[0]}` are: {', '.join(map(repr, small[1]))}."
    return None


def _callee(qualname: str, frame: FrameType, names: dict[str, Any]
            ) -> tuple[str, Any] | None:
    """(how the cell spells it, the callable) for the function a call error names: a
    name of the cell, or an attribute of one (``sympy.prime``, ``counts.most_common``)."""
    parts = qualname.split(".")
    wanted = parts[-2] if parts[-1] == "__init__" and len(parts) > 1 else parts[-1]

    def matches(obj: Any) -> bool:
        if not callable(obj):
            return False
        if isinstance(obj, type):
            return obj.__name__ == wanted and parts[-1] == "__init__"
        return getattr(obj, "__qualname__", None) == qualname or (
            getattr(obj, "__name__", None) == qualname)

    direct = names.get(wanted, getattr(builtins, wanted, None))
    if matches(direct):
        return wanted, direct
    used = [n for n in dict.fromkeys([*frame.f_code.co_names, *frame.f_code.co_varnames])
            if n != wanted and names.get(n) is not None]
    # an instance before its class: `c.most_common(n=None)`, not `Counter.most_common(self, ...)`
    for name in sorted(used, key=lambda n: isinstance(names[n], type)):
        holder = names[name]
        try:
            found = inspect.getattr_static(holder, wanted, None)
            found = getattr(holder, wanted) if found is not None else None
        except Exception:
            continue
        if matches(found):
            return f"{name}.{wanted}", found
    return None


def _call_note(exc: TypeError, tb: TracebackType | None, frame: FrameType | None,
               names: dict[str, Any], tools: list[str]) -> str | None:
    """The signature and docstring of a function the cell called with the wrong
    arguments. Only when the call itself failed (the cell's line is the last frame), not
    a ``TypeError`` from deep inside a library; tools have their own note."""
    found = _CALL_ERROR.match(str(exc))
    if found is None or frame is None:
        return None
    last = tb
    while last is not None and last.tb_next is not None:
        last = last.tb_next
    if last is None or last.tb_frame is not frame:
        return None
    callee = _callee(found.group(1), frame, names)
    if callee is None or callee[0] in tools:
        return None
    spelled, func = callee
    signature = signature_text(func)
    if signature is None:
        return None
    note = f"The call must match `{spelled}{signature}`"
    raw = getattr(func, "__doc__", None)  # its own, not one inherited from a base class
    doc = " ".join(inspect.cleandoc(raw).split("\n\n")[0].split()) \
        if isinstance(raw, str) else ""
    if doc:
        if len(doc) > DOC_CHARS:
            doc = doc[:DOC_CHARS].rsplit(" ", 1)[0] + " ..."
        note += f": {doc}"
    return note + ("" if note.endswith((".", "...")) else ".")


_ONE_AT_A_TIME = re.compile(r"'(generator|map|filter|zip|enumerate|reversed|range_iterator|"
                            r"itertools\.\w+|dict_keys|dict_values|dict_items)' object is not "
                            r"subscriptable")


def _one_at_a_time_note(exc: TypeError) -> str | None:
    """An iterator or dict view indexed or sliced. Seen: ``sympy.primerange(1, 1000)[:100]``
    re-sent three times with the error alone."""
    found = _ONE_AT_A_TIME.search(str(exc))
    if found is None:
        return None
    return (f"A {found.group(1)} object cannot be indexed or sliced: make a list of it "
            "first, then index or slice the list (`list(...)[:n]`, `list(...)[0]`).")


def _failing_line(tb: TracebackType | None, frame: FrameType) -> str | None:
    """The source line ``frame`` was running when the error passed through it."""
    lineno = None
    while tb is not None:
        if tb.tb_frame is frame:
            lineno = tb.tb_lineno
        tb = tb.tb_next
    if lineno is None:
        return None
    return linecache.getline(frame.f_code.co_filename, lineno, frame.f_globals).strip() or None


def _line_names(line: str) -> list[str]:
    """The variable names a line reads, in order: no keywords, no attribute names, nothing
    inside strings."""
    found: list[str] = []
    previous = ""
    try:
        for token in tokenize.generate_tokens(io.StringIO(line + "\n").readline):
            if token.type == tokenize.NAME and previous != "." and \
                    not keyword.iskeyword(token.string):
                found.append(token.string)
            previous = token.string
    except (tokenize.TokenError, SyntaxError):  # an unclosed bracket: what came before
        pass
    return list(dict.fromkeys(found))


def describe_value(value: Any) -> str:
    """A short repr with its type (``['a', 'b'] (list of 2 str)``), for a note."""
    short = reprlib.Repr()
    short.maxstring, short.maxother, short.maxlist, short.maxdict = 60, 60, 6, 4
    short.maxtuple = short.maxset = 6
    text = " ".join(short.repr(value).split())  # one line (a DataFrame's repr has many)
    if len(text) > VALUE_CHARS:
        text = text[:VALUE_CHARS] + "..."
    kind = type(value).__name__
    if isinstance(value, (list, tuple, set, frozenset, dict)):
        items = list(value)[:50]
        inner = {type(v).__name__ for v in items}
        unit = "keys" if isinstance(value, dict) else (inner.pop() if len(inner) == 1 else "")
        kind = f"{kind} of {len(value)} {unit}".rstrip()
    shape = getattr(value, "shape", None)  # numpy and pandas: the shape says more
    if isinstance(shape, tuple):
        kind = f"{kind}, shape {shape}"
        columns = getattr(value, "columns", None)
        if columns is not None:
            text = "columns " + short.repr(list(columns))
    return f"{text} ({kind})"


def _values_note(tb: TracebackType | None, frame: FrameType | None,
                 names: dict[str, Any]) -> str | None:
    """The values of the variables the failing line of the model's code reads."""
    line = _failing_line(tb, frame) if frame is not None else None
    if line is None:
        return None
    shown = []
    for name in _line_names(line):
        if name not in names:
            continue
        value = names[name]
        if callable(value) or isinstance(value, types.ModuleType):
            continue
        shown.append(f"{name} = {describe_value(value)}")
        if len(shown) == VALUE_NAMES:
            break
    return "Values on the failing line: " + "; ".join(shown) + "." if shown else None


def note_for(exc: BaseException, tb: TracebackType | None,
             namespace: dict[str, Any], tools: list[str] | None = None) -> str | None:
    """A note that names the likely fix for ``exc``, or None. ``namespace``: the user's
    variables (the kernel's ``user_ns``); ``tools``: the names of the given tools."""
    if isinstance(exc, SyntaxError):
        return _syntax_note(exc)
    frame = cell_frame(tb)
    names = _visible(frame, namespace)
    if isinstance(exc, NameError):
        return _name_note(exc, names, list(tools or []))
    if isinstance(exc, FileNotFoundError):
        return _file_note(exc, list(tools or []), names)
    if isinstance(exc, ModuleNotFoundError):
        return _module_note(exc, list(tools or []))
    if isinstance(exc, AttributeError):
        line = _failing_line(tb, frame) if frame is not None else None
        return _accessor_note(exc, line) or _attribute_note(exc) or \
            _values_note(tb, frame, names)
    if isinstance(exc, (KeyError, ValueError, LookupError)):
        refused = _tool_value_note(exc, tb, frame, names, list(tools or []))
        if refused is not None:
            return refused
    if isinstance(exc, KeyError):
        return _key_note(exc, tb, frame, names)
    if isinstance(exc, TypeError):
        return _call_note(exc, tb, frame, names, list(tools or [])) or \
            _one_at_a_time_note(exc) or _values_note(tb, frame, names)
    if isinstance(exc, (ValueError, IndexError, ZeroDivisionError)):
        return _values_note(tb, frame, names)
    if isinstance(exc, AssertionError):
        return _assert_note(tb, frame, names, list(tools or []))
    return None


# `37!`, `n!`, `(n-k)!`: a factorial as maths writes it (not `!=`)
_FACTORIAL = re.compile(r"(\b\d+|\b[A-Za-z_]\w*|\))!(?!=)")


def _syntax_note(exc: SyntaxError) -> str | None:
    """Python for a notation it lacks. Seen: a 0.5B model wrote ``factorial_37 = 37!``."""
    line = re.sub(r"'[^'\n]*'|\"[^\"\n]*\"", "''", exc.text or "")  # not in a string
    found = _FACTORIAL.search(line)
    if found is None:
        return None
    operand = "n" if found.group(1) == ")" else found.group(1)
    return (f"Python has no `!` for factorials: write `math.factorial({operand})` (after "
            "`import math`).")


SAFE_BUILTINS = {"len", "sorted", "sum", "min", "max", "abs", "round", "list", "tuple",
                 "set", "dict", "str", "int", "float", "bool", "repr", "reversed"}
_EXPRESSION_NODES = (ast.Name, ast.Constant, ast.Call, ast.Subscript, ast.Attribute,
                     ast.Slice, ast.BinOp, ast.UnaryOp, ast.BoolOp, ast.List, ast.Tuple,
                     ast.Set, ast.Dict, ast.keyword, ast.expr_context, ast.operator,
                     ast.unaryop, ast.boolop, ast.Starred)


def _model_function(value: Any, tools: set[str], names: dict[str, Any], depth: int = 0) -> bool:
    """A function the model defined in its cells that calls no tool (checked through the
    functions it names, a few levels deep): calling it again has no effect outside."""
    if not _model_code(value) or value.__name__ in tools or depth > 3:
        return False
    called = set(value.__code__.co_names)
    for inner in value.__code__.co_consts:  # nested functions and comprehensions
        if isinstance(inner, types.CodeType):
            called |= set(inner.co_names)
    if called & tools or not _keeps_to_itself(value):
        return False
    return all(_model_function(names[n], tools, names, depth + 1) for n in called
               if isinstance(names.get(n), types.FunctionType))


EFFECT_BUILTINS = {"open", "exec", "eval", "input", "setattr", "delattr", "__import__",
                   "globals", "vars"}


PURE_MODULES = {"math", "cmath", "string", "re", "itertools", "functools", "collections",
                "statistics", "fractions", "decimal", "heapq", "bisect", "operator"}


def _root(node: ast.expr) -> str | None:
    """The variable an attribute or index chain starts from (``a`` of ``a.b[0].c``); None
    when it starts from a new object (a literal, a call's result)."""
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _foreign(root: str | None, own: set[str], scope: dict[str, Any]) -> bool:
    """Whether a chain from ``root`` may reach state the function did not make."""
    if root is None or root in own:
        return False
    module = scope.get(root)
    return not (isinstance(module, types.ModuleType) and module.__name__ in PURE_MODULES)


def _keeps_to_itself(fn: types.FunctionType) -> bool:
    """Whether the function changes nothing but its own variables, as far as its source
    shows: no ``global``, no method call or item/attribute store on a name it did not
    make, no builtin with effects."""
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
    except (OSError, TypeError, SyntaxError):
        return False
    own = {a.arg for a in ast.walk(tree) if isinstance(a, ast.arg)}
    own |= {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)
            and isinstance(n.ctx, ast.Store)}
    for node in ast.walk(tree):
        if isinstance(node, (ast.Global, ast.Nonlocal)):
            return False
        if isinstance(node, ast.Call):
            if isinstance(node.func, ast.Attribute) and \
                    _foreign(_root(node.func), own, fn.__globals__):
                return False
            if isinstance(node.func, ast.Name) and node.func.id in EFFECT_BUILTINS:
                return False
        if isinstance(node, (ast.Attribute, ast.Subscript)) and \
                isinstance(node.ctx, (ast.Store, ast.Del)) and \
                _foreign(_root(node), own, {}):
            return False
    return True


def _model_code(fn: object) -> bool:
    """Whether ``fn`` is a Python function written in a cell of the kernel."""
    return isinstance(fn, types.FunctionType) and \
        re.search(r"ipykernel|<ipython-input", fn.__code__.co_filename) is not None


def _indexes_purely(obj: object) -> bool:
    """Whether ``obj[key]`` only reads: a ``defaultdict`` stores every key it is asked for
    (a failed ``assert counts['x'] == 2`` evaluated again would add ``'x'``), and a class of
    the model's own may do anything in ``__getitem__``."""
    if isinstance(obj, collections.Counter):
        return True  # its __missing__ answers 0 and stores nothing
    kind = type(obj)
    return not hasattr(kind, "__missing__") and \
        not _model_code(getattr(kind, "__getitem__", None))


def _evaluable(node: ast.expr, names: dict[str, Any], tools: set[str]) -> bool:
    """An expression that can be evaluated again without effects: names, literals,
    operators, indexing that only reads, and calls of the model's own tool-free functions
    or of a few builtins that only compute."""
    for sub in ast.walk(node):
        if not isinstance(sub, _EXPRESSION_NODES):
            return False
        if isinstance(sub, ast.Subscript) and isinstance(sub.value, ast.Name) and \
                not _indexes_purely(names.get(sub.value.id)):
            return False
        if isinstance(sub, ast.Call):
            if not isinstance(sub.func, ast.Name):
                return False
            name = sub.func.id
            if name in SAFE_BUILTINS and name not in names:
                continue
            if not _model_function(names.get(name), tools, names):
                return False
    return True


def _assert_note(tb: TracebackType | None, frame: FrameType | None, names: dict[str, Any],
                 tools: list[str]) -> str | None:
    """What each side of a failed ``assert f(x) == y`` held (the AssertionError says
    nothing, or only the model's own message): a model whose function is right but whose
    expected value is wrong (``assert vowels_count("quick") == 1``; ``assert
    largest_divisor(36) == 9, "Test failed for 36"``) re-sent the same test for seven
    turns."""
    line = _failing_line(tb, frame) if frame is not None else None
    if line is None or not line.startswith("assert"):
        return None
    try:
        test = ast.parse(line).body[0]
    except (SyntaxError, IndexError):
        return None
    if not isinstance(test, ast.Assert) or not isinstance(test.test, ast.Compare) \
            or len(test.test.ops) != 1:
        return None
    sides = [test.test.left, test.test.comparators[0]]
    if not all(_evaluable(side, names, set(tools)) for side in sides):
        return None
    shown = []
    for side in sides:
        if isinstance(side, ast.Constant):
            continue  # the line shows it
        try:
            with contextlib.redirect_stdout(io.StringIO()), \
                    contextlib.redirect_stderr(io.StringIO()):
                value = eval(compile(ast.Expression(side), "<assert>", "eval"),  # noqa: S307
                             dict(frame.f_globals) if frame else {}, dict(names))
        except Exception:
            return None
        shown.append(f"{ast.unparse(side)} = {describe_value(value)}")
    if not shown:
        return None
    return ("The assert failed: " + "; ".join(shown) + ". Check which is wrong, the code "
            "or the value the assert expects: work the example out by hand.")


def annotate(exc: BaseException, tb: TracebackType | None, namespace: dict[str, Any],
             tools: list[str] | None = None) -> None:
    """Add :func:`note_for`'s note to ``exc`` once; never raises."""
    try:
        note = note_for(exc, tb, namespace, tools)
        if note and note not in getattr(exc, "__notes__", ()):
            exc.add_note(note)
    except Exception:
        pass
