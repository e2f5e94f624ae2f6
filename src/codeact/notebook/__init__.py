"""Export agent runs and web conversations as Jupyter notebooks (.ipynb).

:func:`trajectory_notebook` and :func:`conversation_notebook` build an nbformat v4
notebook; :func:`dumps` validates and serialises it. ``codeact notebook`` and ``codeact run
--notebook`` are in :mod:`codeact.notebook.cli`. ``nbformat`` is an optional dependency
(``pip install 'codeact[notebook]'``), imported only when a notebook is built.
"""

from __future__ import annotations

from codeact.notebook.build import (
    SETUP_TAG,
    NotebookError,
    conversation_notebook,
    dumps,
    prose,
    setup_source,
    trajectory_notebook,
)

__all__ = ["SETUP_TAG", "NotebookError", "conversation_notebook", "dumps", "prose",
           "setup_source", "trajectory_notebook"]
