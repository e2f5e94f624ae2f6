"""The terminal front-end: the ``codeact`` command.

``app`` (the typer app, with every package's sub-app mounted) and ``main`` (the console
script) are imported on first use from :mod:`codeact.cli.root`. The indirection keeps
``codeact.cli.options`` importable by the packages' own CLIs (``codeact.server.cli``,
``codeact.mcp.cli``, ...) without a cycle: importing a submodule of this package does not
mount those CLIs, which would import them back half-initialised.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from codeact.cli.root import app, main

__all__ = ["app", "main"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from codeact.cli import root

        value = globals()[name] = getattr(root, name)
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
