"""Magnitude pruning to an exact sparsity, in one of several scopes, and the IMP schedule.

A scope decides which weights are ranked against each other. Each is one function in ``SCOPES``
(name -> function), whose keys are also the ``--scope`` choices of ``python -m lthsteps.masks
prune``: a new scope is one function and one entry.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Mapping

import torch
from torch import Tensor

from lthsteps.masks.groups import group_params
from lthsteps.masks.measure import _layout_problems, _not_bool

# A scope's ranking: (flat fp32 scores by name, the weights (for their shapes), sparsity) -> keep
# masks by name, in the order of the scores. Previously pruned weights score -inf.
Ranking = Callable[[Mapping[str, Tensor], Mapping[str, Tensor], float], dict[str, Tensor]]


def _rank_global(scores: Mapping[str, Tensor], weights: Mapping[str, Tensor], sparsity: float) -> dict[str, Tensor]:
    """One ranking across all tensors: small-magnitude layers lose more."""
    return _rank_together(scores, weights, sparsity, "the selected weights")


def _rank_groupwise(scores: Mapping[str, Tensor], weights: Mapping[str, Tensor],
                    sparsity: float) -> dict[str, Tensor]:
    """One ranking per module group, so one group's init scale cannot starve another."""
    masks: dict[str, Tensor] = {}
    for group, names in group_params(scores).items():
        if names:
            masks |= _rank_together({n: scores[n] for n in names}, weights, sparsity, f"group {group}")
    return {name: masks[name] for name in scores}


def _rank_layerwise(scores: Mapping[str, Tensor], weights: Mapping[str, Tensor],
                    sparsity: float) -> dict[str, Tensor]:
    """One ranking per tensor: every tensor reaches the sparsity itself."""
    return {
        name: _keep_largest(score, round(sparsity * score.numel()), name).reshape(weights[name].shape)
        for name, score in scores.items()
    }


SCOPES: dict[str, Ranking] = {"global": _rank_global, "groupwise": _rank_groupwise, "layerwise": _rank_layerwise}


def magnitude_masks(
    weights: Mapping[str, Tensor],
    sparsity: float,
    scope: str = "global",
    previous: Mapping[str, Tensor] | None = None,
) -> dict[str, Tensor]:
    """Masks keeping the largest ``|w|`` so that ``weights`` reach exactly ``sparsity``.

    ``scope="global"`` prunes ``round(sparsity * total numel)`` weights ranked across all
    tensors (small-magnitude layers lose more); ``"groupwise"`` ranks globally within each module
    group (:func:`~lthsteps.masks.groups.group_of`: the backbone stages, the box head, ...) and
    prunes ``round(sparsity * group numel)`` of each, so one group's init scale cannot starve
    another; ``"layerwise"`` prunes ``round(sparsity * numel)`` of every tensor. Weights pruned in
    ``previous`` stay pruned whatever their value (IMP masks only grow) and count towards the
    target. Ties are broken by flat index (earlier pruned first), so counts are exact even when
    many magnitudes are equal. Magnitudes are compared in fp32; the masks are returned on CPU.
    """
    _check_sparsity(sparsity)
    if scope not in SCOPES:
        raise ValueError(f"unknown pruning scope {scope!r}: use one of {', '.join(SCOPES)}")
    if not weights:
        raise ValueError("no weights to prune: select groups/kinds that contain conv or linear weights")
    if previous is not None:
        _check_previous(previous, weights)
    scores = {name: _scores(name, w) for name, w in weights.items()}
    if previous is not None:
        for name, score in scores.items():
            score[~previous[name].detach().cpu().reshape(-1)] = -math.inf
    return SCOPES[scope](scores, weights, sparsity)


def iterative_sparsities(target: float, rounds: int) -> list[float]:
    """Cumulative sparsity after each of ``rounds`` rounds of iterative magnitude pruning.

    Every round prunes the same fraction ``q = 1 - (1 - target)^(1/k)`` of the weights that are
    still kept, so after round ``i`` the sparsity is ``1 - (1 - target)^(i/k)`` and after the last
    round exactly ``target``. This is what the paper's "prune p^(1/k)% each round" (Algorithm 1,
    step 4) means: the kept fraction ``1 - p`` is reached as a product of ``k`` equal factors.
    ``rounds=1`` is one-shot pruning: ``[target]``.
    """
    _check_sparsity(target)
    if isinstance(rounds, bool) or not isinstance(rounds, int) or rounds < 1:
        raise ValueError(f"rounds must be an integer >= 1, got {rounds!r}: use 1 for one-shot pruning")
    schedule = [1.0 - (1.0 - target) ** (i / rounds) for i in range(1, rounds)]
    return [*schedule, float(target)]  # the last round exactly, free of rounding error


def _rank_together(scores: Mapping[str, Tensor], weights: Mapping[str, Tensor], sparsity: float,
                   what: str) -> dict[str, Tensor]:
    """Masks pruning ``round(sparsity * n)`` of the ``n`` weights of ``scores``, ranked as one pool."""
    flat = torch.cat(list(scores.values()))
    keep = _keep_largest(flat, round(sparsity * flat.numel()), what)
    parts = keep.split([score.numel() for score in scores.values()])
    return {name: part.reshape(weights[name].shape) for name, part in zip(scores, parts, strict=True)}


def _check_sparsity(sparsity: float) -> None:
    if not 0.0 <= sparsity < 1.0:
        raise ValueError(
            f"sparsity must be in [0, 1), got {sparsity!r}: pass the fraction of weights to prune, e.g. 0.8 for 80%"
        )


def _scores(name: str, weight: Tensor) -> Tensor:
    """Flat fp32 CPU copy of ``|weight|``, safe to overwrite."""
    if not weight.is_floating_point():
        raise ValueError(f"weight {name} is {weight.dtype}, not floating point: prune parameters, not buffers")
    score = weight.detach().to("cpu", torch.float32).abs().reshape(-1)
    if torch.isnan(score).any():
        raise ValueError(f"weight {name} contains NaN: the checkpoint is broken (diverged training?); use a finite one")
    return score


def _keep_largest(scores: Tensor, n_prune: int, what: str) -> Tensor:
    """Keep-vector pruning the ``n_prune`` smallest scores; equal scores go in flat-index order.

    Previously pruned entries hold ``-inf`` and so are always among the pruned.
    """
    already = int(torch.isneginf(scores).sum())
    if already > n_prune:
        raise ValueError(
            f"the previous mask already prunes {already} of {scores.numel()} weights of {what}, more than the "
            f"{n_prune} the target sparsity allows: masks only grow, so raise the sparsity or pass an earlier mask"
        )
    keep = torch.ones(scores.numel(), dtype=torch.bool)
    if n_prune == 0:
        return keep
    threshold = torch.kthvalue(scores, n_prune).values
    below = scores < threshold
    keep[below] = False
    ties = torch.nonzero(scores == threshold).reshape(-1)
    keep[ties[: n_prune - int(below.sum())]] = False
    return keep


def _check_previous(previous: Mapping[str, Tensor], weights: Mapping[str, Tensor]) -> None:
    problems = _layout_problems(previous, weights, require_all=True) + _not_bool(previous)
    if problems:
        raise ValueError(
            f"previous mask does not match the weights to prune ({'; '.join(problems)}): pass the previous "
            "round's mask, made from the same model with the same groups and kinds"
        )
