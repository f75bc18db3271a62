"""One rank of tests/test_distributed.py, started by torchrun: MaskHook's start-up check, with the
mask file of this rank (argv: one mask file per rank) on a one-layer model."""
from __future__ import annotations

import logging
import sys
from types import SimpleNamespace

import torch

from lthsteps.distributed import end_process_group, start_process_group
from lthsteps.hooks import MaskHook

start_process_group()
try:
    runner = SimpleNamespace(model=torch.nn.Linear(3, 2), logger=logging.getLogger("rank_mask_worker"))
    MaskHook(sys.argv[1 + torch.distributed.get_rank()]).before_train(runner)
finally:
    end_process_group()
