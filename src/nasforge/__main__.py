"""``python -m nasforge``: the same as the ``nasforge`` command."""

from nasforge.cli import main

main()
