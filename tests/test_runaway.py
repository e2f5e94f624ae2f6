"""Runaway code (one pattern of lines repeated until the length limit) is cut back."""

from __future__ import annotations

from codeact.runaway import KEEP, cut_runaway, cut_stub_copies, skeleton

DEF = "def vowels(s):\n    return sum(c in 'aeiou' for c in s.lower())\n"


def test_counted_up_lines_share_a_skeleton():
    assert skeleton('assert f("AEIOUYYY") == 8') == skeleton('assert f("AEIOUYYYYY") == 10')
    assert skeleton("x = 1") != skeleton("y = 1")


def test_a_repeated_line_is_cut_to_the_code_before_it_and_two_instances():
    runaway = "".join(f'assert vowels("ab{"Y" * i}") == {i}\n' for i in range(3, 40))
    got = cut_runaway(DEF + "print(vowels('abc'))\n" + runaway + 'assert vowels("ab')
    assert got is not None
    assert got.code == DEF + "print(vowels('abc'))\n" + "".join(
        f'assert vowels("ab{"Y" * i}") == {i}\n' for i in range(3, 3 + KEEP)).rstrip()
    assert (got.line, got.repeats) == (4, 37)
    assert got.pattern == 'assert vowels("abYYY") == 3'


def test_a_list_that_grows_by_one_item_each_line_is_a_runaway():
    """Seen in a collection: 1024 tokens of ``print(peak_load([[1, 2], [2, 3], ...]))  #
    Output: 4``, one more interval each line, not run and sent again the next turn."""
    assert skeleton("f([1, 2, 3])") == skeleton("f([4, 5, 6, 7, 8])") != skeleton("f([1])")
    assert skeleton("f([[1, 2], [2, 3]])") == skeleton("f([[1, 2], [2, 3], [3, 4]])")
    assert skeleton("f((1, 'a'), (2, 'b'))") != skeleton("f((1, 'a'), (2, 'c'))")
    lines = [f"print(peak_load({[[i, i + 1] for i in range(1, k)]}))  # Output: 4"
             for k in range(3, 20)]
    got = cut_runaway(DEF + "\n".join(lines) + "\nprint(peak_load([[1, 2], [2,")
    assert got is not None and got.code == DEF + "\n".join(lines[:KEEP])
    assert got.repeats == len(lines)


def test_a_pattern_of_several_lines_is_cut_whole():
    cases = "".join(f"if n == {i}:\n    print(n * {i})\n" for i in range(2, 30))
    got = cut_runaway("n = 3\n" + cases + "if n ==")
    assert got is not None
    assert got.code == "n = 3\n" + "".join(
        f"if n == {i}:\n    print(n * {i})\n" for i in range(2, 4)).rstrip()
    assert got.repeats == 28


def test_cases_written_out_inside_a_function_are_its_logic_and_not_cut():
    cases = "".join(f"    if n == {i}:\n        return x == {i}\n" for i in range(2, 30))
    assert cut_runaway("def power(x, n):\n" + cases + "    if n ==") is None


def test_code_without_a_runaway_or_too_short_a_one_is_left_alone():
    assert cut_runaway(DEF + "x = 1\ny = 2\nprint(x +") is None
    assert cut_runaway("a1 = 1\na2 = 2\na3 = 3\na4 =") is None  # three, not four


def test_a_runaway_inside_a_statement_is_not_split():
    rows = "".join(f"    ({i}, 'row{i}'),\n" for i in range(50))
    assert cut_runaway("table = [\n" + rows + "    (50, 'ro") is None


STUB = 'def {name}(x: int) -> int:\n    """What {name} gives for x."""\n\n'


def _stub_run(names: list[str]) -> str:
    return "".join(STUB.format(name=n) for n in names)


def test_bodiless_definitions_up_to_the_cut_are_a_stub_copy():
    """Seen: a 0.5B model copied its tools' stubs from the system prompt, then made up
    longer and longer names (no line repeats, so no pattern does), for four turns."""
    names = ["find", "find_free", "find_free_and_free", "find_free_and_free_and_free"]
    code = "from math import sqrt\n\n# the tools\n" + _stub_run(names) + "def find_fr"
    got = cut_stub_copies(code)
    assert got is not None
    assert got.code == "from math import sqrt"  # its introducing comment goes with it
    assert got.names == tuple(names) and got.line == 4
    assert got.first == STUB.format(name="find").rstrip()
    assert cut_runaway(code) is None  # which the pattern cut did not catch


def test_given_tools_with_made_up_bodies_count_as_copies():
    tools = frozenset({"stock", "order"})
    code = ("total = 0\n" + "def helper(x):\n    return x + 1\n\n"
            + "def stock(s):\n    return 5\n\n" + "def order(s, q):\n    return 'PO1'\n\n"
            + _stub_run(["order_total"]) + "def more(")
    got = cut_stub_copies(code, tools)
    assert got is not None and got.names == ("stock", "order", "order_total")
    assert got.code == "total = 0\ndef helper(x):\n    return x + 1"
    assert cut_stub_copies(code) is None  # without the tool names: one stub only


def test_definitions_that_code_goes_on_to_use_are_no_copy():
    code = _stub_run(["a", "b", "c"]) + "print(a(1))\nprint(b(2))\nprint(c("
    assert cut_stub_copies(code) is None
    assert cut_stub_copies(_stub_run(["a", "b"]) + "def c(") is None  # too few
    assert cut_stub_copies("def a(:\n  pass\n") is None  # nothing parses
