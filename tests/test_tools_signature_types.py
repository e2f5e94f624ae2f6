"""Type text and annotation objects reduced to the value types an argument may have."""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence
from typing import Any, ForwardRef, Optional, Union

import pytest

from codeact.tools.signature_types import accepted_types, is_type_expression, type_name, types_of


@pytest.mark.parametrize("text, ok", [
    ("int", True), ("list[str]", True), ("str | None", True), ("Literal['a', -1]", True),
    ("Callable[[int], str]", True), ("int/float", False), ("list of str", False),
    ("int or float", False), ("(", False), ("'list[int]'", True),
])
def test_type_expressions(text, ok):
    assert is_type_expression(text) is ok


def test_accepted_types_of_python_and_loose_text():
    assert accepted_types("Optional[float]") == (float, int, type(None))
    assert accepted_types("Union[int, str]") == (int, str)
    assert accepted_types("typing.List[int]") == (list,)
    assert accepted_types("an array of numbers") == (list,)
    assert accepted_types("int or None") == (int, type(None))
    assert accepted_types("Widget") is None and accepted_types(None) is None


@pytest.mark.parametrize("annotation, expected", [
    (int, (int,)), (float, (float, int)), (list[str], (list,)), (tuple, (list,)),
    (Sequence[int], (list,)), (Mapping[str, int], (dict,)), (dict, (dict,)),
    (Optional[int], (int, type(None))),  # noqa: UP045 - the spelling users still write
    (int | str, (int, str)), (None, (type(None),)), (Any, None),
    (inspect.Parameter.empty, None),
    (Union[int, ForwardRef("Widget")], None),  # noqa: UP007 - a forward ref: no "|" form
    (str, (str,)), ("list of int", (list,)),
])
def test_types_of_annotation_objects(annotation, expected):
    assert types_of(annotation) == expected


def test_type_names_read_like_source():
    assert type_name(int) == "int" and type_name(None) == "None"
    assert type_name(list[int]) == "list[int]"
    assert type_name(Optional[str]) == "Optional[str]"  # noqa: UP045 - as users write it
    assert type_name("x: y") == "x: y"
