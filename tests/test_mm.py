"""Binding MMDetection configs to datasets: tasks of a model, classes, and annotations it needs."""
from __future__ import annotations

import pytest

from conftest import REPO
from lthsteps.mm import bind_dataset, load_config, model_tasks
from lthsteps.train import main

MASK_CONFIG = REPO / "config/models/mask-rcnn_r18-fpn_tiny.py"
FASTER_CONFIG = REPO / "config/models/faster-rcnn_r18-c4_tiny.py"
KEYPOINT_CONFIG = REPO / "config/models/keypoint-rcnn_r18-fpn_tiny.py"


@pytest.mark.parametrize("path", sorted((REPO / "config/models").glob("*.py")), ids=lambda p: p.name)
def test_loaded_config_is_the_file_and_its_printed_text_loads_back(path):
    from mmengine.config import Config

    stock, ours = Config.fromfile(str(path)).to_dict(), load_config(path)
    added = {"custom_imports": ours.custom_imports, "default_scope": ours.default_scope}
    assert ours.to_dict() == stock | added
    # The text the Runner logs and dumps (unformatted) is the same config.
    assert Config.fromstring(ours.pretty_text, ".py").to_dict() == ours.to_dict()


def test_model_tasks_follow_the_heads():
    assert model_tasks(load_config(FASTER_CONFIG)) == ("bbox",)
    assert model_tasks(load_config(MASK_CONFIG)) == ("bbox", "segm")


def test_mask_model_on_boxes_only_data_is_rejected_with_the_fix(voc_descriptor):
    with pytest.raises(ValueError, match="has a segm head but dataset 'tiny_voc' has no instance masks"):
        bind_dataset(load_config(MASK_CONFIG), voc_descriptor)


def test_train_cli_rejects_it_before_training_and_writes_nothing(voc_descriptor, tmp_path, capsys):
    code = main(["--config", str(MASK_CONFIG), "--dataset", voc_descriptor["path"], "--work-dir",
                 str(tmp_path / "work"), "--out", str(tmp_path / "weights.pth")])
    assert code == 2 and "no instance masks" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_classes_and_num_classes_come_from_the_dataset(voc_descriptor):
    cfg = bind_dataset(load_config(MASK_CONFIG), voc_descriptor | {"has_masks": True})
    assert cfg.train_dataloader.dataset.metainfo["classes"] == tuple(voc_descriptor["classes"])
    assert cfg.model.roi_head.bbox_head.num_classes == len(voc_descriptor["classes"])
    assert cfg.model.roi_head.mask_head.num_classes == len(voc_descriptor["classes"])
    assert voc_descriptor["keypoint_classes"] == []  # VOC XML carries no keypoints


def test_keypoint_head_must_match_the_datasets_keypoints(synthetic_root, tmp_path):
    from lthsteps.datasets import prepare

    splits = {s: {"ann_file": f"annotations/instances_{s}.json", "img_dir": s} for s in ("train", "val")}
    desc = prepare("synthetic_coco", "coco", synthetic_root / "coco", tmp_path, splits)
    assert desc["num_keypoints"] == 17 and desc["keypoint_classes"] == ["person"]
    cfg = bind_dataset(load_config(KEYPOINT_CONFIG), desc)
    assert cfg.model.roi_head.bbox_head.num_classes == 1
    with pytest.raises(ValueError, match="predicts 17 keypoints but dataset 'synthetic_coco' annotates 14"):
        bind_dataset(load_config(KEYPOINT_CONFIG), desc | {"num_keypoints": 14})
