"""The thirdparty suite: its shape, its tools' style, its answers, and its kernel self-check."""

import ast
import inspect
import json
import re

import pytest

from codeact.bench import builtin, thirdparty
from codeact.bench.selfcheck import check_suite, render, wrong_answers
from codeact.bench.suites import load_suite
from codeact.bench.task import CheckContext
from codeact.bench.thirdparty import library, scheduling, warehouse
from codeact.bench.thirdparty._spec import make_task
from codeact.tools import Tool

TASKS = thirdparty.load()
BY_NAME = {t.name: t for t in TASKS}


def _specs(task):
    items = task.tools() if callable(task.tools) else task.tools
    return list(items)


def _sig_params(signature: str) -> list[str]:
    """Parameter names in a third-party signature string such as 'f(a: int, *b) -> x'."""
    inner = signature[signature.index("(") + 1:signature.rindex(")")]
    inner = inner[:inner.index(")")] if ")" in inner else inner  # '-> list of [str, str]'
    inner = re.sub(r"\[[^\]]*\]", "", inner)  # dict[str, int] inside a parameter
    parts = [p.strip() for p in inner.split(",") if p.strip()]
    return [re.match(r"\**\w+", p).group(0) for p in parts]


def test_size_domains_and_registration():
    assert len(TASKS) >= 30
    domains = {t.domain for t in TASKS}
    assert len(domains) >= 4
    assert not domains & set(builtin.DOMAINS)  # new domains, not the built-in ones
    assert all(sum(t.domain == d for t in TASKS) >= 6 for d in domains)
    assert [t.name for t in load_suite("thirdparty")] == [t.name for t in TASKS]
    quick = load_suite("thirdparty-quick")
    assert [t.name for t in quick] == thirdparty.QUICK
    assert all(sum(t.domain == d for t in quick) == 2 for d in domains)


def test_tools_are_written_as_external_suites_write_them():
    seen_sigs = {}
    factories = set()
    for task in TASKS:
        if callable(task.tools):
            factories.add(task.domain)
        for spec in _specs(task):
            assert isinstance(spec, tuple) and len(spec) == 4, spec
            name, fn, desc, sig = spec
            assert sig.startswith(f"{name}("), sig  # the signature string repeats the name
            assert isinstance(desc, str) and len(desc) > 15
            assert inspect.getdoc(fn) is None, name  # described by the string only
            assert not getattr(fn, "__annotations__", None), name  # no type hints either
            seen_sigs[name] = sig
    sigs = list(seen_sigs.values())
    assert sum("*" in s.split("->")[0] for s in sigs) >= 3  # *args tools

    def is_python(sig):
        try:
            ast.parse(f"def {sig}: pass")
            return True
        except SyntaxError:
            return False

    odd = [s for s in sigs if not is_python(s)]
    assert len(odd) >= 5, odd  # 'list of str', 'int/float', '[str, int, int, str]' ...
    assert {"warehouse", "calendar"} <= factories  # stateful tool sets from a factory


@pytest.mark.parametrize("task", TASKS[::7], ids=lambda t: t.name)
def test_signature_strings_name_the_callables_parameters(task):
    for name, fn, _desc, sig in _specs(task):
        star = {inspect.Parameter.VAR_POSITIONAL: "*", inspect.Parameter.VAR_KEYWORD: "**"}
        real = [star.get(p.kind, "") + p.name for p in inspect.signature(fn).parameters.values()]
        assert _sig_params(sig) == real, (name, sig)


def test_answers_come_in_every_type():
    kinds = set()
    for t in TASKS:
        e = t.expected
        if isinstance(e, list):
            kinds.add("list-ordered" if t.metadata["ordered"] else "list-any-order")
        else:
            kinds.add(type(e).__name__)
    assert kinds >= {"int", "float", "str", "bool", "dict", "list-ordered", "list-any-order"}


def test_expected_answers_are_computed_and_deterministic():
    again = {t.name: t.expected for t in thirdparty.load()}
    assert again == {t.name: t.expected for t in TASKS}
    for t in TASKS:
        assert "answer" in t.metadata["solution_code"]
        assert t.expected is not None


@pytest.mark.parametrize("task", TASKS, ids=lambda t: t.name)
def test_checker_accepts_the_answer_and_rejects_wrong_ones(task):
    ctx = CheckContext(task=task, expected=task.expected)
    assert task.check(render(task.expected), ctx).success
    assert task.check(json.dumps(task.expected), ctx).success
    for wrong in wrong_answers(task.expected, ordered=task.metadata["ordered"]):
        assert not task.check(render(wrong), ctx).success, wrong
    assert task.instruction.strip() and len(task.instruction) < 600


def test_checker_rules_by_type():
    def ok(name, answer):
        t = BY_NAME[name]
        return t.check(answer, CheckContext(task=t, expected=t.expected)).success

    # numbers within the task's tolerance, in sentences and with currency signs
    assert ok("warehouse/north-value", "$3,200.50")
    assert ok("warehouse/north-value", "The north stock is worth 3200.504 USD")
    assert not ok("warehouse/north-value", "3200.6")
    assert ok("recipes/soup-kcal", "343.15")
    # whole numbers must round to the expected value
    assert ok("warehouse/paint-units", "185 units") and not ok("warehouse/paint-units", "186")
    # order matters only where the task says so
    assert ok("library/overdue-members", "M-105, M-104, M-103, M-101")
    assert not ok("library/tolkien-available", "['The Silmarillion', 'The Hobbit']")
    assert ok("library/tolkien-available", "The Hobbit\nThe Silmarillion")
    # dicts by value, in any key order, JSON or Python
    assert ok("library/genre-copies", '{"history": 5, "science": 5, "mystery": 6, '
              '"fantasy": 15}')
    assert not ok("library/genre-copies", "{'fantasy': 15, 'mystery': 6, 'science': 5}")
    # booleans
    assert ok("warehouse/south-can-ship", "No, only 38 gloves are at the south site.")
    assert not ok("warehouse/south-can-ship", "no idea")


def test_stateful_tools_are_fresh_for_every_run():
    task = BY_NAME["warehouse/restock"]
    tools = task.tools_by_name()
    tools["place_order"].fn("HX-210", 100, "south")
    assert tools["order_total"].fn() == 745.0
    assert tools["stock_level"].fn("HX-210") == 153
    fresh = task.tools_by_name()
    assert fresh["order_total"].fn() == 0
    assert fresh["stock_level"].fn("HX-210") == 53
    cal = BY_NAME["calendar/book-review"].tools_by_name()
    cal["book_meeting"].fn("x", "2024-03-08", "16:30", "17:00", ["Ana"])
    with pytest.raises(ValueError, match="Ana is busy"):
        cal["book_meeting"].fn("y", "2024-03-08", "16:45", "17:00", ["Ana", "Lee"])
    again = BY_NAME["calendar/book-review"].tools_by_name()
    assert again["book_meeting"].fn("y", "2024-03-08", "16:45", "17:00", ["Ana", "Lee"])


def test_tools_fail_with_clear_messages():
    w = warehouse.Warehouse()
    with pytest.raises(KeyError, match="unknown SKU 'NOPE'"):
        w.stock_level("NOPE")
    with pytest.raises(ValueError, match="unknown site 'east'; use one of north, south"):
        w.move_stock("HX-210", 1, "east", "north")
    with pytest.raises(ValueError, match="north holds only 41 units"):
        w.move_stock("HX-210", 50, "north", "south")
    with pytest.raises(ValueError, match="not in the planning week"):
        scheduling.TeamCalendar().get_events("Tom", "2024-04-01")
    with pytest.raises(ValueError, match="not YYYY-MM-DD"):
        library.overdue_fine("yesterday")


def test_ambiguous_or_broken_tasks_fail_to_load():
    tools = [("f", lambda: {"a": 1, "b": 1}, "Scores.", "f() -> dict")]
    with pytest.raises(ValueError, match="ambiguous"):
        make_task("d", "tie", "Which?", "s = f()\nanswer = max(s, key=s.get)", tools,
                  unique="s")
    with pytest.raises(ValueError, match="did not set `answer`"):
        make_task("d", "no-answer", "What?", "x = f()", tools)
    with pytest.raises(ValueError, match="must not repeat"):
        make_task("d", "dupes", "What?", "answer = ['a', 'a']", tools, unordered=True)


def test_reference_solutions_pass_as_code_in_the_sandboxed_kernel():
    # Each reference runs as one cell in a fresh bwrap-sandboxed kernel, its tools called
    # over the bridge; its answer must pass the checker and equal the host's, and wrong
    # answers must fail. (Presentation of the stubs is checked in the next test.)
    results = check_suite(TASKS, check_stubs=False)
    failed = {r.task: r.problems for r in results if r.status != "pass"}
    assert not failed
    assert all(r.tool_calls >= 1 for r in results)
    assert len(results) == len(TASKS)


def _stubs_render_as_python() -> bool:
    t = Tool.from_spec("f", lambda x: x, "d", "f(x: list of str) -> int/float")
    try:
        ast.parse(t.python_stub())
        return True
    except SyntaxError:
        return False


@pytest.mark.xfail(not _stubs_render_as_python(), strict=True,
                   reason="tools.py still renders 'name(sig)' signature strings as invalid "
                          "Python stubs (issue 9, item 1)")
def test_tools_are_shown_as_valid_python_and_bind_in_the_kernel():
    results = check_suite(thirdparty.load_quick())
    failed = {r.task: r.problems for r in results if r.status != "pass"}
    assert not failed
