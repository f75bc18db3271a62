"""Task transfer (Table 5): a ticket's mask (and with ``values`` its values) moves between Mask R-CNN
and Keypoint R-CNN up to the box head; everything else is the target's; incompatible models are
rejected."""
from __future__ import annotations

import pytest
import torch

from conftest import REPO
from lthsteps.masks import group_of, load_masks, magnitude_masks, prunable_weights, zeros_violations
from lthsteps.mm import build_model, load_config
from lthsteps.task_transfer import main, task_transfer

ALL_GROUPS = ["backbone_base", "backbone_top", "neck", "rpn", "box_head", "mask_head", "keypoint_head"]


def _state(config, seed):
    torch.manual_seed(seed)
    return build_model(load_config(REPO / "config/models" / config)).state_dict()


@pytest.fixture(scope="module")
def models():
    mask, keypoint = _state("mask-rcnn_r18-fpn_tiny.py", 0), _state("keypoint-rcnn_r18-fpn_tiny.py", 1)
    return mask, keypoint


@pytest.mark.parametrize("values", [False, True], ids=["mask onto the target's weights", "values and mask"])
@pytest.mark.parametrize("direction", ["det/seg -> keypoints", "keypoints -> det/seg"])
def test_the_mask_moves_up_to_the_box_head(models, direction, values):
    source, target = models if direction.startswith("det") else models[::-1]
    source_masks = magnitude_masks(prunable_weights(source, ALL_GROUPS), 0.8)
    weights, masks, report = task_transfer(source if values else None, source_masks, target, values=values)
    assert report["values"] is values
    assert set(weights) == set(target) and all(weights[n].shape == target[n].shape for n in target)
    assert {group_of(n) for n in masks} <= {"backbone_base", "backbone_top", "neck", "rpn", "box_head"}
    assert not any(".fc_cls." in n or ".fc_reg." in n for n in masks)
    assert sorted(report["kept_target"]) == sorted(n for n in target if ".fc_cls." in n or ".fc_reg." in n)
    head = "roi_head.mask_head." if direction.startswith("det") else "roi_head.keypoint_head."
    assert report["source_mask_dropped"] and all(n.startswith((head, "roi_head.bbox_head.fc_")) for n in
                                                  report["source_mask_dropped"])
    assert zeros_violations(weights, masks) == {}
    for name, tensor in weights.items():
        moved = name in masks or (group_of(name) in report["transferred_groups"] and name not in report["kept_target"])
        expected = source[name] if values and moved else target[name]
        keep = masks.get(name, torch.ones_like(tensor, dtype=torch.bool))
        assert torch.equal(tensor[keep], expected[keep]), name
    assert report["network"]["pruned"] == sum(int((~m).sum()) for m in masks.values())
    assert 0 < report["network"]["sparsity"] < 0.8  # the target's own head stays dense


def test_incompatible_models_are_rejected_naming_the_parameters(models):
    faster = _state("faster-rcnn_r18-c4_tiny.py", 0)
    with pytest.raises(ValueError, match="the models differ.*in the (source|target) only.*transfer between detectors"):
        task_transfer(faster, {}, models[0], values=True)
    faster_masks = magnitude_masks(prunable_weights(faster, ["backbone_top"]), 0.8)  # C4: layer4 in the RoI head
    with pytest.raises(ValueError, match=r"roi_head\.shared_head\..* is in the source only"):
        task_transfer(None, faster_masks, models[0])
    with pytest.raises(ValueError, match="unknown module group"):
        task_transfer(models[0], {}, models[1], ["backbone"])
    with pytest.raises(ValueError, match="give --source-weights"):
        task_transfer(None, {}, models[1], values=True)


def test_cli_writes_weights_mask_and_report_or_nothing(models, tmp_path, capsys):
    from lthsteps.checkpoints import save_state_dict
    from lthsteps.masks import save_masks

    source, target = models
    save_state_dict(tmp_path / "source.pth", source)
    save_state_dict(tmp_path / "target.pth", target)
    save_masks(tmp_path / "source.npz", magnitude_masks(prunable_weights(source, ALL_GROUPS), 0.8), {"sparsity": 0.8})
    out = ["--out-weights", str(tmp_path / "out/init.pth"), "--out-mask", str(tmp_path / "out/mask.npz"),
           "--report", str(tmp_path / "out/transfer.json")]
    assert main(["--values", "--source-weights", str(tmp_path / "source.pth"), "--source-mask",
                 str(tmp_path / "source.npz"), "--target-weights", str(tmp_path / "target.pth"), *out]) == 0
    masks, meta = load_masks(tmp_path / "out/mask.npz")
    assert meta["transferred_from"].endswith("source.npz") and meta["sparsity"] == 0.8
    save_state_dict(tmp_path / "faster.pth", _state("faster-rcnn_r18-c4_tiny.py", 0))
    capsys.readouterr()
    assert main(["--values", "--source-weights", str(tmp_path / "faster.pth"), "--source-mask", str(tmp_path / "source.npz"),
                 "--target-weights", str(tmp_path / "target.pth"), *[o.replace("out/", "bad/") for o in out]]) == 2
    assert "the models differ" in capsys.readouterr().err and not (tmp_path / "bad").exists()
