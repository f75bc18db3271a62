"""The paper's structural numbers from the paper-scale model configs: every network-sparsity cell of
Tables 1, 2, 4 and 5, Table 3's module shares, Fig 2a's network sparsity — computed from parameter
counts (no training, no data), beside the paper's value (read from ``lthsteps.published``).

    python -m lthsteps.fidelity          # the table in Markdown (docs/studies/paper-fidelity.md)

A cell selects weights as the paper's code does (``Selection``: module groups, kinds and exclusions
of ``lthsteps.masks``) in one of ``config/models/*_coco.py`` / ``*_voc.py``, prunes a fraction of
them (one global ranking prunes exactly that fraction of the selection, whatever the weights), and
divides by every parameter of the network (``network_params``). ``tests/test_paper_fidelity.py``
checks each cell within 0.1 point.
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from lthsteps.published import published, value

MODELS = Path(__file__).resolve().parents[1] / "config/models"


@dataclass(frozen=True)
class Selection:
    groups: tuple[str, ...]
    kinds: tuple[str, ...]
    exclude: tuple[str, ...] = ()


# ImageNet tickets and masks: the backbone's convs, 1x1 shortcuts dense (prune_imagenet prunes `conv`).
IMAGENET = Selection(("backbone_base", "backbone_top"), ("conv",), (r"\.downsample\.",))
# COCO direct pruning: weights named conv / fpn / fcn / fc1 / fc2 in Detectron2 (prune_coco).
COCO = Selection(("backbone_base", "backbone_top", "neck", "rpn", "box_head", "mask_head", "keypoint_head"),
                 ("conv", "linear"), (r"\.downsample\.", r"^rpn_head\.rpn_(cls|reg)\.",
                                      r"^roi_head\.bbox_head\.fc_(cls|reg)\.", r"^roi_head\.mask_head\.conv_logits\.",
                                      r"^roi_head\.keypoint_head\.deconv\."))
# VOC modules (prune_voc's --ml bits). Base / Top: the backbone's convs without the stem conv and the
# shortcuts. RPN: its 3x3 conv and predictors. Box, Cls head: the box predictors and (the name test
# of the official code matches them too) the RPN's predictors.
VOC_BASE = Selection(("backbone_base",), ("conv",), (r"^backbone\.conv1\.", r"\.downsample\."))
VOC_TOP = Selection(("backbone_top",), ("conv",), (r"\.downsample\.",))
VOC_RPN = Selection(("rpn",), ("conv",))
VOC_BOX_CLS = Selection(("box_head", "rpn"), ("conv", "linear"), (r"^rpn_head\.rpn_conv\.",))


# Table 4's 50% COCO cells are not 5/9 of its 90% ones (as every other row is): the official mask
# transfer takes its threshold over the whole classifier (fc and shortcuts included) and applies it
# to the backbone, so the fraction of the backbone pruned depends on the ImageNet weights.
MASK_TRANSFER_50 = ("depends on the ImageNet weights: the official mask transfer thresholds over the whole "
                    "classifier and prunes the backbone")


@dataclass(frozen=True)
class Cell:
    item: str  # where the paper states it: table/figure, row, column
    paper: float  # percent
    config: str
    selections: tuple[Selection, ...]  # summed, as the paper sums module shares
    fraction: float  # of the selection pruned (1.0: the share itself)
    note: str = ""  # why the cell cannot follow from parameter counts, if it cannot


def cells() -> list[Cell]:
    """Every cell, its paper value read from the published numbers (``lthsteps/published.csv``)."""
    out = []
    for table, depth in (("Table 1", 18), ("Table 2", 50), ("Table 4", 50)):
        item = "table" + table[-1]
        prunes = sorted({r.prune_percent for r in published(item=item, quantity="network_sparsity")
                         if r.method != "dense"}, reverse=True)
        for prune in map(int, prunes):
            f = prune / 100
            note = MASK_TRANSFER_50 if (table, prune) == ("Table 4", 50) else ""
            det_seg, keypoints, voc = (value(item=item, model=model, prune_percent=prune, quantity="network_sparsity")
                                       for model in (f"mask_rcnn_r{depth}_fpn", f"keypoint_rcnn_r{depth}_fpn",
                                                     f"faster_rcnn_r{depth}_c4"))
            out += [Cell(f"{table}, {prune}%, COCO detection / segmentation", det_seg,
                           f"mask-rcnn_r{depth}-fpn_coco.py", (IMAGENET,), f, note),
                      Cell(f"{table}, {prune}%, COCO keypoint", keypoints, f"keypoint-rcnn_r{depth}-fpn_coco.py",
                           (IMAGENET,), f, note),
                      Cell(f"{table}, {prune}%, VOC detection", voc, f"faster-rcnn_r{depth}-c4_voc.py", (IMAGENET,), f)]
    out += [Cell("Table 5, Det/Seg ticket (80%)",
                 value(item="table5", model="mask_rcnn_r18_fpn", row="own", quantity="network_sparsity"),
                 "mask-rcnn_r18-fpn_coco.py", (COCO,), 0.8),
              Cell("Table 5, Keypoint ticket (80%)",
                   value(item="table5", model="keypoint_rcnn_r18_fpn", row="own", quantity="network_sparsity"),
                   "keypoint-rcnn_r18-fpn_coco.py", (COCO,), 0.8)]
    voc = "faster-rcnn_r18-c4_voc.py"
    # Fig 2a prints no numbers; its 80% and 90% of Base + Top are the selection of Table 1's VOC column
    # (the backbone's convs without stem and shortcuts), whose network sparsity Table 1 prints.
    out += [Cell(f"Fig 2a, {p}% of Base + Top", value(item="table1", model="faster_rcnn_r18_c4", prune_percent=p,
                                                         quantity="network_sparsity"),
                 voc, (VOC_BASE, VOC_TOP), p / 100) for p in (80, 90)]
    modules = {"Base": VOC_BASE, "Top": VOC_TOP, "RPN": VOC_RPN, "Box, Cls Head": VOC_BOX_CLS}
    for row in published(item="table3", method="module_pruning", quantity="param_percent"):
        names = row.row.split(" + ")
        selections = tuple(modules[n] for n in names)
        sparsity = value(item="table3", row=row.row, quantity="network_sparsity")
        out += [Cell(f"Table 3, {row.row}, Param %", row.value, voc, selections, 1.0),
                  Cell(f"Table 3, {row.row}, network sparsity", sparsity, voc, selections, row.prune_percent / 100)]
    return out


@cache
def _state(config: str):
    from lthsteps.mm import build_model, load_config

    return build_model(load_config(MODELS / config)).state_dict()


def ours(cell: Cell) -> float:
    """The cell computed from the model config: percent of the network."""
    from lthsteps.masks import network_params, prunable_weights

    state = _state(cell.config)
    total = sum(t.numel() for t in network_params(state).values())
    selected = sum(t.numel() for s in cell.selections
                   for t in prunable_weights(state, list(s.groups), list(s.kinds), list(s.exclude)).values())
    return 100 * cell.fraction * selected / total


def table() -> list[tuple[Cell, float]]:
    return [(cell, ours(cell)) for cell in cells()]


def main(argv: list[str] | None = None) -> int:
    argparse.ArgumentParser(prog="python -m lthsteps.fidelity", description=__doc__.split("\n\n")[0]).parse_args(argv)
    print("| paper item | model config | paper | ours | difference | note |\n|---|---|---:|---:|---:|---|")
    for cell, computed in table():
        print(f"| {cell.item} | `{cell.config}` | {cell.paper:.2f} | {computed:.2f} | {computed - cell.paper:+.2f} "
              f"| {cell.note} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
