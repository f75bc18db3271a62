"""``python -m lthsteps.masks``: see :mod:`lthsteps.masks.cli`."""
import sys

from lthsteps.masks.cli import main

if __name__ == "__main__":
    sys.exit(main())
