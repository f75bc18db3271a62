"""Keypoint R-CNN on MMDetection: keypoint head, heatmap targets and decoding, the keypoint data
pipeline (flip, resize, packing) and a few iterations of the tiny keypoint config."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from conftest import REPO

pytest.importorskip("mmdet")

from lthsteps.keypoint_data import (LoadKeypointAnnotations, PackKeypointDetInputs,  # noqa: E402
                                    ResizeFlipKeypoints, keypoint_flip_indices)
from lthsteps.keypoint_head import KeypointRCNNHead, heatmaps_to_keypoints, keypoints_to_heatmap  # noqa: E402

KEYPOINT_CONFIG = REPO / "config/models/keypoint-rcnn_r18-fpn_tiny.py"
NAMES = ("nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder", "right_shoulder",
         "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip", "right_hip", "left_knee",
         "right_knee", "left_ankle", "right_ankle")
FLIP = keypoint_flip_indices(NAMES)


@pytest.fixture(autouse=True)
def one_thread():
    # As the workflow's steps run (--threads 1): two threads on a busy 2-core machine run 10-20x slower.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_flip_indices_pair_left_and_right():
    assert FLIP[NAMES.index("nose")] == NAMES.index("nose")
    assert FLIP[NAMES.index("left_wrist")] == NAMES.index("right_wrist")
    assert FLIP[NAMES.index("right_ankle")] == NAMES.index("left_ankle")
    assert sorted(FLIP) == list(range(len(NAMES)))


def test_head_maps_14x14_rois_to_56x56_heatmaps_and_trains():
    torch.manual_seed(0)
    head = KeypointRCNNHead(num_keypoints=17, in_channels=8, num_convs=2, conv_out_channels=16)
    heatmaps = head(torch.randn(3, 8, 14, 14))
    assert heatmaps.shape == (3, 17, 56, 56)
    boxes = torch.tensor([[10.0, 10.0, 60.0, 90.0], [0.0, 0.0, 30.0, 30.0], [5.0, 20.0, 25.0, 80.0]])
    keypoints = torch.zeros(3, 17, 3)
    keypoints[..., 0] = boxes[:, None, 0] + torch.rand(3, 17) * (boxes[:, None, 2] - boxes[:, None, 0])
    keypoints[..., 1] = boxes[:, None, 1] + torch.rand(3, 17) * (boxes[:, None, 3] - boxes[:, None, 1])
    keypoints[..., 2] = 2
    keypoints[0, :5, 2] = 0  # unlabelled: no target
    loss = head.loss_and_target(heatmaps, boxes, keypoints)["loss_kpt"]
    assert torch.isfinite(loss) and loss > 0
    loss.backward()
    assert head.convs[0].conv.weight.grad.abs().sum() > 0 and head.deconv.weight.grad.abs().sum() > 0
    # No labelled keypoint: a zero loss that still reaches every parameter.
    empty = head.loss_and_target(head(torch.randn(2, 8, 14, 14)), boxes[:2], torch.zeros(2, 17, 3))["loss_kpt"]
    assert empty.item() == 0 and empty.requires_grad


def test_heatmap_targets_decode_within_one_cell():
    gen = torch.Generator().manual_seed(0)
    n, k, size = 40, 17, 56
    xy = torch.rand(n, 2, generator=gen) * 300
    wh = 56 + torch.rand(n, 2, generator=gen) * 250  # at least one image pixel per heatmap cell
    boxes = torch.cat([xy, xy + wh], 1)
    keypoints = torch.ones(n, k, 3)
    keypoints[..., :2] = boxes[:, None, :2] + torch.rand(n, k, 2, generator=gen) * wh[:, None]
    targets, valid = keypoints_to_heatmap(keypoints, boxes, size)
    assert valid.all()
    heatmaps = torch.zeros(n * k, size * size)
    heatmaps[torch.arange(n * k), targets.flatten()] = 10.0
    decoded, scores = heatmaps_to_keypoints(heatmaps.view(n, k, size, size), boxes)
    cell = wh[:, None] / size
    assert ((decoded - keypoints[..., :2]).abs() <= cell).all()
    assert decoded.shape == (n, k, 2) and scores.shape == (n, k) and (scores > 0).all()
    # Outside its box or unlabelled: no target.
    keypoints[0, 0, 0] = boxes[0, 2] + 1
    keypoints[0, 1, 2] = 0
    assert not keypoints_to_heatmap(keypoints, boxes, size)[1][0, :2].any()


def _sample(keypoints, img_shape=(100, 200)):
    return {"gt_keypoints": np.asarray(keypoints, np.float32), "img_shape": img_shape, "flip_indices": FLIP}


def test_horizontal_flip_mirrors_x_and_swaps_left_and_right():
    keypoints = np.zeros((1, 17, 3), np.float32)
    left, right = NAMES.index("left_wrist"), NAMES.index("right_wrist")
    keypoints[0, left] = (30.0, 40.0, 2)
    keypoints[0, right] = (50.0, 45.0, 1)
    keypoints[0, 0] = (70.0, 20.0, 2)  # nose; the other keypoints stay unlabelled
    out = ResizeFlipKeypoints().transform(_sample(keypoints) | {"flip": True, "flip_direction": "horizontal"})
    flipped = out["gt_keypoints"][0]
    assert flipped[right].tolist() == [200 - 30.0, 40.0, 2]  # the old left wrist is the new right one
    assert flipped[left].tolist() == [200 - 50.0, 45.0, 1]
    assert flipped[0].tolist() == [200 - 70.0, 20.0, 2]
    assert (np.delete(flipped, [0, left, right], axis=0) == 0).all()  # unlabelled stay (0, 0, 0)
    with pytest.raises(ValueError, match="horizontal"):
        ResizeFlipKeypoints().transform(_sample(keypoints) | {"flip": True, "flip_direction": "vertical"})


def test_resize_scales_keypoints_and_flip_uses_resized_width():
    keypoints = np.zeros((1, 17, 3), np.float32)
    keypoints[0, 0] = (10.0, 20.0, 2)
    scaled = ResizeFlipKeypoints().transform(_sample(keypoints) | {"scale_factor": (1.5, 2.0), "flip": False})
    assert scaled["gt_keypoints"][0, 0].tolist() == [15.0, 40.0, 2]
    both = ResizeFlipKeypoints().transform(
        _sample(keypoints, img_shape=(200, 300)) | {"scale_factor": (1.5, 2.0), "flip": True,
                                                    "flip_direction": "horizontal"})
    assert both["gt_keypoints"][0, 0].tolist() == [300 - 15.0, 40.0, 2]


def test_packing_puts_keypoints_into_gt_instances_like_boxes():
    instances = [{"bbox": [0, 0, 10, 10], "bbox_label": 0, "ignore_flag": flag,
                  "keypoints": np.full((17, 3), i + 1, np.float32)} for i, flag in enumerate((0, 1, 0))]
    results = LoadKeypointAnnotations().transform({"instances": instances, "flip_indices": FLIP})
    assert results["gt_keypoints"].shape == (3, 17, 3)
    results |= {"img": np.zeros((10, 10, 3), np.uint8), "gt_bboxes_labels": np.zeros(3, np.int64),
                "gt_ignore_flags": np.array([False, True, False])}
    packed = PackKeypointDetInputs().transform(results)["data_samples"]
    assert packed.gt_instances.keypoints.shape == (2, 17, 3)
    assert packed.gt_instances.keypoints[:, 0, 0].tolist() == [1.0, 3.0]
    assert packed.ignored_instances.keypoints[:, 0, 0].tolist() == [2.0]
    empty = LoadKeypointAnnotations().transform({"instances": [], "flip_indices": FLIP})
    assert empty["gt_keypoints"].shape == (0, 17, 3)


@pytest.fixture(scope="module")
def keypoint_descriptor(synthetic_root, tmp_path_factory):
    from lthsteps.datasets import prepare

    splits = {s: {"ann_file": f"annotations/instances_{s}.json", "img_dir": s} for s in ("train", "val")}
    return prepare("tiny_coco", "coco", synthetic_root / "coco", tmp_path_factory.mktemp("kp_prepared"), splits)


def test_dataset_loads_person_keypoints(keypoint_descriptor):
    from mmdet.registry import DATASETS
    from mmdet.utils import register_all_modules

    from lthsteps.mm import bind_dataset, load_config

    register_all_modules(init_default_scope=True)  # what the Runner does: mmdet's transforms by name
    cfg = bind_dataset(load_config(KEYPOINT_CONFIG), keypoint_descriptor)
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    assert dataset.metainfo["classes"] == ("person",)
    assert dataset.metainfo["keypoint_names"] == NAMES and dataset.metainfo["flip_indices"] == FLIP
    assert len(dataset) > 0
    for i in range(len(dataset)):
        info = dataset.get_data_info(i)
        assert sum(inst["num_keypoints"] for inst in info["instances"]) > 0  # filter_cfg min_keypoints
        assert all(inst["keypoints"].shape == (17, 3) for inst in info["instances"])
    sample = dataset[0]["data_samples"]
    assert sample.gt_instances.keypoints.shape == (len(sample.gt_instances), 17, 3)

    # The generated figures face the viewer: a left shoulder is right of the right one, flipped or not.
    left, right = NAMES.index("left_shoulder"), NAMES.index("right_shoulder")
    for prob in (0.0, 1.0):
        next(t for t in cfg.train_dataloader.dataset.pipeline if t["type"] == "RandomFlip")["prob"] = prob
        flipped = DATASETS.build(cfg.train_dataloader.dataset)
        points = torch.cat([flipped[i]["data_samples"].gt_instances.keypoints for i in range(len(flipped))])
        both = (points[:, left, 2] > 0) & (points[:, right, 2] > 0)
        assert both.any() and (points[both, left, 0] > points[both, right, 0]).all()


def test_tiny_keypoint_rcnn_trains_and_predicts_keypoints(keypoint_descriptor, tmp_path):
    from mmengine.runner import Runner

    from lthsteps.mm import load_config
    from lthsteps.train import training_config

    options = {"train_cfg.max_iters": 3, "train_dataloader.batch_size": 2, "default_hooks.logger.interval": 1,
               "default_hooks.checkpoint.interval": 3}
    cfg = training_config(load_config(KEYPOINT_CONFIG, options), keypoint_descriptor, seed=0,
                          work_dir=str(tmp_path / "work"))
    assert cfg.model.roi_head.bbox_head.num_classes == 1  # person only
    runner = Runner.from_cfg(cfg)
    runner.train()
    loss_kpt = runner.message_hub.get_scalar("train/loss_kpt").current()
    assert np.isfinite(loss_kpt) and loss_kpt > 0

    model = runner.model.eval()
    model.roi_head.test_cfg.score_thr = 0.0  # an untrained model: keep every box to check the keypoints
    batch = next(iter(runner.test_dataloader))
    with torch.no_grad():
        results = model.test_step(batch)  # what the test loop runs
    for result in results:
        pred = result.pred_instances
        n = len(pred)
        assert pred.keypoints.shape == (n, 17, 2) and pred.keypoint_scores.shape == (n, 17)
        # Rescaled to the original image like the boxes: each keypoint lies in its box.
        boxes = pred.bboxes
        assert ((pred.keypoints[..., 0] >= boxes[:, None, 0] - 1e-3)
                & (pred.keypoints[..., 0] <= boxes[:, None, 2] + 1e-3)
                & (pred.keypoints[..., 1] >= boxes[:, None, 1] - 1e-3)
                & (pred.keypoints[..., 1] <= boxes[:, None, 3] + 1e-3)).all()
    assert sum(len(r.pred_instances) for r in results) > 0

    model.roi_head.test_cfg.score_thr = 1.1  # no detections at all
    with torch.no_grad():
        empty = model.test_step(batch)
    assert empty[0].pred_instances.keypoints.shape == (0, 17, 2)
    assert empty[0].pred_instances.keypoint_scores.shape == (0, 17)


def test_integer_pixel_keypoints_move_to_pixel_centres_and_back(tmp_path):
    """Real COCO: +0.5 on load (Detectron2's convention), -0.5 on the written predictions, so a
    perfect prediction of the loaded keypoint scores as the annotation."""
    from lthsteps.keypoint_data import CocoKeypointDataset
    from lthsteps.metrics import keypoint_results
    from lthsteps.mm import keypoint_offset

    names = ["nose", "left_eye", "right_eye"]
    coco = {"images": [{"id": 1, "file_name": "a.jpg", "width": 64, "height": 48}],
            "categories": [{"id": 1, "name": "person", "keypoints": names, "skeleton": []}],
            "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [4, 4, 30, 30], "area": 900,
                             "iscrowd": 0, "num_keypoints": 2, "keypoints": [10, 12, 2, 20, 22, 1, 0, 0, 0]}]}
    (tmp_path / "ann.json").write_text(json.dumps(coco))
    assert keypoint_offset({"keypoint_pixel_indices": True}) == 0.5 and keypoint_offset({}) == 0.0
    loaded = {}
    for offset in (0.0, 0.5):
        dataset = CocoKeypointDataset(ann_file=str(tmp_path / "ann.json"), data_prefix=dict(img=str(tmp_path)),
                                      metainfo=dict(classes=("person",)), keypoint_offset=offset, lazy_init=False,
                                      pipeline=[])
        loaded[offset] = dataset.get_data_info(0)["instances"][0]["keypoints"]
    assert loaded[0.0].tolist() == [[10, 12, 2], [20, 22, 1], [0, 0, 0]]
    assert loaded[0.5].tolist() == [[10.5, 12.5, 2], [20.5, 22.5, 1], [0, 0, 0]]  # unlabelled stays 0
    prediction = {"img_id": 1, "labels": np.array([0]), "scores": np.array([0.9]),
                  "keypoints": loaded[0.5][None, :, :2], "keypoint_scores": np.ones((1, 3))}
    [result] = keypoint_results([prediction], [1], offset=0.5)
    assert result["keypoints"][:6] == [10.0, 12.0, 1.0, 20.0, 22.0, 1.0]
