"""``python -m lthsteps.keypoint_errors``: see :mod:`lthsteps.keypoint_errors.cli`."""
import sys

from lthsteps.keypoint_errors.cli import main

if __name__ == "__main__":
    sys.exit(main())
