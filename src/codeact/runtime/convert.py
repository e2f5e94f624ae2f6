"""JSON-safe values for the tool bridge, in both directions.

Model code passes whatever Python it has at hand: generators, tuples, sets, numpy
numbers, dataclasses, dates. :func:`to_json` turns those into JSON values (iterables into
lists, numpy values into Python numbers, dataclasses into dicts, dates into ISO strings)
and names exactly what it cannot send. Dicts whose keys are not all strings travel
tagged, so ``{1: "a"}`` arrives as ``{1: "a"}``, not ``{"1": "a"}``; ``loads`` undoes the
tag. An :class:`Image` (a host tool's image result, e.g. from an MCP server) travels
tagged too and is shown as an image in the kernel. This module uses the standard library
only: its source also runs inside the kernel.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime
import itertools
import json
from array import array
from collections import deque
from collections.abc import ItemsView, Iterator, KeysView, Mapping, Sequence, ValuesView
from collections.abc import Set as AbstractSet
from pathlib import PurePath
from typing import Any

MAX_ITEMS = 1_000_000  # an iterator longer than this is refused (it may be endless)
DICT_TAG = "__codeact_dict__"
IMAGE_TAG = "__codeact_image__"

KINDS = ("numbers, strings, booleans, None, lists, tuples, sets, dicts, iterators and "
         "generators, range, numpy values, dataclasses, dates and times")


class Image:
    """Image bytes with their MIME type: displayed as an image in the notebook, with
    ``.data`` (bytes) and ``.mime_type`` for code that wants the bytes themselves."""

    def __init__(self, data: bytes, mime_type: str = "image/png") -> None:
        self.data = bytes(data)
        self.mime_type = mime_type

    # Set inside the kernel: True when this image was already displayed in the running
    # cell (a tool result is displayed on arrival), so it is not shown twice.
    @staticmethod
    def already_shown(image: Image) -> bool:
        return False

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        if Image.already_shown(self):
            return {"text/plain": repr(self)}
        return {self.mime_type: base64.b64encode(self.data).decode("ascii"),
                "text/plain": repr(self)}

    def __repr__(self) -> str:
        return f"<Image {self.mime_type}, {len(self.data):,} bytes>"

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, Image) and other.data == self.data
                and other.mime_type == self.mime_type)

    __hash__ = None  # type: ignore[assignment]


def _type_name(value: Any) -> str:
    t = type(value)
    mod = t.__module__
    return t.__qualname__ if mod in ("builtins", "__main__") else f"{mod}.{t.__qualname__}"


def to_json(value: Any, what: str = "the value") -> Any:
    """``value`` as JSON-compatible data; a TypeError that names ``what`` (and where
    inside it) when something cannot be converted."""
    return _enc(value, what, "", set())


def dumps(value: Any, what: str = "the value") -> str:
    """One JSON line for ``value`` (see :func:`to_json`)."""
    return json.dumps(to_json(value, what), ensure_ascii=False)


def _hook(obj: dict) -> Any:
    if len(obj) == 1:
        pairs = obj.get(DICT_TAG)
        if isinstance(pairs, list):
            return {_key(k): v for k, v in pairs}
        image = obj.get(IMAGE_TAG)
        if isinstance(image, dict) and isinstance(image.get("data"), str):
            try:
                data = base64.b64decode(image["data"], validate=True)
            except ValueError:
                return obj
            return Image(data, str(image.get("mime_type") or "image/png"))
    return obj


def _key(k: Any) -> Any:
    return tuple(_key(x) for x in k) if isinstance(k, list) else k


def loads(text: str | bytes) -> Any:
    """Parse what :func:`dumps` wrote, restoring non-string dict keys."""
    return json.loads(text, object_hook=_hook)


def _fail(what: str, path: str, value: Any, why: str = "") -> TypeError:
    where = (f"{what} contains a value of type {_type_name(value)} at {path}" if path
             else f"{what} has type {_type_name(value)}")
    return TypeError(f"{where}, which cannot be passed between the kernel and a host "
                     f"tool{why}; use {KINDS}")


def _enc(v: Any, what: str, path: str, active: set[int]) -> Any:
    if v is None or isinstance(v, bool):
        return v
    if isinstance(v, str):
        return v if type(v) is str else str.__str__(v)  # a str subclass, e.g. an enum
    if isinstance(v, int):
        return int(v)
    if isinstance(v, float):
        return float(v)
    mod = type(v).__module__ or ""
    if mod == "numpy" or mod.startswith("numpy."):
        tolist = getattr(v, "tolist", None)
        if callable(tolist):
            return _enc(tolist(), what, path, active)
    if isinstance(v, datetime.date | datetime.time):
        return v.isoformat()
    if isinstance(v, PurePath):
        return str(v)
    if isinstance(v, Image):
        return {IMAGE_TAG: {"mime_type": v.mime_type,
                            "data": base64.b64encode(v.data).decode("ascii")}}
    if isinstance(v, bytes | bytearray | memoryview | complex):
        raise _fail(what, path, v)
    if dataclasses.is_dataclass(v) and not isinstance(v, type):
        return _container(v, what, path, active, lambda: {
            f.name: _enc(getattr(v, f.name), what, f"{path}.{f.name}", active)
            for f in dataclasses.fields(v)})
    if isinstance(v, Mapping):
        return _container(v, what, path, active, lambda: _mapping(v, what, path, active))
    if isinstance(v, list | tuple | deque | array | range | KeysView | ValuesView
                  | ItemsView) or isinstance(v, Sequence) and not isinstance(v, str):
        return _container(v, what, path, active, lambda: [
            _enc(x, what, f"{path}[{i}]", active) for i, x in enumerate(v)])
    if isinstance(v, AbstractSet):
        items = list(v)
        try:
            items.sort()
        except TypeError:
            pass
        return _container(v, what, path, active, lambda: [
            _enc(x, what, f"{path}[{i}]", active) for i, x in enumerate(items)])
    if isinstance(v, Iterator):
        items = list(itertools.islice(v, MAX_ITEMS + 1))
        if len(items) > MAX_ITEMS:
            raise _fail(what, path, v, f" (it yielded more than {MAX_ITEMS:,} items)")
        return [_enc(x, what, f"{path}[{i}]", active) for i, x in enumerate(items)]
    raise _fail(what, path, v)


def _key_ok(k: Any) -> bool:
    """Keys that come back as they went: scalars, and tuples of them."""
    if isinstance(k, tuple):
        return all(_key_ok(x) for x in k)
    mod = type(k).__module__ or ""
    return k is None or isinstance(k, str | int | float) or (
        mod == "numpy" and getattr(k, "shape", None) == ())  # a numpy scalar


def _container(v: Any, what: str, path: str, active: set[int], build: Any) -> Any:
    if id(v) in active:
        where = f"{what} at {path}" if path else what
        raise TypeError(f"{where} contains itself (a circular reference), so it cannot be "
                        "passed between the kernel and a host tool")
    active.add(id(v))
    try:
        return build()
    finally:
        active.discard(id(v))


def _mapping(v: Mapping, what: str, path: str, active: set[int]) -> Any:
    if all(type(k) is str for k in v):
        return {k: _enc(x, what, f"{path}[{k!r}]", active) for k, x in v.items()}
    pairs = []
    for k, x in v.items():
        if not _key_ok(k):
            raise _fail(what, f"{path} key {k!r}", k)
        key = _enc(k, what, f"{path} key {k!r}", active)
        pairs.append([key, _enc(x, what, f"{path}[{k!r}]", active)])
    return {DICT_TAG: pairs}
