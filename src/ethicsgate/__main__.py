"""Allow ``python -m ethicsgate``."""

from ethicsgate.cli import main

main()
