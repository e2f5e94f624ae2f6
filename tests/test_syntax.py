"""The one check of whether model-written code parses as a kernel cell."""

import ast

import pytest

from codeact.syntax import LITERAL_ERRORS, parses, program_key


def test_python_and_ipython_lines_parse():
    assert parses("x = 1\nprint(x)")
    assert parses("%pip install tabulate\nimport tabulate")
    assert parses("for f in files:\n    !ls {f}\n%%time")


def test_empty_code_and_broken_code_do_not():
    assert not parses("")
    assert not parses("  \n")
    assert not parses("x = (1,\n```")
    assert not parses("print('a')\0")


@pytest.mark.parametrize("text", ["{[1]: 2}", "{[1]}", "(" * 200_000 + ")" * 200_000,
                                  "-" * 200_000 + "1", "x + 1", "'open"])
def test_every_error_a_model_written_literal_raises_is_named(text):
    with pytest.raises(LITERAL_ERRORS):
        ast.literal_eval(text)


def test_cells_that_differ_only_in_comments_or_spacing_are_one_program():
    plain = "def f(x):\n    return x + 1\nprint(f(1))"
    assert program_key(plain) == program_key(
        "def f(x):  # add one\n\n    return x+1\nprint( f(1) )  # Output: 2\n")
    assert program_key(plain) != program_key(plain.replace("x + 1", "x + 2"))
    assert program_key("print('a')") != program_key("print('b')")  # strings count
    assert program_key("  %pip install x\n") == "%pip install x"  # no Python: as written
    assert program_key("%pip install x") != program_key("%pip install y")
