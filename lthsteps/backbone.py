"""Classifier (torchvision ResNet) weights → the backbone of an MMDetection detector.

    python -m lthsteps.backbone check CLASSIFIER_WEIGHTS MMDET_CONFIG     # check the fit, print the counts
    python -m lthsteps.backbone mask --mask TICKET_MASK --config MMDET_CONFIG --out MASK --report JSON

MMDetection's ResNet names its modules as torchvision does (``conv1``, ``bn1``, ``layerN.B.convK``,
``layerN.B.downsample.{0,1}``), so a classifier key maps to the detector key that ends with it under
one of the backbone prefixes: ``backbone.`` for FPN models; for C4 models, ``layer4`` lives in the
shared RoI head (``roi_head.shared_head.``). The classifier's ``fc`` has no counterpart and is dropped.
Every mapping is counted and checked in both directions: a classifier tensor that finds no place or a
detector backbone tensor that is not covered is an error, never a silent ``strict=False`` miss.
"""
from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from dataclasses import dataclass

from torch import Tensor

BACKBONE_PREFIXES = ("backbone.", "roi_head.shared_head.")
CLASSIFIER_ONLY = ("fc.",)


class BackboneMismatch(ValueError):
    """Classifier weights that do not fit a detector's backbone."""


@dataclass(frozen=True)
class BackboneWeights:
    """Result of :func:`map_backbone`: detector-keyed tensors and the counts behind them."""

    state: dict[str, Tensor]
    dropped: tuple[str, ...]  # classifier-only keys (the fc layer)

    @property
    def counts(self) -> dict[str, int]:
        return {"mapped_tensors": len(self.state), "mapped_values": sum(v.numel() for v in self.state.values()),
                "dropped_tensors": len(self.dropped)}


def detector_backbone_keys(detector: Mapping[str, Tensor]) -> list[str]:
    """The detector's tensors that a classifier provides (under :data:`BACKBONE_PREFIXES`)."""
    return [k for k in detector if k.startswith(BACKBONE_PREFIXES)]


def detector_key(classifier_key: str, detector: Mapping[str, Tensor]) -> str | None:
    """Where ``classifier_key`` lives in the detector, or None."""
    hits = [p + classifier_key for p in BACKBONE_PREFIXES if p + classifier_key in detector]
    if len(hits) > 1:
        raise BackboneMismatch(f"{classifier_key} is ambiguous in the detector: {hits}")
    return hits[0] if hits else None


def map_backbone(classifier: Mapping[str, Tensor], detector: Mapping[str, Tensor]) -> BackboneWeights:
    """Detector-keyed copy of the classifier's backbone tensors; raises :class:`BackboneMismatch`
    unless every classifier tensor but ``fc`` and every detector backbone tensor is matched, shapes equal."""
    state, dropped, unplaced, shapes = {}, [], [], []
    for key, value in classifier.items():
        if key.startswith(CLASSIFIER_ONLY):
            dropped.append(key)
            continue
        target = detector_key(key, detector)
        if target is None:
            unplaced.append(key)
        elif detector[target].shape != value.shape:
            shapes.append(f"{key} {tuple(value.shape)} vs {target} {tuple(detector[target].shape)}")
        else:
            state[target] = value.detach().clone()
    uncovered = [k for k in detector_backbone_keys(detector) if k not in state]
    if unplaced or shapes or uncovered:
        raise BackboneMismatch(
            "classifier weights do not fit this detector's backbone: "
            f"{len(unplaced)} classifier tensors have no place ({unplaced[:3]}), "
            f"{len(shapes)} differ in shape ({shapes[:3]}), "
            f"{len(uncovered)} backbone tensors are not covered ({uncovered[:3]}) — use a classifier of the "
            "detector's depth and width (e.g. --arch resnet18 --width 16 for the embedded R18 models)")
    return BackboneWeights(state, tuple(dropped))


def map_masks(masks: Mapping[str, Tensor], detector: Mapping[str, Tensor]) -> dict[str, Tensor]:
    """A classifier ticket's mask under the detector's names (mask transfer into the detector);
    raises :class:`BackboneMismatch` for a masked tensor with no place or another shape."""
    mapped, problems = {}, []
    for key, mask in masks.items():
        target = None if key.startswith(CLASSIFIER_ONLY) else detector_key(key, detector)
        if target is None or detector[target].shape != mask.shape:
            problems.append(key)
        else:
            mapped[target] = mask.clone()
    if problems:
        raise BackboneMismatch(f"the mask does not fit this detector's backbone: {len(problems)} masked tensors have "
                               f"no place or another shape ({problems[:3]}) — use a ticket of the detector's "
                               "depth and width, and prune only backbone convs (groups backbone_base/backbone_top)")
    return mapped


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lthsteps.backbone",
                                     description="Classifier weights and ticket masks → a detector's backbone.")
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("check", help="check that classifier weights fit a detector, print the counts")
    check.add_argument("weights", help="classifier weights (torchvision ResNet state dict)")
    check.add_argument("config", help="MMDetection config of the detector")
    mask = sub.add_parser("mask", help="write a classifier ticket's mask under the detector's names")
    mask.add_argument("--mask", required=True, help="mask file of the classifier ticket (lthsteps.masks)")
    mask.add_argument("--config", required=True, help="MMDetection config of the detector")
    mask.add_argument("--out", required=True, help="detector mask file to write")
    mask.add_argument("--report", required=True, help="JSON: sparsity report of the detector under the mask")
    args = parser.parse_args(argv)
    from lthsteps.checkpoints import load_state_dict
    from lthsteps.masks import load_masks, save_masks_and_report
    from lthsteps.mm import build_model, load_config

    try:
        detector = build_model(load_config(args.config)).state_dict()
        if args.command == "check":
            mapped = map_backbone(load_state_dict(args.weights), detector)
            print(json.dumps(mapped.counts | {"dropped": list(mapped.dropped)}))
            return 0
        masks, meta = load_masks(args.mask)
        mapped_masks = map_masks(masks, detector)
    except (BackboneMismatch, FileNotFoundError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    # Network sparsity over the whole detector (the paper's Tables 1, 2 and 4): only the backbone is pruned.
    report = save_masks_and_report(args.out, args.report, mapped_masks, meta | {
        "source_mask": str(args.mask), "detector_config": str(args.config)}, detector)
    print(json.dumps(report["network"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
