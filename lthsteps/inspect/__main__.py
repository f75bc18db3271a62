"""``python -m lthsteps.inspect``: see :mod:`lthsteps.inspect.cli`."""
import os
import sys

import torch

from lthsteps.inspect.cli import main

if __name__ == "__main__":
    # Many small tensors, one after another: threads only add overhead (20x slower on 2 busy cores).
    torch.set_num_threads(1)
    try:
        code = main()
        sys.stdout.flush()
    except BrokenPipeError:  # output piped into `head`: stop quietly (Python's documented recipe)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = 1
    sys.exit(code)
