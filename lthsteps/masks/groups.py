"""Module groups (the paper's Table 3 modules) and the kinds of parameters that are pruned.

Network sparsity (the paper's "Network Sparsity", Table 3) is measured against all parameters of
the detector: every floating tensor of its state dict except the BatchNorm statistics
``*.running_mean``, ``*.running_var`` and ``*.num_batches_tracked``, which are buffers, not
parameters (:func:`network_params`).
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

from torch import Tensor

GROUPS = ("backbone_base", "backbone_top", "neck", "rpn", "box_head", "mask_head", "keypoint_head", "other")
KINDS = ("conv", "linear")
BUFFER_SUFFIXES = (".running_mean", ".running_var", ".num_batches_tracked")

# First matching prefix wins. C4 detectors run the last ResNet stage (layer4) as the shared RoI
# head, FPN detectors keep it in the backbone: both are the paper's "Top" module.
_GROUP_RULES = (
    ("roi_head.shared_head.", "backbone_top"),
    ("backbone.layer4.", "backbone_top"),
    ("backbone.", "backbone_base"),
    ("neck.", "neck"),
    ("rpn_head.", "rpn"),
    ("roi_head.bbox_head.", "box_head"),
    ("roi_head.mask_head.", "mask_head"),
    ("roi_head.keypoint_head.", "keypoint_head"),
    # A torchvision ResNet classifier (lthsteps.classifier): the same modules without a prefix.
    ("layer4.", "backbone_top"),
    *((prefix, "backbone_base") for prefix in ("conv1.", "bn1.", "layer1.", "layer2.", "layer3.")),
)


def group_of(name: str) -> str:
    """The paper's module (Table 3) of a parameter of an MMDetection two-stage detector, or of the
    backbone part of a torchvision ResNet classifier (its ``fc`` is ``other``)."""
    return next((group for prefix, group in _GROUP_RULES if name.startswith(prefix)), "other")


def group_params(names: Iterable[str]) -> dict[str, list[str]]:
    """``names`` split by :func:`group_of`: every group of ``GROUPS`` (in that order, maybe empty)."""
    groups: dict[str, list[str]] = {group: [] for group in GROUPS}
    for name in names:
        groups[group_of(name)].append(name)
    return groups


def kind_of(name: str, tensor: Tensor) -> str | None:
    """``"conv"`` or ``"linear"`` for a prunable weight, None for anything else.

    Decided from the state dict alone: a floating ``*.weight`` with 3-5 dims is a convolution
    kernel, one with 2 dims a fully connected layer. Biases, norm-layer weights (1 dim) and
    buffers are never pruned.
    """
    if not name.endswith(".weight") or not tensor.is_floating_point():
        return None
    if tensor.dim() in (3, 4, 5):
        return "conv"
    if tensor.dim() == 2:
        return "linear"
    return None


def prunable_weights(
    state_dict: Mapping[str, Tensor], groups: Sequence[str], kinds: Sequence[str] = KINDS,
    exclude: Sequence[str] = (),
) -> dict[str, Tensor]:
    r"""The weights of ``state_dict`` in ``groups`` whose kind is in ``kinds``, in state-dict order,
    except those whose name matches (``re.search``) one of the ``exclude`` patterns — e.g.
    ``r"\.downsample\."`` keeps ResNet's 1x1 projection shortcuts dense, as the paper's ImageNet
    tickets do (docs/studies/model-configs.md)."""
    check_choices("group", groups, GROUPS)
    check_choices("kind", kinds, KINDS)
    patterns = compile_patterns(exclude)
    return {name: t for name, t in state_dict.items() if group_of(name) in groups and kind_of(name, t) in kinds
            and not any(p.search(name) for p in patterns)}


def network_params(state_dict: Mapping[str, Tensor]) -> dict[str, Tensor]:
    """All parameters of the detector: floating tensors except BatchNorm running statistics."""
    return {name: t for name, t in state_dict.items() if t.is_floating_point() and not name.endswith(BUFFER_SUFFIXES)}


def compile_patterns(patterns: Sequence[str]) -> list[re.Pattern]:
    """``exclude`` patterns compiled; ValueError on a bare string or an invalid expression."""
    if isinstance(patterns, str):
        raise ValueError(f"exclude must be a list of patterns, got the string {patterns!r}: pass [{patterns!r}]")
    compiled = []
    for pattern in patterns:
        try:
            compiled.append(re.compile(pattern))
        except re.error as err:
            raise ValueError(f"exclude pattern {pattern!r} is not a regular expression ({err}): fix it, e.g. "
                             r"'\.downsample\.'") from err
    return compiled


def check_choices(what: str, given: Sequence[str], valid: Sequence[str]) -> None:
    """ValueError unless ``given`` is a list of names from ``valid``."""
    if isinstance(given, str):  # `in "rpn"` would test substrings
        raise ValueError(f"{what}s must be a list of names, got the string {given!r}: pass [{given!r}]")
    unknown = [g for g in given if g not in valid]
    if unknown:
        raise ValueError(f"unknown {what}(s) {', '.join(map(repr, unknown))}: valid {what}s are {', '.join(valid)}")
