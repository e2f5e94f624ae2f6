"""The built-in suite: size, tool quality, and every reference solution vs its answer."""

import inspect
import json

import pytest

from codeact.bench import builtin
from codeact.bench.builtin import ledger
from codeact.bench.builtin._common import Toolbox

TASKS = builtin.load()


def test_size_and_domains():
    assert len(TASKS) >= 80
    domains = {t.domain for t in TASKS}
    assert len(domains) >= 5
    assert all(sum(t.domain == d for t in TASKS) >= 10 for d in domains)
    assert len({t.name for t in TASKS}) == len(TASKS)


def test_quick_subset_is_two_per_domain():
    quick = builtin.load_quick()
    assert [t.name for t in quick] == builtin.QUICK
    assert {t.domain for t in quick} == {t.domain for t in TASKS}
    assert all(sum(t.domain == d for t in quick) == 2 for d in builtin.DOMAINS)


@pytest.mark.parametrize("domain", sorted(builtin.DOMAINS))
def test_tools_are_typed_and_documented(domain):
    task = next(t for t in TASKS if t.domain == domain)
    tools = task.make_tools()
    assert len(tools) >= 4
    for tool in tools:
        assert tool.description, tool.name
        sig = inspect.signature(tool.fn)
        for p in sig.parameters.values():
            assert p.annotation is not inspect.Parameter.empty, (tool.name, p.name)
        assert sig.return_annotation is not inspect.Signature.empty, tool.name
        assert not tool.pure  # run in the host, bridged into the kernel


def _as_model_would_write(value):
    if isinstance(value, str):
        return value
    if isinstance(value, set | frozenset):
        value = sorted(value)
    return json.dumps(value)


@pytest.mark.parametrize("task", TASKS, ids=lambda t: t.name)
def test_reference_solution_matches_expected(task):
    # Rerun the reference against fresh tools: deterministic, and its answer, written
    # out as text the way a model would, passes the checker; a wrong answer does not.
    again = task.reference(task.tools_by_name())
    assert again == task.expected
    assert task.check(_as_model_would_write(again)).success
    assert not task.check("no idea").success
    assert task.instruction.strip() and len(task.instruction) < 600


def test_loading_twice_gives_identical_answers():
    second = {t.name: t.expected for t in builtin.load()}
    assert second == {t.name: t.expected for t in TASKS}


def test_ledger_state_is_fresh_per_run():
    task = next(t for t in TASKS if t.name == "ledger/buy-then-cash")
    tb = Toolbox(task.tools_by_name())
    tb.buy("BOLT", 10)
    assert tb.get_cash() == ledger.START_CASH - 482.5
    fresh = Toolbox(task.tools_by_name())
    assert fresh.get_cash() == ledger.START_CASH
    with pytest.raises(ValueError, match="insufficient cash"):
        fresh.buy("CHIP", 1000)
