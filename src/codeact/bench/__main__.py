"""``python -m codeact.bench`` is ``codeact bench``."""

from codeact.bench.cli import app

app()
