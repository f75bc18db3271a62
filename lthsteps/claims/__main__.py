"""``python -m lthsteps.claims``: see :mod:`lthsteps.claims.cli`."""
import sys

from lthsteps.claims.cli import main

if __name__ == "__main__":
    sys.exit(main())
