"""Source code run inside the kernel at start (the kernel cannot import codeact).

The kernel-side code itself lives in real modules under :mod:`.kernel` (``startup.py``,
``tools.py``); this module builds the cells that define and call it.

``setup_code`` installs the output limiter, the tool-bridge client (values converted by
:mod:`.convert`, host exceptions rebuilt by type name), the traceback pruning that keeps
our own frames out of what the model sees, did-you-mean notes on lookup errors
(:mod:`.suggest`), and ``final_answer``; ``tools_code`` defines
the tools as plain functions in the user namespace. The kernel reports a final answer as
a payload of the cell's execute reply (see :func:`final_answer_from_payload`): a
structured channel that printing cannot imitate.
"""

from __future__ import annotations

import functools
import inspect
import json
from collections.abc import Sequence

from ..tools import Tool
from . import convert, submission, suggest
from .kernel import source

DROP_MARK = "\x00codeact-dropped:"  # + count + "\x00": chars dropped inside the kernel
FINAL_ANSWER_SOURCE = "codeact.final_answer"  # payload source of final_answer(...)
MAX_ANSWER = 200_000  # characters a final answer may have
# standard modules bound in every kernel at start, as a first cell's imports would be
# (seen: a 0.5B model sent `math.factorial(37)` four times without `import math`)
PREBOUND_MODULES = ("math", "json", "re", "random", "itertools", "collections", "statistics",
                    "functools", "string")


@functools.cache
def _shipped_sources() -> tuple[str, str, str]:
    """The source of :mod:`.convert`, :mod:`.submission` and :mod:`.suggest`, which the
    kernel loads too."""
    return tuple(inspect.getsource(m) for m in (convert, submission, suggest))  # type: ignore[return-value]


def setup_code(limit: int, sock_path: str | None, site_dir: str | None = None, *,
               suggest: bool = True) -> str:
    """Kernel start-up code: output limiter, tool-bridge client, traceback pruning,
    ``final_answer`` and ``%pip`` through the host (``site_dir``: the package overlay as
    the kernel sees it). ``sock_path`` None: the bridge goes over comm messages (a remote
    kernel, see ``comm_bridge.py``). ``suggest`` False: no did-you-mean notes on lookup
    errors (the agent's ``did_you_mean`` ablation)."""
    convert_src, submission_src, suggest_src = _shipped_sources()
    return (
        source("startup")
        + f"__codeact_setup({limit!r}, {sock_path!r}, {DROP_MARK!r}, "
        + f"{convert_src!r}, {submission_src!r}, {suggest_src!r}, "
        + f"{FINAL_ANSWER_SOURCE!r}, {MAX_ANSWER!r}, {site_dir!r}, {bool(suggest)!r}, "
        + f"{PREBOUND_MODULES!r})\n"
        + "del __codeact_setup\n"
        + "get_ipython().run_line_magic('colors', 'nocolor')\n"
        # Model code sees a plain interpreter's argv, not the kernel's own flags, so
        # argparse/unittest.main() in a cell do not choke on ipykernel's arguments.
        + "__import__('sys').argv[:] = ['python']\n"
    )


def _call_as(t: Tool) -> str:
    """The stub's signature line (``name(a: int, b: str = 'x') -> dict``), quoted in the
    error a wrong call gets, so the model sees how to call the tool right there."""
    line = t.python_stub().splitlines()[0].strip()
    return line.removeprefix("async ").removeprefix("def ").removesuffix(":")


def tools_code(tools: Sequence[Tool]) -> str:
    """Code that defines the host tools (bridged, checked against their parsed
    signature) and the pure tools (their own source) in the user namespace."""
    specs = [(t.name, t.parsed_signature.to_spec(), t.doc(), _call_as(t))
             for t in tools if not t.pure]
    pure = [(t.name, t.source()) for t in tools if t.pure]
    return (
        source("tools")
        + f"__codeact_tools(__import__('json').loads({json.dumps(json.dumps(specs))}), "
        + f"__import__('json').loads({json.dumps(json.dumps(pure))}))\n"
        + "del __codeact_tools\n"
    )


def final_answer_from_payload(payload: object) -> str | None:
    """The answer ``final_answer(...)`` submitted during a cell, read from the payload of
    its execute reply (the last call wins); None when it was not called."""
    answer = None
    if isinstance(payload, list):
        for item in payload:
            if isinstance(item, dict) and item.get("source") == FINAL_ANSWER_SOURCE:
                value = item.get("answer")
                if isinstance(value, str):
                    answer = value
    return answer
