"""``python -m lthsteps.synthdata``: see :mod:`lthsteps.synthdata.cli`."""
import sys

from lthsteps.synthdata.cli import main

if __name__ == "__main__":
    sys.exit(main())
