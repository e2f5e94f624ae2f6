"""The held-out generated tasks load as a bench suite."""

from codeact.bench.suites import load_suite
from codeact.data import generators


def test_heldout_suite_loads_through_the_bench_registry() -> None:
    tasks = load_suite("codeact.data.heldout:load")
    fams = generators.names()
    assert len(tasks) == 25 * len(fams)
    assert {t.metadata["split"] for t in tasks} == {"heldout"}
    assert all(t.metadata["seed"] in generators.HELDOUT_SEEDS for t in tasks)
    unseen = {t.metadata["kind"] for t in tasks if t.metadata["unseen_kind"]}
    assert unseen == {k for n in fams for k in generators.get(n).heldout_kinds}
    quick = load_suite("codeact.data.heldout:load_quick")
    assert [t.name for t in quick] == [t.name for t in tasks[:len(quick)]]


def test_every_family_holds_out_the_declared_kinds() -> None:
    from codeact.data.heldout import DECLARED_HELDOUT_KINDS

    for name in generators.names():
        gen = generators.get(name)
        assert gen.heldout_kinds == DECLARED_HELDOUT_KINDS[name], name
        assert set(gen.heldout_kinds) < set(gen.kinds)
    assert set(DECLARED_HELDOUT_KINDS) == set(generators.names())
