"""Whether model-written code is Python a kernel cell accepts: one check for the places
that repair or cut a reply and must only hand on code that parses; and the errors a
literal written by a model can raise."""

from __future__ import annotations

import ast
import functools
import re

__all__ = ["LITERAL_ERRORS", "parses", "program_key"]

# what ast.literal_eval raises on model-written text: also TypeError (`{[1]: 2}` builds an
# unhashable key) and MemoryError/RecursionError (deep nesting)
LITERAL_ERRORS = (ValueError, SyntaxError, TypeError, MemoryError, RecursionError)

# IPython lines that are no Python: magics (%pip, %%time) and shell escapes (!ls)
_IPYTHON_LINE = re.compile(r"^([ \t]*)[%!].*$", re.M)


def parses(code: str) -> bool:
    """Whether ``code`` is non-empty and parses as a cell (IPython's ``%``/``!`` lines
    count as statements)."""
    if not code.strip():
        return False
    try:
        ast.parse(_IPYTHON_LINE.sub(r"\1pass", code))
    except (SyntaxError, ValueError):
        return False
    return True


@functools.lru_cache(maxsize=512)
def program_key(code: str) -> str:
    """What makes two cells the same program: their syntax tree, so cells that differ only
    in comments, blank lines or spacing compare equal. Seen: a failing cell sent again
    with ``# Output: 2`` added was run again instead of being caught as a repeat. Code
    that does not parse (an IPython magic, a cut-off cell) is compared as written."""
    try:
        return ast.dump(ast.parse(code))
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return code.strip()
