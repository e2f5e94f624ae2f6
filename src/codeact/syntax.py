"""Whether model-written code is Python a kernel cell accepts: one check for the places
that repair or cut a reply and must only hand on code that parses; and the errors a
literal written by a model can raise."""

from __future__ import annotations

import ast
import re

__all__ = ["LITERAL_ERRORS", "parses"]

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
