"""``python -m paperlens``: the same CLI as the ``paperlens`` console script."""

from paperlens.cli import main

main()
