"""The tools family: seeds reproduce, the reference answer passes every task, wrong
answers (None, off by one) fail, every kind appears, nothing trips decontamination."""

from __future__ import annotations

import pytest

from codeact.data import decontam
from codeact.data.gen_tools import ToolsGenerator

GEN = ToolsGenerator()
TASKS = GEN.generate(60, 3) + GEN.generate(24, 1_000_003, split="heldout")


def test_seeds_reproduce() -> None:
    again = GEN.generate(60, 3)
    assert [(t.name, t.instruction, t.expected) for t in again] == \
        [(t.name, t.instruction, t.expected) for t in TASKS[:60]]
    other = GEN.generate(60, 4)
    assert [t.instruction for t in other] != [t.instruction for t in TASKS[:60]]


def test_kinds_and_heldout() -> None:
    train_kinds = {t.metadata["kind"] for t in TASKS[:60]}
    assert train_kinds == set(GEN.kinds) - {"calendar"}
    held = TASKS[60:]
    assert {t.metadata["kind"] for t in held} == set(GEN.kinds)
    assert all(t.metadata["unseen_kind"] == (t.metadata["kind"] == "calendar") for t in held)


@pytest.mark.parametrize("task", TASKS, ids=lambda t: t.name)
def test_reference_passes_and_wrong_answers_fail(task) -> None:
    meta = task.metadata
    assert task.check(meta["reference_answer"]).success
    assert task.check(f"The answer is {meta['reference_answer']}.").success
    assert not task.check(None).success
    assert not task.check(meta["near_miss"]).success
    assert not task.check("").success


def test_no_generated_instruction_is_contaminated() -> None:
    index = decontam.build_index()
    assert decontam.check(((t.name, t.instruction) for t in TASKS), index) == []


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
