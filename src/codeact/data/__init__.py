"""CodeActInstruct-style training data: generated tasks with checkable answers, teacher
trajectory collection through the real agent loop, filters, export and import.

Modules, one job each: ``generators`` (base class and registry) with the families
``gen_math``, ``gen_files``, ``gen_coding``, ``gen_tools``, ``gen_frames`` (pandas on
workspace files), ``gen_apis`` (third-party-style tool worlds); ``sources`` (extra JSONL and
``datasets`` sources); ``checkers`` (named answer checkers); ``decontam`` (13-gram overlap
with every registered evaluation suite); ``prompt`` (which system prompt a record used);
``collect`` (runs the teacher); ``filters``; ``export``; ``importer``; ``tokens``;
``card`` (the dataset card); ``stats`` and ``show`` (looking at data); ``sample`` (a
small sample with its card, for ``examples/``); ``cli``.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import TYPE_CHECKING

# the submodules, imported on first attribute access (``codeact.data.NAME``)
__all__ = [
    "build",
    "card",
    "checkers",
    "collect",
    "decontam",
    "export",
    "filters",
    "gen_apis",
    "gen_coding",
    "gen_files",
    "gen_frames",
    "gen_math",
    "gen_tools",
    "generator_base",
    "generators",
    "heldout",
    "importer",
    "prompt",
    "sample",
    "show",
    "sources",
    "stats",
    "tokens",
]

if TYPE_CHECKING:  # what type checkers see; at run time each loads on first use
    from codeact.data import (
        build,
        card,
        checkers,
        collect,
        decontam,
        export,
        filters,
        gen_apis,
        gen_coding,
        gen_files,
        gen_frames,
        gen_math,
        gen_tools,
        generator_base,
        generators,
        heldout,
        importer,
        prompt,
        sample,
        show,
        sources,
        stats,
        tokens,
    )


def __getattr__(name: str) -> ModuleType:
    if name in __all__:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
