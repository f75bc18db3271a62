"""``python -m lthsteps.ablations``: see :mod:`lthsteps.ablations.cli`."""
import sys

from lthsteps.ablations.cli import main

if __name__ == "__main__":
    sys.exit(main())
