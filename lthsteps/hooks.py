"""MMEngine hooks that make a training run a lottery-ticket round.

``MaskHook`` keeps pruned weights at exactly zero; ``RewindCheckpointHook`` saves the weights
that later rounds restart from (late resetting, Frankle et al. 2019, the paper's §4.3).
"""
from __future__ import annotations

import torch
from mmengine.dist import master_only
from mmengine.hooks import Hook
from mmengine.registry import HOOKS

from lthsteps.checkpoints import save_state_dict
from lthsteps.distributed import check_same_on_every_rank, mask_digest
from lthsteps.masks import check_masks_fit, kept_factors, load_masks, zero_pruned, zeros_violations


def _unwrap(model: torch.nn.Module) -> torch.nn.Module:
    return getattr(model, "module", model)


@HOOKS.register_module()
class MaskHook(Hook):
    """Train only the unpruned weights of a mask file.

    Gradients of pruned weights are masked during backward, so momentum, Adam moments and
    coupled weight decay never see them; after every optimizer step the pruned weights are set to
    zero again, which makes the invariant hold for any optimizer. ``after_train`` verifies it.

    Both multiply by the mask as a 0/1 tensor (``lthsteps.masks.zero_pruned``): on CPU ``masked_fill``
    with a boolean mask is about ten times slower, and the product is the same number (a NaN stays
    NaN and fails the check).
    """

    priority = "ABOVE_NORMAL"  # before CheckpointHook (VERY_LOW) writes weights to disk

    def __init__(self, mask_file: str) -> None:
        self.mask_file = mask_file
        self._masks: dict[str, torch.Tensor] = {}  # {name: True where kept}, as in the mask file
        self._kept: list[tuple[torch.nn.Parameter, torch.Tensor]] = []  # (weight, 1 where kept, 0 where pruned)
        self._handles: list = []

    def before_train(self, runner) -> None:
        # Runs after init_weights() and load_from, so the masked weights are the ones trained.
        model = _unwrap(runner.model)
        masks, meta = load_masks(self.mask_file)
        params = dict(model.named_parameters())
        digests = check_same_on_every_rank(mask_digest(masks), f"mask {self.mask_file}")  # before any one-rank error
        check_masks_fit(masks, {name: p.detach() for name, p in params.items()})
        self._masks = masks
        self._kept = kept_factors(params, masks)
        for param, kept in self._kept:
            if param.requires_grad:  # frozen ones (e.g. frozen_stages when fine-tuning) get no gradient
                self._handles.append(param.register_hook(lambda grad, kept=kept: grad * kept))
        zero_pruned(self._kept)
        runner.logger.info(
            f"MaskHook: {sum(int((~keep).sum()) for keep in masks.values())} weights pruned in "
            f"{len(masks)} tensors from {self.mask_file} (sparsity {meta.get('sparsity')}; sha256 {digests[0]}, "
            f"the same on all {len(digests)} ranks)"
        )

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        zero_pruned(self._kept)

    def after_train(self, runner) -> None:
        model = _unwrap(runner.model)
        bad = zeros_violations(model.state_dict(), self._masks)
        for handle in self._handles:
            handle.remove()
        if bad:
            raise RuntimeError(f"pruned weights are not zero after training: {bad}")


@HOOKS.register_module()
class RewindCheckpointHook(Hook):
    """Save the model's weights after ``iteration`` optimizer steps as a plain weights file.

    ``iteration=0`` saves the initial weights, i.e. classic LTH resetting to initialisation.
    """

    priority = "LOW"

    def __init__(self, iteration: int, out_file: str) -> None:
        if iteration < 0:
            raise ValueError(f"rewind iteration must be >= 0, got {iteration}")
        self.iteration = iteration
        self.out_file = out_file

    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        if runner.iter == self.iteration:
            self._save(runner)

    def after_train(self, runner) -> None:
        if runner.iter == self.iteration:  # rewinding to the very end of training
            self._save(runner)

    @master_only  # every rank holds the same weights; one writes them
    def _save(self, runner) -> None:
        save_state_dict(self.out_file, _unwrap(runner.model).state_dict())
        runner.logger.info(f"RewindCheckpointHook: saved weights at iteration {runner.iter} to {self.out_file}")


@HOOKS.register_module()
class LateResetHook(Hook):
    """Start a round at the rewind iteration instead of 0 (late resetting, Frankle et al. 2019).

    A round resumes from the dense run's weights after ``iteration`` steps; it must also resume
    that run's learning-rate schedule and data order there and train the remaining iterations.
    This does what MMEngine's own resume does for the loop (set its iteration; the loop then skips
    the batches already seen) and steps the parameter schedulers to the same point. The optimizer
    starts fresh, as the rewind file holds only weights.
    """

    priority = "VERY_HIGH"

    def __init__(self, iteration: int) -> None:
        if iteration < 0:
            raise ValueError(f"start iteration must be >= 0, got {iteration}")
        self.iteration = iteration

    def before_train(self, runner) -> None:
        runner.train_loop._iter = self.iteration
        schedulers = runner.param_schedulers or []
        if isinstance(schedulers, dict):
            schedulers = [s for group in schedulers.values() for s in group]
        for scheduler in schedulers:
            for _ in range(self.iteration):
                scheduler.step()
        runner.logger.info(f"LateResetHook: round starts at iteration {self.iteration}, "
                           f"lr {runner.optim_wrapper.get_lr()}")
