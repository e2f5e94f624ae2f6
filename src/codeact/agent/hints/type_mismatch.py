"""Conditions that cannot change: a comparison between values of two different types.

A small model counts committees with ``'Ana' not in comb`` over ``combinations(range(10),
5)`` (the tuples hold ints: always true, nothing is filtered out), or selects
``orders[orders['customer'].isin(bronze)]`` with a list of dicts (always false: no row).
The cell runs cleanly and the answer is quietly wrong; the model never sees the types.
After a successful code cell, a silent probe looks at the values such a comparison meets
(the items a comprehension filters, a DataFrame column); when no value of one side could
ever equal the other, the model is told which comparison and which types.

Only what the cell wrote at its top level is read (not inside functions), and the probe
calls nothing the model wrote: it reads variables, iterates lists, tuples, sets and dicts,
and reads DataFrame columns.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from codeact.agent.hints.base import Advice, Hint, RunStart, Step, Verdict

if TYPE_CHECKING:
    from codeact.runtime.observation import Observation

MARKER = "__codeact_types__"
MAX_CHECKS = 8  # comparisons probed per cell
MAX_ITEMS = 2000  # values looked at per comparison
_ITER_CALLS = ("items", "values", "keys")  # dict views: safe to call on a real dict


@dataclass(frozen=True)
class Check:
    """One comparison to probe. ``kind``: ``items`` (a comprehension's condition on its
    loop variable), ``column`` (a DataFrame column against a constant) or ``isin``."""

    text: str  # the comparison as written
    kind: str
    spec: dict[str, Any]  # what the probe needs (JSON)
    always: bool  # the value the comparison would always have (True for != and not in)


def _path(node: ast.expr) -> str | None:
    """``a`` or ``a.b.c``: a variable the probe can read without calling anything."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        inner = _path(node.value)
        return f"{inner}.{node.attr}" if inner else None
    return None


def _iterable(node: ast.expr) -> dict[str, Any] | None:
    """A comprehension's iterable the probe may iterate: a variable, a dict view of one,
    or ``enumerate`` of one."""
    path = _path(node)
    if path:
        return {"path": path, "call": None}
    if isinstance(node, ast.Call) and not node.args and not node.keywords \
            and isinstance(node.func, ast.Attribute) and node.func.attr in _ITER_CALLS:
        path = _path(node.func.value)
        return {"path": path, "call": node.func.attr} if path else None
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
            and node.func.id == "enumerate" and len(node.args) == 1 and not node.keywords:
        path = _path(node.args[0])
        return {"path": path, "call": "enumerate"} if path else None
    return None


def _target(node: ast.expr) -> Any:
    """A loop target as JSON: a name, or a list of targets (tuple unpacking); None when it
    is something else (an attribute, a starred name)."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Tuple | ast.List):
        parts = [_target(elt) for elt in node.elts]
        return None if any(p is None for p in parts) else parts
    return None


def _names(target: Any) -> set[str]:
    if isinstance(target, str):
        return {target}
    return {name for part in target for name in _names(part)} if target else set()


def _constant(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value is not None \
        and isinstance(node.value, str | int | float | bytes)


def _looked_at(node: ast.expr, names: set[str]) -> tuple[str, Any] | None:
    """``x`` or ``x['key']`` for a loop variable ``x``: (name, key or None)."""
    if isinstance(node, ast.Name) and node.id in names:
        return node.id, None
    if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) \
            and node.value.id in names and _constant(node.slice):
        return node.value.id, node.slice.value  # type: ignore[attr-defined]
    return None


def _column(node: ast.expr) -> tuple[str, str] | None:
    """``df['col']`` or ``df.col``: (frame variable, column); the probe checks that the
    variable is a DataFrame."""
    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant) \
            and isinstance(node.slice.value, str):
        frame = _path(node.value)
        return (frame, node.slice.value) if frame else None
    if isinstance(node, ast.Attribute):
        frame = _path(node.value)
        return (frame, node.attr) if frame else None
    return None


def _top_level(tree: ast.Module) -> list[ast.AST]:
    """Every node of the cell's top level, not inside a function, class or lambda (their
    variables are not the kernel's)."""
    out: list[ast.AST] = []
    todo: list[ast.AST] = list(tree.body)
    while todo:
        node = todo.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef
                      | ast.Lambda):
            continue
        out.append(node)
        todo.extend(ast.iter_child_nodes(node))
    return out


def _item_checks(comp: ast.ListComp | ast.SetComp | ast.DictComp | ast.GeneratorExp
                 ) -> list[Check]:
    checks = []
    bound: set[str] = set()
    for gen in comp.generators:
        target = _target(gen.target)
        source = _iterable(gen.iter)
        names = _names(target)
        if target is None or source is None or source["path"].split(".")[0] in bound:
            bound |= names
            continue  # iterates a variable of the comprehension itself: not probed
        bound |= names
        for cond in gen.ifs:
            for node in ast.walk(cond):
                if not isinstance(node, ast.Compare) or len(node.ops) != 1:
                    continue
                op, left, right = node.ops[0], node.left, node.comparators[0]
                if isinstance(op, ast.In | ast.NotIn) and _constant(left):
                    seen, membership = _looked_at(right, names), True
                    const = left
                elif isinstance(op, ast.Eq | ast.NotEq) and (_constant(left)
                                                             or _constant(right)):
                    const, other = (left, right) if _constant(left) else (right, left)
                    seen, membership = _looked_at(other, names), False
                else:
                    continue
                if seen is None:
                    continue
                spec = {**source, "target": target, "name": seen[0], "key": seen[1],
                        "membership": membership,
                        "const": const.value}  # type: ignore[attr-defined]
                checks.append(Check(ast.unparse(node), "items", spec,
                                    isinstance(op, ast.NotIn | ast.NotEq)))
    return checks


def find_checks(code: str) -> list[Check]:
    """The comparisons of a cell's top level that the probe can judge."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return []
    nodes = sorted(_top_level(tree), key=lambda n: (getattr(n, "lineno", 0),
                                                    getattr(n, "col_offset", 0)))
    checks: list[Check] = []
    in_conditions: set[int] = set()  # a comprehension's conditions are judged per item
    for node in nodes:
        if isinstance(node, ast.ListComp | ast.SetComp | ast.DictComp | ast.GeneratorExp):
            checks += _item_checks(node)
            in_conditions |= {id(sub) for gen in node.generators for cond in gen.ifs
                              for sub in ast.walk(cond)}
    for node in nodes:
        if id(node) in in_conditions:
            continue
        if isinstance(node, ast.Compare) and len(node.ops) == 1 \
                and isinstance(node.ops[0], ast.Eq | ast.NotEq):
            left, right = node.left, node.comparators[0]
            const, other = (left, right) if _constant(left) else (right, left)
            column = _column(other) if _constant(const) and not _constant(other) else None
            if column:
                checks.append(Check(ast.unparse(node), "column",
                                    {"frame": column[0], "col": column[1],
                                     "const": const.value},  # type: ignore[attr-defined]
                                    isinstance(node.ops[0], ast.NotEq)))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and node.func.attr == "isin" and len(node.args) == 1 and not node.keywords:
            column, other = _column(node.func.value), _path(node.args[0])
            if column and other:
                checks.append(Check(ast.unparse(node), "isin",
                                    {"frame": column[0], "col": column[1], "other": other},
                                    False))
    unique: dict[str, Check] = {}  # one comparison over two iterables is two checks
    for check in checks:
        unique.setdefault(check.text + json.dumps(check.spec, sort_keys=True, default=str),
                          check)
    return list(unique.values())[:MAX_CHECKS]


def probe_code(checks: list[Check]) -> str:
    """Kernel code that prints one marked JSON line: ``[index, types seen, other types]``
    for each comparison whose two sides share no type (strings, numbers and bytes are
    each one kind; a datetime column is left out, since pandas reads a date string
    against it). It calls no function of the model's and leaves nothing defined."""
    specs = [[i, c.kind, c.spec] for i, c in enumerate(checks)]
    return f'''def __codeact_types(specs):
    import inspect, itertools, json, numbers, sys
    def kind(v):
        if isinstance(v, numbers.Number) or type(v).__name__ in ("bool", "bool_"):
            return "number"
        if isinstance(v, str):
            return "str"
        return type(v).__name__
    def read(path):
        root, *attrs = path.split(".")
        if root not in globals():
            raise LookupError(root)
        value = globals()[root]
        for attr in attrs:  # no property or __getattr__ of the model's runs
            value = inspect.getattr_static(value, attr)
        return value
    def values_of(container):
        if isinstance(container, dict):
            container = dict.keys(container)
        if type(container) in (list, tuple, set, frozenset, range, type({{}}.keys())):
            return list(itertools.islice(container, {MAX_ITEMS}))
        pd = sys.modules.get("pandas")
        if pd is not None and isinstance(container, (pd.Series, pd.Index)):
            return list(container.dropna().unique()[:{MAX_ITEMS}])
        raise TypeError("not a plain container")
    def bind(target, item, env):
        if isinstance(target, str):
            env[target] = item
            return
        if type(item) not in (tuple, list) or len(item) != len(target):
            raise ValueError("unpack")
        for t, v in zip(target, item):
            bind(t, v, env)
    def column(frame, col):
        pd = sys.modules.get("pandas")
        df = read(frame)
        if pd is None or not isinstance(df, pd.DataFrame) or col not in df.columns:
            raise TypeError("no column")
        series = df[col]
        if pd.api.types.is_datetime64_any_dtype(series):
            raise TypeError("datetime")
        return series
    out = []
    for index, what, spec in specs:
        try:
            if what == "items":
                source = read(spec["path"])
                if spec["call"] == "enumerate":
                    items = list(enumerate(values_of(source)))
                elif spec["call"] is not None:
                    if not isinstance(source, dict) or getattr(type(source), spec["call"]) \
                            is not getattr(dict, spec["call"]):
                        continue
                    items = list(itertools.islice(getattr(source, spec["call"])(),
                                                  {MAX_ITEMS}))
                else:
                    items = values_of(source)
                seen, names = set(), {{}}
                for item in items:
                    env = {{}}
                    try:
                        bind(spec["target"], item, env)
                        value = env[spec["name"]]
                        if spec["key"] is not None:
                            if not isinstance(value, (dict, list, tuple)):
                                raise TypeError
                            value = value[spec["key"]]
                    except Exception:
                        continue
                    if spec["membership"]:
                        if isinstance(value, str):
                            inner = [value]
                        else:
                            try:
                                inner = values_of(value)
                            except TypeError:
                                seen = None
                                break
                    else:
                        inner = [value]
                    for v in inner:
                        seen.add(kind(v))
                        names[kind(v)] = type(v).__name__
                if not seen or kind(spec["const"]) in seen:
                    continue
                out.append([index, sorted(set(names.values())), type(spec["const"]).__name__])
            else:
                values = column(spec["frame"], spec["col"]).dropna()
                values = values.unique()[:{MAX_ITEMS}]
                mine = {{kind(v): type(v).__name__ for v in values}}
                if what == "column":
                    if not mine or kind(spec["const"]) in mine:
                        continue
                    out.append([index, sorted(set(mine.values())),
                                type(spec["const"]).__name__])
                else:
                    others = {{kind(v): type(v).__name__ for v in values_of(read(spec["other"]))}}
                    if not mine or not others or set(mine) & set(others):
                        continue
                    out.append([index, sorted(set(mine.values())),
                                ", ".join(sorted(set(others.values())))])
        except Exception:
            continue
    print({MARKER!r} + json.dumps(out))
__codeact_types({specs!r})
del __codeact_types'''


def read_results(output: str) -> list[tuple[int, list[str], str]]:
    """The probe's findings; none when it printed no marked line (it failed)."""
    for line in reversed(output.splitlines()):
        if line.startswith(MARKER):
            try:
                return [(int(i), [str(t) for t in types], str(other))
                        for i, types, other in json.loads(line[len(MARKER):])]
            except (ValueError, TypeError):
                return []
    return []


def _types(names: list[str]) -> str:
    return " and ".join(names[:3])


def describe(check: Check, types: list[str], other: str) -> str:
    """One sentence: which comparison never changes, and the types that say so."""
    verdict = "always true here (it rules nothing out)" if check.always \
        else "never true here"
    spec = check.spec
    if check.kind == "items":
        seen = spec["name"] if spec["key"] is None else f"{spec['name']}[{spec['key']!r}]"
        where = (f"the items of `{seen}` are {_types(types)}" if spec["membership"]
                 else f"`{seen}` holds {_types(types)} values")
        return f"`{check.text}` is {verdict}: {where}, never {other}"
    where = f"column `{spec['col']}` of `{spec['frame']}` holds {_types(types)} values"
    if check.kind == "isin":
        return (f"`{check.text}` is never true here: {where} and `{spec['other']}` holds "
                f"{other} values, so it selects no row")
    return f"`{check.text}` is {verdict}: {where}, never {other}"


def _shows(output: str, answer: str) -> bool:
    """Whether ``answer`` stands in ``output`` as a whole value (``252``, not ``2520``)."""
    value = answer.strip()
    if not value or len(value) > 200:
        return False
    return re.search(rf"(?<![\w.]){re.escape(value)}(?![\w.])", output) is not None


def _short(answer: str) -> str:
    value = answer.strip()
    return value if len(value) <= 60 else value[:60] + "..."


class TypeMismatch(Hint):
    """Per cell: the comparisons probed, and those whose sides share no type."""

    name = "type_mismatch"

    def __init__(self) -> None:
        self._checks: list[Check] = []
        self._found: list[str] = []
        self._said: set[str] = set()
        self._printed: list[tuple[str, list[str]]] = []  # output of a flagged cell, findings
        self._refused = False
        self._task = ""

    def reset(self, run: RunStart) -> None:
        self._checks, self._found, self._said = [], [], set()
        self._printed = []
        self._refused = False
        self._task = run.task.casefold()

    def _worth_saying(self, check: Check) -> bool:
        """A condition that is never true always matters (it keeps nothing); one that is
        always true only when its constant is something the task names (`'Ana' not in
        comb`): `x != ''` on numbers is a harmless guard."""
        const = check.spec.get("const")
        return not check.always or (isinstance(const, str | int | float) and const != ""
                                    and str(const).casefold() in self._task)

    def probe(self, step: Step) -> str | None:
        self._found = []
        if not step.ok or step.observation is None:
            return None
        self._checks = find_checks(step.action)
        return probe_code(self._checks) if self._checks else None

    def read_probe(self, step: Step, obs: Observation) -> None:
        found = read_results(obs.stdout) if obs.ok else []
        self._found = [describe(self._checks[i], types, other) for i, types, other in found
                       if 0 <= i < len(self._checks) and self._worth_saying(self._checks[i])]

    @staticmethod
    def _sentence(found: list[str]) -> str:
        return "; ".join(found) + ". Compare values of the same type."

    def checks_answer(self, answer: str, step: Step | None = None) -> str | None:
        """An answer from a cell with such a comparison, or a value that such a cell
        printed (sent in the next cell, ``final_answer(252)``), is refused once per run (a
        resend stands: a comparison that cannot change may be harmless). Seen: both
        notes read, and the value the wrong cell printed submitted next."""
        if self._refused:
            return None
        found = self._found if step is not None else []
        if not found:
            found = [text for printed, texts in self._printed for text in texts
                     if _shows(printed, answer)]
        if not found:
            return None
        self._refused = True
        self._said.update(found)
        self._found = []
        return (f"Your answer {_short(answer)} comes from a cell where "
                f"{self._sentence(list(dict.fromkeys(found)))} Fix that comparison and "
                f"compute the answer again.")

    def after_action(self, step: Step, so_far: Verdict) -> Advice | None:
        """Each such comparison is named once per run."""
        if self._found:
            self._printed.append((step.output, list(self._found)))
        fresh = [text for text in self._found if text not in self._said]
        self._found = []
        if not fresh:
            return None
        self._said.update(fresh)
        return Advice(note=f"Note: {self._sentence(fresh)}", problem=True)
