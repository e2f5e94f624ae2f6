"""The one check of whether model-written code parses as a kernel cell."""

from codeact.syntax import parses


def test_python_and_ipython_lines_parse():
    assert parses("x = 1\nprint(x)")
    assert parses("%pip install tabulate\nimport tabulate")
    assert parses("for f in files:\n    !ls {f}\n%%time")


def test_empty_code_and_broken_code_do_not():
    assert not parses("")
    assert not parses("  \n")
    assert not parses("x = (1,\n```")
    assert not parses("print('a')\0")
