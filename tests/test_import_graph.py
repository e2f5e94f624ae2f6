"""No import cycles in codeact: the import graph, read from the source with ``ast``.

Every ``import`` that runs counts, at module level and inside functions (a function-level
import that closes a circle is still a circle: it only moves the failure to run time).
Imports under ``if TYPE_CHECKING:`` never run and are the usual way to name a type
without importing its module, so they are not edges. An edge
goes to the module actually imported: ``from pkg import sub`` is an edge to ``pkg.sub``
when that is a module, else to ``pkg`` (its ``__init__``). The implicit import of a
module's parent packages is not an edge, or every package ``__init__`` that imports its
own submodules would be a cycle.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"


def module_names(root: Path, package: str) -> dict[str, Path]:
    """Dotted module name -> file, for every ``.py`` file of ``package`` under ``root``."""
    names: dict[str, Path] = {}
    for path in sorted((root / package.replace(".", "/")).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        names[".".join(parts)] = path
    return names


def imported_modules(module: str, path: Path, known: set[str]) -> set[str]:
    """The modules of ``known`` that ``module`` (the file ``path``) imports anywhere."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in _runtime_nodes(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            for alias in node.names:
                sub = f"{source}.{alias.name}"
                found.add(sub if sub in known else source)
    return {name for name in found if name in known and name != module}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _runtime_nodes(node: ast.AST) -> Iterator[ast.AST]:
    """Every node of the tree except the bodies of ``if TYPE_CHECKING:`` (their ``else``
    runs, so it stays)."""
    yield node
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.If) and _is_type_checking(child.test):
            for other in child.orelse:
                yield from _runtime_nodes(other)
            continue
        yield from _runtime_nodes(child)


def import_graph(root: Path, package: str) -> dict[str, set[str]]:
    """Module -> the modules it imports, within ``package``."""
    names = module_names(root, package)
    return {m: imported_modules(m, p, set(names)) for m, p in names.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a path ``[a, b, ..., a]``, or None when the graph has none."""
    state: dict[str, int] = {}  # 1: on the current path, 2: finished
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state:
                cycle = visit(nxt)
                if cycle:
                    return cycle
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state:
            cycle = visit(start)
            if cycle:
                return cycle
    return None


# ----------------------------------------------------------------- the cycle finder itself
def test_the_cycle_finder_finds_a_cycle_in_a_toy_graph():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"a"}}) == ["a", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set(), "d": {"a", "c"}}) is None
    assert find_cycle({}) is None


def test_function_level_and_relative_imports_are_edges(tmp_path):
    pkg = tmp_path / "toy"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("from toy.sub import leaf\n")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "sub" / "leaf.py").write_text("X = 1\n")
    (pkg / "a.py").write_text("import toy.b\n")
    (pkg / "b.py").write_text("def late():\n    from . import a\n    return a\n")
    (pkg / "c.py").write_text("from .sub.leaf import X\nfrom toy import sub\n")
    (pkg / "d.py").write_text("import typing\nif typing.TYPE_CHECKING:\n    import toy.e\n"
                              "else:\n    import toy.a\n")
    (pkg / "e.py").write_text("from typing import TYPE_CHECKING\nimport toy.d\n"
                              "if TYPE_CHECKING:\n    from toy import d\n")
    graph = import_graph(tmp_path, "toy")
    assert graph["toy"] == {"toy.sub.leaf"}
    assert graph["toy.b"] == {"toy.a"}  # inside a function, relative
    assert graph["toy.c"] == {"toy.sub.leaf", "toy.sub"}
    assert graph["toy.sub.leaf"] == set()  # its parent packages are not edges
    assert graph["toy.d"] == {"toy.a"}  # type-only imports never run: no edge
    assert graph["toy.e"] == {"toy.d"}
    assert find_cycle(graph) == ["toy.a", "toy.b", "toy.a"]


# ----------------------------------------------------------------- codeact
@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    return import_graph(SRC, "codeact")


def test_codeact_has_no_import_cycle(graph):
    assert len(graph) > 100
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_one_task_run_is_below_both_bench_backends(graph):
    # the local runner and the Ray backend both import run_one; it imports neither
    assert "codeact.bench.run_one" in graph["codeact.bench.runner"]
    assert "codeact.bench.run_one" in graph["codeact.bench.ray_backend"]
    assert "codeact.bench.runner" not in graph["codeact.bench.ray_backend"]
    upper = {"codeact.bench.runner", "codeact.bench.ray_backend", "codeact.bench.cli",
             "codeact.bench"}
    assert not graph["codeact.bench.run_one"] & upper


def test_generator_families_sit_below_their_registry(graph):
    families = [m for m in graph if m.startswith("codeact.data.gen_")]
    assert len(families) >= 4
    for family in families:
        assert "codeact.data.generators" not in graph[family], family
        assert family in graph["codeact.data.generators"]


# ----------------------------------------------------------------- the layers
# Lowest first. A module belongs to the layer of its longest matching prefix; it may
# import its own layer and the ones below, never one above. docs/architecture.md draws
# the same table.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("base", ("codeact", "codeact.errors", "codeact.paths", "codeact.hosts",
              "codeact.prompts", "codeact.tools", "codeact.trajectory", "codeact.events")),
    ("seams", ("codeact.llm", "codeact.runtime", "codeact.actions", "codeact.notebook",
               "codeact.mcp", "codeact.mcp.client", "codeact.mcp.errors",
               "codeact.mcp.names", "codeact.mcp.schema", "codeact.mcp.tools")),
    ("agent", ("codeact.agent",)),
    ("composition", ("codeact.config", "codeact.assemble")),
    ("front-end parts", ("codeact.cli.options", "codeact.cli.output", "codeact.cli.render",
                         "codeact.cli.build", "codeact.cli.doctor", "codeact.mcp.files",
                         "codeact.mcp.guard", "codeact.mcp.server")),
    ("front-ends", ("codeact.bench", "codeact.data", "codeact.server", "codeact.train",
                    "codeact.mcp.cli", "codeact.cli.run", "codeact.cli.chat",
                    "codeact.cli.kernelspec")),
    ("the command", ("codeact.cli", "codeact.cli.root", "codeact.cli.__main__",
                     "codeact.bench.__main__", "codeact.train.__main__")),
]


def layer_of(module: str) -> int:
    """The index in LAYERS of the longest prefix that names ``module`` or a parent."""
    best, best_len = -1, -1
    for index, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best_len:
                best, best_len = index, len(prefix)
    return best


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    """Every edge from a lower layer to a higher one, as readable lines."""
    bad = []
    for module, imported in sorted(graph.items()):
        for target in sorted(imported):
            if layer_of(target) > layer_of(module):
                bad.append(f"{module} ({LAYERS[layer_of(module)][0]}) imports {target} "
                           f"({LAYERS[layer_of(target)][0]})")
    return bad


def test_the_layer_check_catches_an_upward_import():
    toy = {"codeact.llm.base": {"codeact.agent.loop"}, "codeact.agent.loop": set()}
    assert upward_imports(toy) == ["codeact.llm.base (seams) imports codeact.agent.loop "
                                   "(agent)"]
    assert layer_of("codeact.mcp.server") > layer_of("codeact.mcp.tools")


def test_every_module_has_a_layer(graph):
    assert [m for m in graph if layer_of(m) < 0] == []


def test_nothing_imports_upward(graph):
    assert upward_imports(graph) == []
