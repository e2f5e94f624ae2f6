"""JSON-safe values for the tool bridge: what converts, what is refused and how it says so."""

import dataclasses
import datetime
import itertools
import json
from collections import OrderedDict, deque
from enum import StrEnum
from pathlib import Path

import numpy as np
import pytest

from codeact.runtime.convert import MAX_ITEMS, Image, dumps, loads, to_json


class Colour(StrEnum):
    RED = "red"


@dataclasses.dataclass
class Point:
    x: int
    when: datetime.date
    tags: tuple = ()


@pytest.mark.parametrize("value,expected", [
    ((len(w) for w in ["a", "bb"]), [1, 2]),
    (iter([3, 4]), [3, 4]),
    (map(str, [1, 2]), ["1", "2"]),
    (range(3), [0, 1, 2]),
    ((1, (2, 3)), [1, [2, 3]]),
    ({3, 1, 2}, [1, 2, 3]),
    (frozenset({"b", "a"}), ["a", "b"]),
    ({"a": 1}.keys(), ["a"]),
    (deque([1, 2]), [1, 2]),
    (np.int64(7), 7),
    (np.float32(0.5), 0.5),
    (np.bool_(True), True),
    (np.arange(4).reshape(2, 2), [[0, 1], [2, 3]]),
    (Point(1, datetime.date(2024, 5, 1), (1, 2)),
     {"x": 1, "when": "2024-05-01", "tags": [1, 2]}),
    (datetime.datetime(2024, 5, 1, 12, 30), "2024-05-01T12:30:00"),
    (datetime.time(8, 15), "08:15:00"),
    (Path("a/b.txt"), "a/b.txt"),
    (Colour.RED, "red"),
    (OrderedDict(a=(1, 2)), {"a": [1, 2]}),
    ({"n": [np.float64(1.5), None, True, "s"]}, {"n": [1.5, None, True, "s"]}),
])
def test_values_become_json(value, expected):
    out = to_json(value)
    assert out == expected
    assert type(out) is type(expected)
    json.dumps(out)  # really JSON


def test_non_string_keys_survive_the_round_trip():
    value = {1: "a", 2.5: "b", None: "c", False: "d", (1, "x"): "e", "s": {3: [4]}}
    text = dumps(value)
    assert json.loads(text)  # plain JSON on the wire
    assert loads(text) == value
    assert loads(dumps({"plain": 1})) == {"plain": 1}


@pytest.mark.parametrize("value,fragment", [
    (object(), "argument 'x' has type object"),
    ({"a": [1, object()]}, "argument 'x' contains a value of type object at ['a'][1]"),
    (b"bytes", "argument 'x' has type bytes"),
    (1j, "argument 'x' has type complex"),
    (Point(1, datetime.date.today(), (open,)),
     "contains a value of type builtin_function_or_method at .tags[0]"),
    ({frozenset(): 1}, "key frozenset()"),
    (itertools.count(), f"more than {MAX_ITEMS:,} items"),
])
def test_unconvertible_values_name_where_and_what(value, fragment):
    with pytest.raises(TypeError) as info:
        to_json(value, "tool(): argument 'x'")
    message = str(info.value)
    assert fragment in message
    assert "cannot be passed between the kernel and a host tool" in message or \
        "more than" in message


def test_numpy_keys_and_tuple_keys():
    assert loads(dumps({np.int64(2): "a", (1, (2, "x")): "b"})) == {2: "a", (1, (2, "x")): "b"}


def test_circular_values_are_refused():
    loop: list = []
    loop.append(loop)
    with pytest.raises(TypeError, match="circular reference"):
        to_json(loop, "the value")
    shared = [1]
    assert to_json([shared, shared]) == [[1], [1]]  # shared, not circular: fine


def test_images_travel_tagged_and_come_back_as_images():
    img = Image(b"\x89PNG\r\n", "image/png")
    back = loads(dumps({"chart": img, "all": [img, "caption"]}))
    assert back == {"chart": img, "all": [img, "caption"]}
    assert isinstance(back["chart"], Image) and back["chart"].data == b"\x89PNG\r\n"
    bundle = img._repr_mimebundle_()
    assert bundle["image/png"] == "iVBORw0K" and bundle["text/plain"] == repr(img)
    # a dict that merely looks like the tag, with bad base64, stays a dict
    assert loads('{"__codeact_image__": {"data": "***"}}') == {
        "__codeact_image__": {"data": "***"}}
