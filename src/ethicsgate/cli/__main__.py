"""Allow ``python -m ethicsgate.cli``."""

from ethicsgate.cli import main

main()
