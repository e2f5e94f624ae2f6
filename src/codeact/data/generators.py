"""The registry of task-generator families: ``register``, ``get``, ``names``.

The base class and the seed rules live in :mod:`codeact.data.generator_base` (re-exported
here). Adding a family is one module with a :class:`Generator` subclass (see
``codeact.data.gen_math``) and one :func:`register` line, below for the built-in ones or
in your own code for others.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from codeact.data.gen_apis import ApisGenerator
from codeact.data.gen_coding import CodingGenerator
from codeact.data.gen_files import FilesGenerator
from codeact.data.gen_frames import FramesGenerator
from codeact.data.gen_math import MathGenerator
from codeact.data.gen_tools import ToolsGenerator
from codeact.data.generator_base import (
    DIFFICULTIES,
    HELDOUT_SEEDS,
    SPLITS,
    Difficulty,
    Generator,
    Spec,
    check_seed,
    draw_difficulty,
    interleave,
    parse_difficulty,
)

__all__ = [
    "DIFFICULTIES",
    "HELDOUT_SEEDS",
    "SPLITS",
    "Difficulty",
    "Generator",
    "Spec",
    "check_seed",
    "draw_difficulty",
    "get",
    "interleave",
    "names",
    "parse_difficulty",
    "parse_sources",
    "register",
]

_REGISTRY: dict[str, Callable[[], Generator]] = {}


def register(name: str, factory: Callable[[], Generator]) -> None:
    """Register a generator family under ``name`` (a class or a zero-argument factory)."""
    _REGISTRY[name] = factory


def names() -> list[str]:
    """Registered generator families."""
    return list(_REGISTRY)


def get(name: str) -> Generator:
    """The generator registered as ``name``; a clear error names the known ones."""
    try:
        return _REGISTRY[name]()
    except KeyError:
        raise ValueError(f"unknown generator {name!r}; known: {', '.join(_REGISTRY)}") \
            from None


def parse_sources(spec: str | Sequence[str]) -> list[str]:
    """``"all"`` or a comma-separated list into a list of source names (order kept)."""
    items = [spec] if isinstance(spec, str) else list(spec)
    out: list[str] = []
    for item in items:
        for part in str(item).split(","):
            part = part.strip()
            if not part:
                continue
            out.extend(names() if part == "all" else [part])
    if not out:
        raise ValueError("no source given")
    return list(dict.fromkeys(out))


register("coding", CodingGenerator)
register("files", FilesGenerator)
register("math", MathGenerator)
register("tools", ToolsGenerator)
register("frames", FramesGenerator)
register("apis", ApisGenerator)
