"""``python -m codeact.train ...`` = ``codeact train ...`` (for ``accelerate launch -m``)."""

from codeact.train.cli import main

main()
