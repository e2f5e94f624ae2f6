"""Named checkers for generated tasks and extra sources."""

from __future__ import annotations

import pytest

from codeact.bench.task import CheckContext, Task
from codeact.data.checkers import (
    CHECKERS,
    choice_checker,
    make_checker,
    number_checker,
)
from codeact.runtime import check_bwrap


def test_number_checker() -> None:
    check = number_checker(12.34, abs_tol=0.01, rel_tol=0)
    assert check("12.34") and check("about 12.335 kg") and check("$12.34")
    assert not check("13.34") and not check(None) and not check("none")


def test_choice_checker() -> None:
    check = choice_checker("North", ["North", "South", "Dune-1", "Dune-10"])
    assert check("North") and check("The answer is **north**.")
    assert not check("North or South") and not check("South") and not check(None)
    dune = choice_checker("Dune-1", ["Dune-1", "Dune-10"])
    assert dune("Dune-1") and not dune("Dune-10")


def test_named_checkers() -> None:
    assert make_checker(None, 3) is None and make_checker("match", 3) is None
    assert make_checker("exact", "A b")("A b ") and not make_checker("exact", "A b")("a b")
    assert make_checker("text", "A  b")("a b")
    assert make_checker("contains", "Paris")("It is paris, France")
    assert make_checker("number", "2.5")("2.50")
    unordered = make_checker("unordered", [1, 2, 3])
    assert unordered("[3, 1, 2]") and not unordered("[1, 2]")
    with pytest.raises(ValueError, match="unknown checker 'fuzzy'"):
        make_checker("fuzzy", 1)
    with pytest.raises(ValueError, match="numeric"):
        make_checker("number", "abc")
    assert "python_tests" in CHECKERS


def test_python_tests_checker_runs_in_the_sandbox() -> None:
    sandbox = "bwrap" if check_bwrap()[0] else "none"
    task = Task(name="t", instruction="write inc", checker=make_checker(
        "python_tests", "assert inc(1) == 2\nassert inc(-1) == 0"))
    ctx = CheckContext(task=task, expected=None, sandbox=sandbox, exec_timeout=20)
    assert task.check("def inc(x):\n    return x + 1\n", ctx).success
    bad = task.check("def inc(x):\n    return x\n", ctx)
    assert not bad.success and "AssertionError" in bad.detail
