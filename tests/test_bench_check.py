"""Answer checking: numbers, lists, sets, dicts, booleans and strings."""

import pytest

from codeact.bench.check import answers_match, normalize_text, numbers_in, parse_number


@pytest.mark.parametrize("answer", ["42.16", " 42.16 ", "42.16 km", "$42.16", "42.159",
                                    "The distance is 42.16 km.", "`42.16`", "**42.16**"])
def test_float_within_tolerance(answer):
    assert answers_match(answer, 42.16)


@pytest.mark.parametrize("answer", ["42.5", "41", "about forty", "", "4216"])
def test_float_mismatch(answer):
    assert not answers_match(answer, 42.16)


def test_thousands_separators_and_currency():
    assert answers_match("$1,992,000", 1992000)
    assert answers_match("9,517.50 USD", 9517.5)
    assert parse_number("12%") == 12.0
    assert numbers_in("from 3 to 4.5") == [3.0, 4.5]


def test_int_must_round_to_expected():
    assert answers_match("6", 6)
    assert answers_match("6.0", 6)
    assert not answers_match("7", 6)
    assert not answers_match("131100", 131000)  # no relative slack for whole numbers


def test_bool_answers():
    assert answers_match("No", False)
    assert answers_match("no, it is closed", False)
    assert answers_match("Yes.", True)
    assert answers_match("true", True)
    assert not answers_match("yes", False)
    assert not answers_match("maybe", True)
    assert not answers_match("no idea", False)  # not knowing is not a "no"
    assert not answers_match("No idea.", False)
    assert not answers_match("not sure", False)
    assert answers_match("False - the site holds only 38", False)


def test_strings_ignore_case_whitespace_quotes():
    assert answers_match("  'Garden  Paris'. ", "Garden Paris")
    assert answers_match('"FL102"', "fl102")
    assert not answers_match("Garden Rome", "Garden Paris")
    assert normalize_text("  A\n b ") == "a b"


def test_lists_in_several_spellings():
    exp = ["level", "rotor"]
    assert answers_match("['level', 'rotor']", exp)
    assert answers_match('["Level", "Rotor"]', exp)
    assert answers_match("level, rotor", exp)
    assert answers_match("- level\n- rotor", exp)
    assert not answers_match("rotor, level", exp)  # order matters for lists
    assert not answers_match("level", exp)
    assert answers_match("[-10, 10.0, 25]", [-10.0, 10.0, 25.0])


def test_sets_ignore_order():
    assert answers_match("rotor, level", {"level", "rotor"})
    assert not answers_match("rotor", {"level", "rotor"})


def test_dicts():
    exp = {"ACME": 21, "ECHO": 19}
    assert answers_match("{'ACME': 21, 'ECHO': 19}", exp)
    assert answers_match('{"acme": 21.0, "echo": 19}', exp)
    assert not answers_match("{'ACME': 21}", exp)
    assert not answers_match("ACME 21 ECHO 19", exp)


def test_none():
    assert not answers_match(None, 3)
    assert answers_match(None, None)
