"""Param and ToolSignature: rendering, binding and the kernel-side description."""

from __future__ import annotations

import inspect

import pytest

from codeact.tools.signature_model import (
    KEYWORD_ONLY,
    POSITIONAL_ONLY,
    POSITIONAL_OR_KEYWORD,
    VAR_KEYWORD,
    VAR_POSITIONAL,
    Param,
    ToolSignature,
)

SIG = ToolSignature((
    Param("a", POSITIONAL_ONLY, "int"),
    Param("b", POSITIONAL_OR_KEYWORD, None, "2"),
    Param("args", VAR_POSITIONAL, "float"),
    Param("c", KEYWORD_ONLY, "str", "'x'"),
    Param("kw", VAR_KEYWORD),
), returns="float")


def test_rendering_is_a_valid_parameter_list_with_markers():
    assert SIG.text == "(a: int, /, b=2, *args: float, c: str = 'x', **kw) -> float"
    compile(f"def f{SIG.text}: pass", "<test>", "exec")
    keyword_only = ToolSignature((Param("k", KEYWORD_ONLY),))
    assert keyword_only.text == "(*, k)"


def test_binding_uses_the_same_parameters_and_shows_defaults_as_text():
    sig = SIG.to_inspect()
    bound = sig.bind(1, 3, 4.0, c="y", extra=True)
    assert bound.arguments["args"] == (4.0,) and bound.arguments["kw"] == {"extra": True}
    with pytest.raises(TypeError):
        sig.bind(a=1)  # positional-only
    assert repr(sig.parameters["b"].default) == "2"
    assert sig.return_annotation == "float"


def test_required_and_the_kernel_spec():
    assert [p.required for p in SIG.params] == [True, False, False, False, False]
    assert SIG.to_spec() == [[["a", 0, "int", None, "a"], ["b", 1, None, "2", "b"],
                              ["args", 2, "float", None, "args"],
                              ["c", 3, "str", "'x'", "c"], ["kw", 4, None, None, "kw"]],
                             "float"]
    renamed = ToolSignature((Param("class_", POSITIONAL_OR_KEYWORD, source_name="class"),))
    assert renamed.to_spec()[0][0][4] == "class"


def test_note_repeats_the_source_text_only_when_rendering_changed_it():
    assert SIG.note("f") is None
    loose = ToolSignature((Param("x", POSITIONAL_OR_KEYWORD),), None, "x: list of int",
                          exact=False)
    assert loose.note("avg") == "Signature as given: avg(x: list of int)"
    unread = ToolSignature((), None, "  what\n  ever ", exact=False, parsed=False)
    assert unread.note("f") == "Signature as given: what ever"
    assert inspect.Parameter.VAR_KEYWORD == VAR_KEYWORD
