"""What ``final_answer(value)`` submits, computed inside the kernel.

A string is the answer as it is; other values are their Python literal (``repr``, with
numpy values and iterators made plain first), so lists, dicts and booleans stay
checkable. A function or class defined in the kernel is submitted as source code
together with what it needs to run on its own: the imports, helper functions, classes
and constants it refers to, found by reading the cells IPython keeps in its history
(HumanEval-style answers). Standard library only: this module's source runs in the kernel.
"""

from __future__ import annotations

import ast
import inspect
import itertools
import symtable
import textwrap
import types
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

MAX_LITERAL = 10_000  # a constant longer than this is not inlined into submitted code
MAX_ITEMS = 1_000_000


def answer_text(value: Any, namespace: Mapping[str, Any], cells: Iterable[str],
                hidden: Iterable[str] = ()) -> str:
    """The answer ``final_answer(value)`` submits, as text."""
    if isinstance(value, str):
        return value
    if is_kernel_code(value, namespace):
        return bundle(value, namespace, cells, hidden)
    if isinstance(value, types.FunctionType | types.BuiltinFunctionType | types.MethodType
                  | types.ModuleType | type):
        name = getattr(value, "__name__", type(value).__name__)
        raise TypeError(f"final_answer({name}): only functions and classes defined in this "
                        "kernel can be submitted as code; pass a value or a string")
    return repr(plain(value))


def plain(value: Any, _active: set[int] | None = None) -> Any:
    """``value`` with numpy numbers and arrays turned into Python ones and iterators into
    lists, so its ``repr`` is a Python literal; containers keep their types."""
    active = set() if _active is None else _active
    mod = type(value).__module__ or ""
    if mod == "numpy" or mod.startswith("numpy."):
        tolist = getattr(value, "tolist", None)
        return tolist() if callable(tolist) else value
    if isinstance(value, Iterator | range | type({}.keys()) | type({}.values())
                  | type({}.items())):
        return [plain(x, active) for x in itertools.islice(value, MAX_ITEMS)]
    if type(value) in (list, tuple, set, frozenset, dict):
        if id(value) in active:
            return value
        active.add(id(value))
        try:
            if isinstance(value, dict):
                return {plain(k, active): plain(v, active) for k, v in value.items()}
            return type(value)(plain(x, active) for x in value)
        finally:
            active.discard(id(value))
    return value


def is_kernel_code(value: Any, namespace: Mapping[str, Any]) -> bool:
    """True for a function or class defined by code run in this kernel."""
    value = inspect.unwrap(value) if callable(value) else value
    module = namespace.get("__name__", "__main__")
    if isinstance(value, types.FunctionType):
        return value.__module__ == module
    return isinstance(value, type) and value.__module__ == module


def bundle(value: Any, namespace: Mapping[str, Any], cells: Iterable[str],
           hidden: Iterable[str] = ()) -> str:
    """Source of ``value`` preceded by the imports, helpers and constants it uses."""
    index = index_cells(cells)
    skip = set(hidden) | {"final_answer"}
    imports: list[str] = []
    defs: list[str] = []
    seen: set[str] = set()
    module = namespace.get("__name__", "__main__")

    def source_of(name: str, obj: Any) -> str:
        target = inspect.unwrap(obj) if callable(obj) else obj
        own = getattr(target, "__name__", name)
        try:
            src = textwrap.dedent(inspect.getsource(target))
        except (OSError, TypeError):
            src = ""
        if not (_defines(src, own) or own == "<lambda>" and _parses(src)):
            entry = index.get(own)
            if entry is None or entry[0] != "def":
                raise TypeError(f"final_answer: the source code of {own} is not available "
                                "(define it in a cell, not with exec or eval)")
            src = entry[1]
        src = src.rstrip() + "\n"
        if own != name and own != "<lambda>":
            src += f"{name} = {own}\n"
        return src

    def visit(name: str) -> None:
        if name in seen or name in skip:
            return
        seen.add(name)
        if name not in namespace:
            return  # a builtin, or a name that is only bound at call time
        obj = namespace[name]
        entry = index.get(name)
        if getattr(obj, "__module__", None) == "codeact_tools":
            return  # a host tool: it exists only where the tools are
        if entry is not None and entry[0] == "import":
            _add(imports, entry[1])
            return
        if isinstance(obj, types.ModuleType):
            base = obj.__name__
            _add(imports, f"import {base}" if base == name else f"import {base} as {name}")
            return
        if is_kernel_code(obj, namespace):
            src = source_of(name, obj)
            for dep in global_names(src, exclude=name):
                visit(dep)
            _add(defs, src)
            return
        owner = getattr(obj, "__module__", None)
        qualname = getattr(obj, "__qualname__", "")
        if owner and owner not in (module, "builtins") and qualname.isidentifier() and (
                callable(obj) or isinstance(obj, type)):
            alias = "" if qualname == name else f" as {name}"
            _add(imports, f"from {owner} import {qualname}{alias}")
            return
        literal = _literal(obj)
        if literal is not None:
            _add(defs, f"{name} = {literal}\n")
        elif entry is not None and entry[0] == "assign":
            for dep in global_names(entry[1], exclude=name):
                visit(dep)
            _add(defs, entry[1])

    name = getattr(inspect.unwrap(value) if callable(value) else value, "__name__", "")
    seen.add(name)
    main = source_of(name, value)
    for dep in global_names(main, exclude=name):
        visit(dep)
    parts = []
    if imports:
        parts.append("\n".join(imports) + "\n")
    parts.extend(defs)
    parts.append(main)
    return "\n\n".join(p.rstrip("\n") for p in parts) + "\n"


def _add(items: list[str], text: str) -> None:
    if text not in items:
        items.append(text)


def _parses(src: str) -> bool:
    try:
        ast.parse(src)
        return bool(src.strip())
    except (SyntaxError, ValueError):
        return False


def _defines(src: str, name: str) -> bool:
    try:
        tree = ast.parse(src)
    except (SyntaxError, ValueError):
        return False
    return any(isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
               and n.name == name for n in tree.body)


def _literal(obj: Any) -> str | None:
    if isinstance(obj, types.FunctionType | type | types.ModuleType) or callable(obj):
        return None
    try:
        text = repr(obj)
        if len(text) > MAX_LITERAL:
            return None
        return text if ast.literal_eval(text) == obj else None
    except Exception:
        return None


def index_cells(cells: Iterable[str]) -> dict[str, tuple[str, str]]:
    """Map each name bound at the top level of the cells to how it was last bound:
    ``("import", "from x import y")``, ``("def", source)`` or ``("assign", source)``."""
    index: dict[str, tuple[str, str]] = {}
    for cell in cells:
        try:
            tree = ast.parse(cell)
        except (SyntaxError, ValueError):
            continue
        lines = cell.splitlines()
        for node in tree.body:
            if isinstance(node, ast.Import):
                for alias in node.names:
                    bound = alias.asname or alias.name.split(".")[0]
                    index[bound] = ("import", ast.unparse(ast.Import(names=[alias])))
            elif isinstance(node, ast.ImportFrom):
                for alias in node.names:
                    if alias.name == "*":
                        continue
                    stmt = ast.ImportFrom(module=node.module, names=[alias], level=node.level)
                    index[alias.asname or alias.name] = ("import", ast.unparse(stmt))
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                start = min([node.lineno] + [d.lineno for d in node.decorator_list])
                src = textwrap.dedent("\n".join(lines[start - 1:node.end_lineno])) + "\n"
                index[node.name] = ("def", src)
            elif isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                src = "\n".join(lines[node.lineno - 1:node.end_lineno]) + "\n"
                for t in targets:
                    if isinstance(t, ast.Name):
                        index[t.id] = ("assign", src)
    return index


def global_names(src: str, exclude: str = "") -> list[str]:
    """Names that code in ``src`` reads from the global namespace (decorators, defaults,
    function and class bodies); builtins among them are left to the caller to skip."""
    try:
        top = symtable.symtable(src, "<final_answer>", "exec")
    except (SyntaxError, ValueError):
        return []
    found: list[str] = []

    def walk(table: symtable.SymbolTable) -> None:
        for sym in table.get_symbols():
            n = sym.get_name()
            if not sym.is_referenced() or n == exclude or n in found:
                continue
            if table.get_type() == "module":
                wanted = not sym.is_assigned() and not sym.is_imported()
            else:
                wanted = sym.is_global() or (table.get_type() == "class"
                                            and not sym.is_local())
            if wanted:
                found.append(n)
        for child in table.get_children():
            walk(child)

    walk(top)
    return found
