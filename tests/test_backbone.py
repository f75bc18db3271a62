"""Classifier → detector backbone mapping: every tensor is counted, nothing is silently skipped."""
from __future__ import annotations

import json

import pytest
import torch
from torchvision.models import resnet18

from conftest import REPO
from lthsteps.backbone import BackboneMismatch, detector_backbone_keys, map_backbone
from lthsteps.classifier import build_classifier
from lthsteps.masks import BUFFER_SUFFIXES as BUFFERS
from lthsteps.mm import build_model, load_config


def _detector(config: str) -> dict[str, torch.Tensor]:
    return build_model(load_config(REPO / "config/models" / config)).state_dict()


@pytest.mark.parametrize(("config", "arch", "width"), [
    ("mask-rcnn_r18-fpn_tiny.py", "resnet18", 16),
    ("mask-rcnn_r50-fpn_tiny.py", "resnet50", 16),
    ("keypoint-rcnn_r18-fpn_tiny.py", "resnet18", 16),
    ("faster-rcnn_r18-c4_tiny.py", "resnet18", 16),
    ("mask-rcnn_r18-fpn_coco.py", "resnet18", 64),
])
def test_every_backbone_tensor_is_covered_exactly_once(config, arch, width):
    detector = _detector(config)
    classifier = build_classifier(arch, width, num_classes=10).state_dict()
    mapped = map_backbone(classifier, detector)
    backbone = detector_backbone_keys(detector)
    assert sorted(mapped.state) == sorted(backbone)
    assert mapped.dropped == ("fc.weight", "fc.bias")
    assert mapped.counts["mapped_tensors"] == len(classifier) - 2 == len(backbone)
    for key, value in classifier.items():
        if not key.startswith("fc."):
            target = next(k for k in mapped.state if k.endswith("." + key))
            assert torch.equal(mapped.state[target], value)


def test_c4_models_take_layer4_into_the_shared_roi_head():
    mapped = map_backbone(build_classifier("resnet18", 16, 10).state_dict(), _detector("faster-rcnn_r18-c4_tiny.py"))
    assert "roi_head.shared_head.layer4.0.conv1.weight" in mapped.state
    assert not any(k.startswith("backbone.layer4") for k in mapped.state)


def test_torchvision_resnet18_is_the_width_64_classifier():
    ours, theirs = build_classifier("resnet18", 64, 1000).state_dict(), resnet18().state_dict()
    assert {k: v.shape for k, v in ours.items()} == {k: v.shape for k, v in theirs.items()}


def test_narrow_classifier_keeps_torchvision_names():
    narrow, full = build_classifier("resnet50", 16, 10).state_dict(), build_classifier("resnet50", 64, 10).state_dict()
    assert list(narrow) == list(full)
    assert narrow["layer4.2.conv3.weight"].shape == (512, 128, 1, 1)


@pytest.mark.parametrize(("arch", "width", "message"), [
    ("resnet18", 32, "differ in shape"),
    ("resnet50", 16, "have no place"),
])
def test_mismatched_classifier_is_rejected_with_the_reason(arch, width, message):
    with pytest.raises(BackboneMismatch, match=message):
        map_backbone(build_classifier(arch, width, 10).state_dict(), _detector("mask-rcnn_r18-fpn_tiny.py"))


def test_ticket_mask_moves_to_detector_names_and_counts_network_sparsity(tmp_path):
    from lthsteps.backbone import main
    from lthsteps.masks import load_masks, magnitude_masks, prunable_weights, save_masks

    classifier = build_classifier("resnet18", 16, 10).state_dict()
    masks = magnitude_masks(prunable_weights(classifier, ["backbone_base", "backbone_top"], ["conv"],
                                             exclude=[r"\.downsample\."]), 0.9)
    save_masks(tmp_path / "ticket.npz", masks, {"sparsity": 0.9})
    config = str(REPO / "config/models/mask-rcnn_r18-fpn_tiny.py")
    assert main(["mask", "--mask", str(tmp_path / "ticket.npz"), "--config", config,
                 "--out", str(tmp_path / "detector.npz"), "--report", str(tmp_path / "report.json")]) == 0
    mapped, meta = load_masks(tmp_path / "detector.npz")
    assert sorted(mapped) == sorted("backbone." + k for k in masks) and meta["sparsity"] == 0.9
    assert all(torch.equal(mapped["backbone." + k], m) for k, m in masks.items())
    report = json.loads((tmp_path / "report.json").read_text())
    detector = _detector("mask-rcnn_r18-fpn_tiny.py")
    pruned = sum(int((~m).sum()) for m in masks.values())
    assert report["network"]["pruned"] == pruned
    assert report["network"]["sparsity"] == pytest.approx(pruned / sum(v.numel() for k, v in detector.items()
                                                                        if not k.endswith(BUFFERS)))


def test_ticket_mask_of_another_width_is_rejected():
    from lthsteps.backbone import map_masks

    masks = {"layer1.0.conv1.weight": torch.ones(32, 32, 3, 3, dtype=torch.bool)}
    with pytest.raises(BackboneMismatch, match="no place or another shape"):
        map_masks(masks, _detector("mask-rcnn_r18-fpn_tiny.py"))
