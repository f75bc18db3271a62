"""Applying, checking and measuring masks.

Network sparsity (the paper's "Network Sparsity", Table 3) is the number of pruned weights
divided by all parameters of the detector (:func:`~lthsteps.masks.groups.network_params`: the
floating tensors of its state dict except the BatchNorm statistics, which are buffers).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
from torch import Tensor

from lthsteps.masks.groups import group_of, group_params, network_params

_SHOWN = 5  # names listed in an error message before "and N more"


def check_masks_fit(masks: Mapping[str, Tensor], state_dict: Mapping[str, Tensor]) -> None:
    """Raise ValueError unless every masked name is in ``state_dict`` with the mask's shape."""
    problems = _layout_problems(masks, state_dict, require_all=False) + _not_bool(masks)
    if problems:
        raise ValueError(
            f"mask does not fit the weights ({'; '.join(problems)}): it was made for another model or config; "
            "regenerate it from this model's weights with `python -m lthsteps.masks prune`"
        )


def apply_masks(state_dict: Mapping[str, Tensor], masks: Mapping[str, Tensor]) -> None:
    """Zero the pruned entries of ``state_dict`` in place (works on ``model.state_dict()``)."""
    check_masks_fit(masks, state_dict)
    with torch.no_grad():
        for name, mask in masks.items():
            tensor = state_dict[name]
            tensor.masked_fill_(~mask.to(tensor.device), 0)


def kept_factors(params: Mapping[str, Tensor], masks: Mapping[str, Tensor]) -> list[tuple[Tensor, Tensor]]:
    """(weight, its mask as 1 where kept and 0 where pruned, in the weight's dtype and device) per masked
    weight: what ``zero_pruned`` multiplies by after every optimizer step."""
    return [(params[name], mask.to(device=params[name].device, dtype=params[name].dtype))
            for name, mask in masks.items()]


@torch.no_grad()
def zero_pruned(kept: list[tuple[Tensor, Tensor]]) -> None:
    """Set the pruned weights to zero again as a product with their 0/1 masks (``kept_factors``): the same
    numbers as ``masked_fill`` with a boolean mask (a pruned weight may become -0.0, which equals 0), about
    ten times faster on CPU (docs/studies/default-cost.md §9)."""
    for param, keep in kept:
        param.mul_(keep)


def zeros_violations(state_dict: Mapping[str, Tensor], masks: Mapping[str, Tensor]) -> dict[str, int]:
    """Per name, how many pruned entries are not exactly 0; empty when the masks hold."""
    check_masks_fit(masks, state_dict)
    counts = {
        name: int(((state_dict[name].detach() != 0) & ~mask.to(state_dict[name].device)).sum())
        for name, mask in masks.items()
    }
    return {name: n for name, n in counts.items() if n}


class MaskViolation(ValueError):
    """Weights that are not exactly zero where their mask prunes."""


def check_zeros(state_dict: Mapping[str, Tensor], masks: Mapping[str, Tensor], weights: str, mask: str) -> None:
    """MaskViolation naming every tensor (the first few, and how many more) with non-zeros off the mask."""
    bad = zeros_violations(state_dict, masks)
    if bad:
        shown = ", ".join(f"{name} ({n})" for name, n in list(bad.items())[:5])
        more = f" and {len(bad) - 5} more tensors" if len(bad) > 5 else ""
        raise MaskViolation(f"{weights}: not zero where {mask} prunes: {sum(bad.values()):,} non-zero weights in "
                            f"{shown}{more}: use the weights trained under this mask (the run's weights.pth), or "
                            "the mask they were trained with")


def sparsity_report(state_dict: Mapping[str, Tensor], masks: Mapping[str, Tensor]) -> dict:
    """Pruned counts of the network, of each module group and of each masked layer (JSON-ready).

    ``network.sparsity`` is pruned / all parameters of the detector (see the module doc);
    a group's ``sparsity`` is pruned / its parameters and ``prunable_sparsity`` pruned / the
    weights its masks cover.
    """
    check_masks_fit(masks, state_dict)
    params = network_params(state_dict)
    pruned = {name: int((~mask).sum()) for name, mask in masks.items()}
    groups: dict[str, dict] = {}
    for group, names in group_params(params).items():
        if not names:
            continue
        size = sum(params[name].numel() for name in names)
        prunable = sum(masks[name].numel() for name in names if name in masks)
        n = sum(pruned.get(name, 0) for name in names)
        groups[group] = {
            "params": size,
            "prunable": prunable,
            "pruned": n,
            "sparsity": _ratio(n, size),
            "prunable_sparsity": _ratio(n, prunable),
        }
    total = sum(t.numel() for t in params.values())
    n_pruned = sum(pruned.values())
    layers = {
        name: {
            "group": group_of(name),
            "numel": masks[name].numel(),
            "pruned": pruned[name],
            "sparsity": _ratio(pruned[name], masks[name].numel()),
        }
        for name in masks
    }
    network = {"params": total, "pruned": n_pruned, "sparsity": _ratio(n_pruned, total)}
    return {"network": network, "groups": groups, "layers": layers}


def mask_iou(a: Mapping[str, Tensor], b: Mapping[str, Tensor]) -> float:
    """Intersection over union of the PRUNED sets of two masks (1.0 when neither prunes)."""
    problems = _layout_problems(a, b, require_all=True) + _not_bool(a) + _not_bool(b)
    if problems:
        raise ValueError(
            f"masks cover different weights ({'; '.join(problems)}): compare masks of the same model, groups and kinds"
        )
    inter = sum(int((~a[name] & ~b[name]).sum()) for name in a)
    union = sum(int((~a[name] | ~b[name]).sum()) for name in a)
    return inter / union if union else 1.0


# The helpers below are shared with magnitude.py and maskfile.py (same error wording everywhere).


def _layout_problems(masks: Mapping[str, Tensor], ref: Mapping[str, Tensor], require_all: bool) -> list[str]:
    """Human-readable mismatches between ``masks`` and ``ref``: missing names, extra names, shapes."""
    problems = []
    missing = [name for name in masks if name not in ref]
    if missing:
        problems.append(f"not in the weights: {_names(missing)}")
    extra = [name for name in ref if name not in masks] if require_all else []
    if extra:
        problems.append(f"not in the mask: {_names(extra)}")
    shapes = [
        f"{name} {list(m.shape)} vs {list(ref[name].shape)}"
        for name, m in masks.items()
        if name in ref and m.shape != ref[name].shape
    ]
    if shapes:
        problems.append(f"shape mismatch (mask vs weights): {_names(shapes)}")
    return problems


def _not_bool(masks: Mapping[str, Tensor]) -> list[str]:
    wrong = [f"{name} is {m.dtype}" for name, m in masks.items() if m.dtype != torch.bool]
    return [f"not bool masks: {_names(wrong)}"] if wrong else []


def _names(items: Sequence[str]) -> str:
    shown = ", ".join(items[:_SHOWN])
    return shown if len(items) <= _SHOWN else f"{shown} and {len(items) - _SHOWN} more"


def _ratio(num: int, den: int) -> float:
    return num / den if den else 0.0
