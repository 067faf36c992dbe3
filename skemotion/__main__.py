"""Run the command line as ``python -m skemotion``: see :func:`skemotion._cli.main`."""

import sys

from ._cli import main

# The guard keeps importers (pytest's --doctest-modules, documentation tools) from
# running the command line.
if __name__ == "__main__":
    sys.exit(main())
