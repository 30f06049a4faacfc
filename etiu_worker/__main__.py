"""`python -m etiu_worker`: the same command line as the etiu-worker console script."""

from .cli.commands import main

main()
