"""The suite self-check: reference code run in a real sandboxed kernel through the bridge."""

import pytest

from codeact.bench.selfcheck import check_suite, check_task, main, render, wrong_answers
from codeact.bench.task import Task
from codeact.tools import Tool


def price(item: str) -> float:
    """Price of an item in EUR."""
    return {"tea": 2.5, "cake": 4.0, "soup": 6.25}[item]


def menu() -> list:
    """Items on the menu."""
    return ["tea", "cake", "soup"]


def _task(code, *, expected=None, checker=None, name="t", tools=(price, menu), ordered=True):
    kwargs = {"expected": expected} if checker is None else {"checker": checker,
                                                             "expected": expected}
    return Task(name=name, instruction="?", tools=list(tools), metadata={
        "solution_code": code, "ordered": ordered}, **kwargs)


def test_a_correct_reference_passes_with_its_tool_calls_counted():
    task = _task("answer = [i for i in menu() if price(i) > 3]", expected=["cake", "soup"])
    r = check_task(task)
    assert r.status == "pass", r.problems
    assert r.answer == "['cake', 'soup']"
    assert r.tool_calls == 4  # menu() once, price() three times, all over the bridge


def test_the_answer_is_computed_in_the_sandbox_not_the_host():
    # The reference must reproduce the host's answer inside the kernel; here it reads
    # the working directory, which differs (the kernel runs in the sandbox's /workspace).
    import os

    task = _task("import os\nx = menu()\nanswer = os.getcwd()", expected=os.getcwd())
    r = check_task(task)
    assert r.status == "fail"
    assert r.answer == "/workspace"
    assert any("differs from the host" in p for p in r.problems)


def test_a_failing_reference_reports_its_error():
    r = check_task(_task("answer = price('coffee')", expected=1.0))
    assert r.status == "fail"
    assert any("KeyError" in p and "coffee" in p for p in r.problems)


def test_a_reference_without_answer_or_tools_fails():
    r = check_task(_task("x = 1", expected=1))
    assert r.status == "fail"
    assert any("answer" in p for p in r.problems)
    assert any("called no tool" in p for p in r.problems)


def test_a_checker_that_accepts_anything_is_caught():
    task = _task("answer = sum(price(i) for i in menu())", expected=12.75,
                 checker=lambda answer: True)
    r = check_task(task)
    assert r.status == "fail"
    assert any("wrong answer 'no idea' passes" in p for p in r.problems)


def test_an_order_sensitive_checker_on_an_any_order_task_is_caught():
    task = _task("answer = menu()", expected=["tea", "cake", "soup"], ordered=False)
    r = check_task(task)
    assert any("another order" in p for p in r.problems)


class _ShownBroken(Tool):
    def python_stub(self) -> str:
        return "def menu(menu() -> list of str):\n    pass"


def test_tools_shown_as_invalid_python_are_reported():
    broken = _ShownBroken(name="menu", fn=menu, description="Items.", signature="()")
    task = _task("answer = menu()", expected=["tea", "cake", "soup"], tools=[broken])
    assert check_task(task, check_stubs=False).status == "pass"
    r = check_task(task)
    assert r.status == "fail"
    assert any("invalid Python" in p for p in r.problems)


def test_tasks_without_reference_code_are_skipped_and_errors_do_not_crash():
    plain = Task(name="plain", instruction="?", expected=1)

    def bad_factory():
        raise RuntimeError("no tools today")

    broken = Task(name="broken", instruction="?", expected=1, tools=bad_factory,
                  metadata={"solution_code": "answer = 1"}, reference=None)
    seen = []
    results = check_suite([plain, broken], on_result=seen.append)
    assert [r.status for r in results] == ["skip", "fail"]
    assert "no tools today" in results[1].problems[0]
    assert seen == results


@pytest.mark.parametrize("expected,ordered,must_fail", [
    (True, True, [False]),
    (7, True, [8, 6]),
    (2.5, True, [3.5]),
    ("paint", True, ["paintx"]),
    (["a", "b"], True, [["a"], ["a", "bx"], ["b", "a"]]),
    (["a", "b"], False, [["a"], ["a", "bx"]]),
    ({"x": 1, "y": 2}, True, [{"x": 2, "y": 2}, {"y": 2}]),
])
def test_wrong_answers(expected, ordered, must_fail):
    got = wrong_answers(expected, ordered=ordered)
    assert got[0] == "no idea"
    assert got[1:] == must_fail


def test_render_states_answers_as_a_model_would():
    assert render("paint") == "paint"
    assert render(["a", 1]) == "['a', 1]"
    assert render(False) == "False"


def test_command_line(capsys):
    assert main(["--suite", "thirdparty-quick", "--filter", "league/leader"]) == 0
    assert "1 passed, 0 failed" in capsys.readouterr().out
    assert main(["--suite", "no-such-suite"]) == 2
    assert "unknown suite" in capsys.readouterr().out
    assert main(["--suite", "builtin-mini", "--filter", "units"]) == 2  # nothing to check
