"""`python -m gitax`."""

from gitax.cli.main import main

main()
