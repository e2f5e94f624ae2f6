"""The Task interface: tool specs, factories, reset hooks, references and checkers."""

import pytest

from codeact.bench.task import CheckContext, Task, ToolContext, normalize_tools
from codeact.tools import Tool


def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


def test_reference_computes_expected_at_load_time():
    task = Task("t/add", "Add 2 and 3.", tools=[add],
                reference=lambda tb: tb["add"].fn(2, 3))
    assert task.expected == 5
    assert task.check("5").success
    assert not task.check("6").success


def test_reference_failure_names_the_task():
    with pytest.raises(ValueError, match="t/broken"):
        Task("t/broken", "x", reference=lambda tb: 1 / 0)


def test_needs_expected_or_checker():
    with pytest.raises(ValueError):
        Task("t/none", "x")
    assert Task("t/checker", "x", checker=lambda a: a == "ok").expected is None


def test_tool_specs_from_third_parties():
    def star(*args):
        return sum(args)

    tools = normalize_tools([
        add,
        Tool.from_function(add, name="plus"),
        {"name": "total", "fn": star, "description": "Sum numbers.", "signature": "*args"},
        ("adder", lambda x, y: x + y, "Add x and y.", "(x: int, y: int) -> int"),
    ])
    names = [t.name for t in tools]
    assert names == ["add", "plus", "total", "adder"]
    assert tools[2].signature == "(*args)"
    assert tools[2].invoke([1, 2, 3]) == 6
    assert "Add x and y." in tools[3].python_stub()
    assert all(not t.pure for t in tools)  # host-side: bridged in the code format


def test_factory_gives_fresh_state_and_reset_hook_runs():
    calls = []

    class Counter:
        def __init__(self):
            self.n = 0

        def bump(self) -> int:
            """Increment and return the counter."""
            self.n += 1
            return self.n

    def factory():
        return [Counter().bump]

    task = Task("t/count", "Bump twice.", tools=factory, expected=2,
                reset=lambda: calls.append(1))
    first = task.make_tools()[0]
    first.fn(), first.fn()
    second = task.make_tools()[0]
    assert second.fn() == 1  # a new instance per run
    assert len(calls) == 2


def test_factory_with_context():
    seen = []

    def factory(ctx: ToolContext):
        seen.append(ctx.action_format)
        return [] if ctx.action_format == "code" else [add]

    task = Task("t/ctx", "x", tools=factory, expected=1)
    assert task.make_tools(ToolContext("code")) == []
    assert [t.name for t in task.make_tools(ToolContext("json"))] == ["add"]
    assert seen == ["code", "json"]


def test_checker_forms():
    one = Task("t/1", "x", checker=lambda a: a == "yes")
    assert one.check("yes").success
    two = Task("t/2", "x", expected="abc", checker=lambda a, ctx: a == ctx.expected)
    assert two.check("abc", CheckContext(two, "abc")).success
    score = Task("t/3", "x", checker=lambda a: 0.5)
    res = score.check("x")
    assert not res.success and res.score == 0.5
    detail = Task("t/4", "x", checker=lambda a: (False, "too short"))
    assert detail.check("x").detail == "too short"
    broken = Task("t/5", "x", checker=lambda a: 1 / 0)
    res = broken.check("x")
    assert not res.success and "ZeroDivisionError" in res.detail


def test_expected_json_for_sets():
    task = Task("t/set", "x", expected={"b", "a"})
    assert task.expected_json() == ["a", "b"]


def test_workspace_files_mapping_and_callable(tmp_path):
    t = Task(name="f", instruction="read", expected=1,
             files={"data/a.csv": "x,y\n1,2\n", "b.bin": b"\x00\x01"})
    assert t.write_files(tmp_path / "ws") == ["b.bin", "data/a.csv"]
    assert (tmp_path / "ws" / "data" / "a.csv").read_text() == "x,y\n1,2\n"
    assert (tmp_path / "ws" / "b.bin").read_bytes() == b"\x00\x01"

    def writer(root):
        (root / "log.txt").write_text("hello")

    t2 = Task(name="g", instruction="read", expected=1, files=writer)
    assert t2.write_files(tmp_path / "ws2") == ["log.txt"]
    assert Task(name="h", instruction="x", expected=1).write_files(tmp_path) == []


def test_workspace_file_paths_must_stay_inside(tmp_path):
    import pytest

    for bad in ("../escape.txt", "/etc/passwd", "a/../../b"):
        t = Task(name="f", instruction="read", expected=1, files={bad: "x"})
        with pytest.raises(ValueError, match="must be relative"):
            t.write_files(tmp_path / "ws")
    assert not (tmp_path / "escape.txt").exists()


def test_a_lone_tool_is_one_tool_not_a_factory():
    def double(x: int) -> int:
        """Twice x."""
        return 2 * x

    lone = Tool.from_function(double)
    task = Task(name="lone", instruction="double 2", tools=lone, expected=4)
    assert task.make_tools() == [lone]
