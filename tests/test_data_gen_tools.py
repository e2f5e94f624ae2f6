"""The tools family: seeds reproduce, the reference answer passes every task, wrong
answers (None, off by one) fail, every kind appears, nothing trips decontamination."""

from __future__ import annotations

import pytest
from generator_helpers import (
    assert_not_contaminated,
    assert_one_kind_held_out,
    assert_reference_passes_and_wrong_answers_fail,
    assert_seeds_reproduce,
)

from codeact.data.gen_tools import ToolsGenerator

GEN = ToolsGenerator()
TASKS = GEN.generate(60, 3) + GEN.generate(24, 1_000_003, split="heldout")


def test_seeds_reproduce() -> None:
    assert_seeds_reproduce(GEN, TASKS, 60, 3)


def test_kinds_and_heldout() -> None:
    assert_one_kind_held_out(GEN, TASKS[:60], TASKS[60:], "calendar")


@pytest.mark.parametrize("task", TASKS, ids=lambda t: t.name)
def test_reference_passes_and_wrong_answers_fail(task) -> None:
    assert_reference_passes_and_wrong_answers_fail(task)


def test_no_generated_instruction_is_contaminated() -> None:
    assert_not_contaminated(TASKS)


def test_stateful_tools_start_fresh_each_run() -> None:
    task = next(t for t in TASKS if t.instruction.startswith("Consolidate"))
    tools = task.tools_by_name()
    bins = tools["list_bins"].fn()
    sku = task.instruction.split()[1].rstrip(":")
    source = next(b for b in bins if tools["bin_contents"].fn(b).get(sku))
    held = tools["bin_contents"].fn(source)[sku]
    target = next(b for b in bins if b != source)
    tools["move_stock"].fn(sku, source, target, held)
    assert tools["bin_contents"].fn(source).get(sku, 0) == 0
    fresh = task.tools_by_name()
    assert fresh["bin_contents"].fn(source)[sku] == held
    assert task.check(task.metadata["reference_answer"]).success


def test_tools_have_docstrings_and_domains_are_new() -> None:
    from codeact.bench.builtin import DOMAINS

    for task in TASKS[:4]:
        for tool in task.make_tools():
            assert tool.description, tool.name
    assert not set(GEN.kinds) & set(DOMAINS)


def test_new_kinds_change_state_and_grow_with_difficulty() -> None:
    desk = GEN.task(11, 0, kind="helpdesk", difficulty=2)
    tools = desk.tools_by_name()
    ticket = tools["open_tickets"].fn()[0]
    tools["close_ticket"].fn(ticket["id"])
    assert ticket["id"] not in {x["id"] for x in tools["open_tickets"].fn()}
    assert ticket["id"] in {x["id"] for x in desk.tools_by_name()["open_tickets"].fn()}
    assert desk.check(desk.metadata["reference_answer"]).success
    parcels = [len(GEN.task(11, 0, kind="shipping", difficulty=d).tools_by_name()
                   ["list_parcels"].fn()) for d in (1, 2, 3)]
    assert parcels == sorted(parcels) and parcels[0] < parcels[2]
    ship = GEN.task(12, 0, kind="shipping", difficulty=2)
    t = ship.tools_by_name()
    parcel = t["list_parcels"].fn()[0]
    for carrier in t["list_carriers"].fn():
        try:
            label = t["create_label"].fn(parcel, carrier)
        except ValueError:
            continue
        assert label["price"] == ship.tools_by_name()["quote"].fn(carrier, parcel)
        with pytest.raises(ValueError, match="already has a label"):
            t["create_label"].fn(parcel, carrier)
        break
