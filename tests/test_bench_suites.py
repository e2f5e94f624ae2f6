"""Suite loading: built-in names, module:callable, modules, entry points, filters."""

import sys
import textwrap
from pathlib import Path

import pytest

from codeact.bench import suites
from codeact.bench.suites import SuiteError, load_suite, select
from codeact.bench.task import Task

ROOT = Path(__file__).resolve().parents[1]


def test_builtin_names():
    assert len(load_suite("builtin")) >= 80
    assert len(load_suite("builtin-quick")) == 12
    wide = load_suite("builtin-24")
    assert len(wide) == 24 and {t.domain for t in wide} == {t.domain for t in load_suite("builtin")}
    assert all(sum(t.domain == d for t in wide) == 4 for d in {t.domain for t in wide})
    mini = load_suite("builtin-mini")
    assert len(mini) == 6 and len({t.domain for t in mini}) == 6


def test_example_suite_by_module_callable(monkeypatch):
    monkeypatch.chdir(ROOT)
    tasks = load_suite("examples.browser_suite:load")
    assert [t.domain for t in tasks] == ["browser"] * 4
    assert all(isinstance(t, Task) for t in tasks)
    tools = tasks[0].make_tools()
    assert [t.name for t in tools] == ["open_page", "click", "scroll"]
    assert tools[1].signature == "(*args) -> str"
    assert "Follow a link" in tools[1].python_stub()
    # a fresh browser per run
    tools[2].fn(2)
    assert "Watering" not in tasks[0].make_tools()[0].fn("/kitchen")


@pytest.fixture
def plugin_module(tmp_path, monkeypatch):
    (tmp_path / "my_suite_mod.py").write_text(textwrap.dedent("""
        from codeact.bench.task import Task

        def double(x: int) -> int:
            '''Double x.'''
            return 2 * x

        TASKS = [Task("p/a", "Double 2.", tools=[double], expected=4)]

        def load():
            return [{"name": "p/b", "instruction": "Double 3.", "tools": [double],
                     "reference": lambda tb: tb["double"].fn(3), "domain": "p"}]

        def dupes():
            return TASKS + TASKS
    """))
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "my_suite_mod"
    sys.modules.pop("my_suite_mod", None)


def test_module_forms(plugin_module):
    assert [t.name for t in load_suite(f"{plugin_module}:TASKS")] == ["p/a"]
    tasks = load_suite(f"{plugin_module}:load")
    assert tasks[0].expected == 6 and tasks[0].domain == "p"
    assert [t.name for t in load_suite(plugin_module)] == ["p/b"]  # load() preferred
    with pytest.raises(SuiteError, match="two tasks"):
        load_suite(f"{plugin_module}:dupes")
    with pytest.raises(SuiteError, match="no attribute"):
        load_suite(f"{plugin_module}:nothing")


def test_entry_point(plugin_module, monkeypatch):
    class EP:
        name = "mine"

        def load(self):
            import my_suite_mod

            return my_suite_mod.load

    monkeypatch.setattr(suites, "entry_points", lambda group: [EP()])
    assert [t.name for t in load_suite("mine")] == ["p/b"]
    with pytest.raises(SuiteError, match="unknown suite"):
        load_suite("nosuch")


def test_import_errors():
    with pytest.raises(SuiteError, match="cannot import"):
        load_suite("no_such_module_xyz:load")


def test_select():
    tasks = load_suite("builtin")
    assert {t.domain for t in select(tasks, filter="^ledger")} == {"ledger"}
    assert [t.name for t in select(tasks, filter="codec", limit=2)] == [
        "codec/caesar-encode", "codec/caesar-decode"]
    assert len(select(tasks, limit=5)) == 5
