"""Pruning masks: magnitude pruning, module groups, mask files and sparsity reports.

A mask is a ``dict[str, torch.BoolTensor]`` keyed by the state-dict name of a detector parameter
(e.g. ``backbone.layer1.0.conv1.weight``), with the shape of that parameter: True = kept,
False = pruned. Parameters absent from a mask dict are dense.

* :mod:`~lthsteps.masks.groups`: the paper's module groups and the parameter kinds that are pruned;
* :mod:`~lthsteps.masks.magnitude`: magnitude pruning to an exact sparsity, per scope, and the
  iterative schedule;
* :mod:`~lthsteps.masks.maskfile`: the mask file format (the project's interface) and its reader/writer;
* :mod:`~lthsteps.masks.measure`: applying, checking and measuring masks (network sparsity);
* :mod:`~lthsteps.masks.cli`: ``python -m lthsteps.masks {groups,prune,report} --help``.

The public names of all of them are importable from ``lthsteps.masks`` itself.
"""

from lthsteps.masks.cli import main
from lthsteps.masks.groups import (BUFFER_SUFFIXES, GROUPS, KINDS, group_of, group_params, kind_of, network_params,
                                   prunable_weights)
from lthsteps.masks.magnitude import SCOPES, iterative_sparsities, magnitude_masks
from lthsteps.masks.maskfile import FORMAT, VERSION, load_masks, save_masks, save_masks_and_report
from lthsteps.masks.measure import (MaskViolation, apply_masks, check_masks_fit, check_zeros, kept_factors, mask_iou,
                                    sparsity_report, zero_pruned, zeros_violations)

__all__ = [
    "MaskViolation",
    "check_zeros",
    "BUFFER_SUFFIXES", "FORMAT", "GROUPS", "KINDS", "SCOPES", "VERSION", "apply_masks", "check_masks_fit",
    "group_of", "group_params", "iterative_sparsities", "kept_factors", "kind_of", "load_masks", "magnitude_masks", "main",
    "mask_iou", "network_params", "prunable_weights", "save_masks", "save_masks_and_report", "sparsity_report",
    "zero_pruned", "zeros_violations",
]
