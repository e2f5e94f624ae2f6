"""Code that runs inside the kernel (or its launcher), kept as real modules.

The kernel cannot import codeact (it may run in another environment, and the sandbox
hides codeact's checkout), so the host reads these files as text with
:func:`source` and sends them: ``launcher.py`` as ``python -c``, ``startup.py`` and
``tools.py`` as silent cells, ``env_probe.py`` to a candidate interpreter. Keeping them as
files rather than string literals lets ruff and pyright check them. Importing them on the
host defines functions only (``launcher.py`` and ``env_probe.py`` run under ``__main__``).
"""

from __future__ import annotations

import functools
from importlib import resources

__all__ = ["source"]

NAMES = ("launcher", "startup", "tools", "env_probe", "files")


@functools.cache
def source(name: str) -> str:
    """The text of the kernel-side module ``name`` (one of :data:`NAMES`)."""
    if name not in NAMES:
        raise ValueError(f"no kernel-side module {name!r} (have: {', '.join(NAMES)})")
    return resources.files(__name__).joinpath(f"{name}.py").read_text(encoding="utf-8")
