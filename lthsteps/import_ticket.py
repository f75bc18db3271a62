"""Import an existing ticket (weights + mask, e.g. an ImageNet ticket found elsewhere) into the
workflow's ticket format, so that the DAG skips the training it replaces.

    python -m lthsteps.import_ticket --weights ticket.pth [--mask ticket_mask.npz] \
        --out-weights weights.pth --out-mask mask.npz --report mask.json

``--mask`` is a mask file of this workflow (``lthsteps.masks``); without it the mask is read off the
weights: every conv weight of the backbone groups that is exactly zero is pruned (how most lottery
ticket code stores a ticket). Either way the weights must be zero wherever the mask is zero, and the
mask written is exactly the one given (or read off).
"""
from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from pathlib import Path

from torch import Tensor

from lthsteps.checkpoints import load_state_dict, save_state_dict
from lthsteps.masks import check_masks_fit, load_masks, prunable_weights, save_masks_and_report, zeros_violations


def masks_from_zeros(weights: Mapping[str, Tensor]) -> dict[str, Tensor]:
    """A mask per backbone conv weight: kept where the weight is not exactly zero."""
    return {name: w != 0 for name, w in prunable_weights(weights, ["backbone_base", "backbone_top"], ["conv"]).items()}


def import_ticket(weights: Mapping[str, Tensor], masks: Mapping[str, Tensor] | None) -> dict[str, Tensor]:
    """The ticket's mask (given, or read off the weights); raises ValueError if the weights break it."""
    masks = dict(masks) if masks is not None else masks_from_zeros(weights)
    if not masks:
        raise ValueError("the ticket has no backbone conv weights to read a mask off: is it a ResNet state dict?")
    check_masks_fit(masks, weights)
    bad = zeros_violations(weights, masks)
    if bad:
        raise ValueError(f"the ticket's weights are not zero where its mask is zero ({bad}): "
                         "give the mask these weights were trained under")
    return masks


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lthsteps.import_ticket", description=__doc__.split("\n\n")[0])
    parser.add_argument("--weights", required=True, help="the ticket's weights (torchvision ResNet state dict)")
    parser.add_argument("--mask", help="its mask file (lthsteps.masks); default: read off the weights' zeros")
    parser.add_argument("--out-weights", required=True, type=Path)
    parser.add_argument("--out-mask", required=True, type=Path)
    parser.add_argument("--report", required=True, type=Path, help="JSON: sparsity report of the ticket")
    args = parser.parse_args(argv)
    try:
        weights = load_state_dict(args.weights)
        given, meta = load_masks(args.mask) if args.mask else (None, {})
        masks = import_ticket(weights, given)
    except (ValueError, FileNotFoundError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    save_state_dict(args.out_weights, weights)
    report = save_masks_and_report(args.out_mask, args.report, masks,
                                   meta | {"imported_from": {"weights": args.weights, "mask": args.mask}}, weights)
    print(json.dumps(report["network"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
