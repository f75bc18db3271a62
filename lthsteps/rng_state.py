"""Bit-identical resume on CPU: the random number generators' states travel with the checkpoint.

MMEngine's resume restores weights, optimizer, schedulers and the iteration, and skips the batches
already trained by drawing them again, but not the RNG states: after a resume the RPN/RoI samplers
(torch) and the random flips (numpy, python) draw other numbers than the uninterrupted run would.
``RngStateHook`` stores the three states in every checkpoint's ``meta`` and, on resume, sets them
again just before the first batch after the skipped ones is drawn, which is where the
uninterrupted run stood when it saved that checkpoint. No MMEngine hook runs between the skip and
that batch, so the hook wraps the loop's data iterator for that one draw.

Bit-identical only where those generators are all there is: one process with ``num_workers=0``
(the embedded configs on CPU). Dataloader workers have generators of their own, other ranks
their own states, and GPU kernels are not deterministic, so at paper scale a resumed run is a
statistically equivalent run, not the same one (docs/cluster.md).
"""
from __future__ import annotations

import random

import numpy as np
import torch
from mmengine.dist import get_world_size
from mmengine.hooks import Hook
from mmengine.registry import HOOKS

META_KEY = "rng_state"


def capture() -> dict:
    return {"torch": torch.get_rng_state(), "numpy": np.random.get_state(), "python": random.getstate()}


def restore(state: dict) -> None:
    torch.set_rng_state(state["torch"])
    np.random.set_state(state["numpy"])
    random.setstate(_as_tuples(state["python"]))


def _as_tuples(value):
    # random.setstate wants tuples; a checkpoint round trip may hand back lists.
    return tuple(_as_tuples(v) for v in value) if isinstance(value, (list, tuple)) else value


class _RestoreBeforeDraw:
    """The loop's data iterator, restoring ``state`` just before draw number ``skipped + 1``."""

    def __init__(self, iterator, skipped: int, state: dict) -> None:
        self._iterator, self._left, self._state = iterator, skipped, state

    def __next__(self):
        if self._left == 0 and self._state is not None:
            restore(self._state)
            self._state = None
        self._left -= 1
        return next(self._iterator)

    def __iter__(self):
        return self

    def __getattr__(self, name):
        return getattr(self._iterator, name)


@HOOKS.register_module()
class RngStateHook(Hook):
    """Save the RNG states with every checkpoint; restore them on resume (one process only)."""

    priority = "VERY_HIGH"

    def __init__(self) -> None:
        self._resumed_state: dict | None = None

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        checkpoint.setdefault("meta", {})[META_KEY] = capture()

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        if get_world_size() == 1:
            self._resumed_state = checkpoint.get("meta", {}).get(META_KEY)

    def before_train_epoch(self, runner) -> None:
        # Called before the loop skips the batches already trained (IterBasedTrainLoop.run).
        if self._resumed_state is not None:
            loop = runner.train_loop
            loop.dataloader_iterator = _RestoreBeforeDraw(loop.dataloader_iterator, loop.iter, self._resumed_state)
            self._resumed_state = None
