"""``python -m fundsim.cli``: the command line, as a module (the tests start real processes this way)."""

from fundsim.cli import main

main()
