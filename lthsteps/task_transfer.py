"""Ticket transfer between detectors (the paper's Appendix B, Table 5): a ticket found on one task
(e.g. Mask R-CNN, det/seg) moved to another (Keypoint R-CNN) and the reverse.

The source's mask of every parameter of the transferred module groups goes onto the target's own
weights, which keep their values where the mask keeps them: its rewind point, or its initial weights,
what the official release does (``task_transfer`` applies the source's mask to the target's own
initial weights; the workflow's ``task_transfers.<name>.start``).
With ``values`` (``--values``) the source's values move too, the source's ticket itself — what the
paper's text says ("we transfer all values till box head modules, after which the model structures
differ"). Either way the target keeps its own weights, dense, everywhere else (its task's head).
Every parameter of those groups must exist in both
models with the same shape, except the class-specific box outputs (``fc_cls``, ``fc_reg``), whose
shape follows the number of classes: those stay the target's and are listed in the report. Any
other difference means the models are incompatible (e.g. another backbone) and is an error.

    python -m lthsteps.task_transfer --source-mask mask.npz [--values --source-weights rewind.pth] \
        --target-weights target_rewind.pth --groups backbone_base,backbone_top,neck,rpn,box_head \
        --out-weights init.pth --out-mask mask.npz --report transfer.json
"""
from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from torch import Tensor

from lthsteps.checkpoints import load_state_dict, save_state_dict
from lthsteps.files import atomic_write
from lthsteps.masks import GROUPS, group_of, load_masks, save_masks, sparsity_report

DEFAULT_GROUPS = ("backbone_base", "backbone_top", "neck", "rpn", "box_head")
# Box-head outputs sized by the number of classes: the one expected difference between tasks.
CLASS_SPECIFIC = ("roi_head.bbox_head.fc_cls.", "roi_head.bbox_head.fc_reg.")


def task_transfer(source: Mapping[str, Tensor] | None, source_masks: Mapping[str, Tensor],
                  target: Mapping[str, Tensor], groups: Sequence[str] = DEFAULT_GROUPS,
                  values: bool = False) -> tuple[dict[str, Tensor], dict[str, Tensor], dict]:
    """Target weights under the source's mask in ``groups`` (with the source's values there if
    ``values``), that mask, and a report. ``source`` (the source's weights) is needed for ``values``;
    without it the names and shapes are checked against the mask.

    Raises ValueError naming every incompatible parameter before anything is built.
    """
    if values and source is None:
        raise ValueError("transferring values needs the source's weights: give --source-weights")
    unknown = [g for g in groups if g not in GROUPS]
    if unknown:
        raise ValueError(f"unknown module group(s) {unknown}: valid groups are {', '.join(GROUPS)}")
    # Values need every parameter of the groups on both sides; a mask only needs its own tensors there.
    moving = source if values else source_masks
    in_groups = [n for n in moving if group_of(n) in groups]
    target_in_groups = [n for n in target if group_of(n) in groups] if values else []
    kept_target = sorted(n for n in target if group_of(n) in groups and n.startswith(CLASS_SPECIFIC))
    problems = []
    for name in sorted(set(in_groups) | set(target_in_groups)):
        if name.startswith(CLASS_SPECIFIC):
            continue
        if name not in target:
            problems.append(f"{name} is in the source only")
        elif name not in moving:
            problems.append(f"{name} is in the target only")
        elif moving[name].shape != target[name].shape:
            problems.append(f"{name}: source {list(moving[name].shape)} vs target {list(target[name].shape)}")
    if problems:
        shown = "; ".join(problems[:5]) + (f" and {len(problems) - 5} more" if len(problems) > 5 else "")
        raise ValueError(f"the models differ in the transferred groups {list(groups)} ({shown}): transfer between "
                         "detectors with the same backbone and neck, or transfer fewer groups")
    moved = [n for n in in_groups if n not in kept_target]
    weights = {name: (source[name] if values and name in moved else tensor).clone() for name, tensor in target.items()}
    masks = {name: mask for name, mask in source_masks.items() if name in moved}
    dropped = sorted(set(source_masks) - set(masks))
    for name, mask in masks.items():
        weights[name] = weights[name].masked_fill(~mask, 0)
    report = {"transferred_groups": list(groups), "values": values, "transferred": len(moved),
              "kept_target": kept_target,
              "source_mask_dropped": dropped, **sparsity_report(weights, masks)}
    return weights, masks, report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lthsteps.task_transfer", description=__doc__.split("\n\n")[0])
    parser.add_argument("--values", action="store_true",
                        help="transfer the source's values too, not only its mask (the paper's text; the official "
                             "code transfers the mask onto the target's own weights)")
    parser.add_argument("--source-weights", help="the ticket's values (source rewind weights), with --values")
    parser.add_argument("--source-mask", required=True, help="the ticket's mask file")
    parser.add_argument("--target-weights", required=True, help="the target detector's weights (its rewind point or initial weights)")
    parser.add_argument("--groups", default=",".join(DEFAULT_GROUPS), help="comma-separated module groups to transfer")
    parser.add_argument("--out-weights", required=True)
    parser.add_argument("--out-mask", required=True)
    parser.add_argument("--report", required=True, help="JSON: what moved, what stayed the target's, sparsity")
    args = parser.parse_args(argv)
    try:
        source_masks, meta = load_masks(args.source_mask)
        source = load_state_dict(args.source_weights) if args.source_weights else None
        weights, masks, report = task_transfer(source, source_masks, load_state_dict(args.target_weights),
                                               args.groups.split(","), values=args.values)
    except (ValueError, FileNotFoundError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    report |= {"source_weights": args.source_weights, "source_mask": args.source_mask,
               "target_weights": args.target_weights}
    save_state_dict(args.out_weights, weights)
    meta |= {"transferred_from": args.source_mask, "groups": report["transferred_groups"]}
    save_masks(args.out_mask, masks, meta)
    atomic_write(args.report, lambda tmp: Path(tmp).write_text(json.dumps(report, indent=2)))
    print(json.dumps({k: report[k] for k in ("transferred", "kept_target")} | {"network": report["network"]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
