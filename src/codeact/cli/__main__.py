"""``python -m codeact.cli``: the ``codeact`` command."""

from codeact.cli.root import main

main()
