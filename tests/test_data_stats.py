"""Dataset statistics and the histogram PNG."""

from __future__ import annotations

from pathlib import Path

from codeact.data import stats


def rec(source: str, kind: str, turns: int, text: str = "abcd") -> dict:
    conv = [{"role": "system", "content": "s"}, {"role": "user", "content": text}]
    for _ in range(turns):
        conv += [{"role": "assistant", "content": text}, {"role": "user", "content": text}]
    return {"id": f"{source}/{kind}", "conversations": conv,
            "metadata": {"source": source, "source_type": "generated", "family": source,
                         "kind": kind}}


RECORDS = [rec("math", "units", 3), rec("math", "dates", 4), rec("tools", "library", 3)]


def test_compute_counts_turns_and_tokens() -> None:
    st = stats.compute(RECORDS, lambda text: len(text))
    assert st.records == 3 and st.by_source == {"math": 2, "tools": 1}
    assert st.by_kind == {"math/dates": 1, "math/units": 1, "tools/library": 1}
    assert st.by_turns == {3: 2, 4: 1} and st.turns == [3, 4, 3]
    assert st.tokens == [1 + 4 + 4 * 6, 1 + 4 + 4 * 8, 1 + 4 + 4 * 6]
    s = st.summary(st.turns)
    assert s["median"] == 3 and s["max"] == 4 and s["min"] == 3
    assert stats.compute([]).summary([])["mean"] == 0


def test_trajectories_that_fix_a_failed_cell_are_counted() -> None:
    fixed = rec("math", "units", 3)
    fixed["metadata"]["recovered"] = True
    st = stats.compute([*RECORDS, fixed])
    assert st.recovered == 1 and st.records == 4
    from rich.console import Console

    console = Console(record=True, width=120)
    console.print(stats.rich_tables(st)[0])
    assert "1 fix a failed cell" in " ".join(console.export_text().split())


def test_default_counter_is_named_approx() -> None:
    st = stats.compute(RECORDS)
    assert st.tokenizer.startswith("approx") and st.total_tokens > 0


def test_tables_and_plot(tmp_path: Path) -> None:
    from rich.console import Console

    st = stats.compute(RECORDS)
    console = Console(record=True, width=120)
    for t in stats.rich_tables(st):
        console.print(t)
    text = console.export_text()
    assert "tools/library" in text and "assistant turns" in text
    png = stats.plot(st, tmp_path / "h.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000
