"""Metrics: COCO numbers (bbox, segm, keypoints) equal pycocotools run directly; VOC mAP behaves as the VOC protocol."""
from __future__ import annotations

import contextlib
import io
import json

import numpy as np
import pytest
import torch

from conftest import REPO

from lthsteps.evaluate import voc_metrics, write_results
from lthsteps.metrics import STATS, coco_metrics, keypoint_results


@pytest.fixture(scope="module")
def gt(synthetic_root):
    return json.loads((synthetic_root / "coco/annotations/instances_val.json").read_text())


def _perturbed(gt, seed=0):
    rng = np.random.default_rng(seed)
    dets = []
    for ann in gt["annotations"]:
        if rng.random() < 0.2:
            continue  # a miss
        x, y, w, h = ann["bbox"]
        jitter = rng.normal(0, 0.08, 4) * [w, h, w, h]
        dets.append({"image_id": ann["image_id"], "category_id": ann["category_id"], "score": float(rng.random()),
                     "bbox": [float(x + jitter[0]), float(y + jitter[1]), float(max(1, w + jitter[2])),
                              float(max(1, h + jitter[3]))]})
    return dets


def test_perfect_detections_score_one(gt):
    dets = [{"image_id": a["image_id"], "category_id": a["category_id"], "bbox": a["bbox"], "score": 1.0}
            for a in gt["annotations"]]
    metrics = coco_metrics(gt, dets)
    assert metrics["mAP"] == pytest.approx(1.0)
    present = {a["category_id"] for a in gt["annotations"]}
    names = {c["id"]: c["name"] for c in gt["categories"]}
    for cat_id in present:
        assert metrics["per_category"][names[cat_id]]["AP"] == pytest.approx(1.0)
    assert voc_metrics(gt, dets)["mAP"] == pytest.approx(1.0)


def _pycocotools_stats(gt, results, iou_type, cat_ids=None):
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO()
        coco.dataset = gt
        coco.createIndex()
        ev = COCOeval(coco, coco.loadRes(results), iou_type)
        if cat_ids:
            ev.params.catIds = cat_ids
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return list(ev.stats)


def test_coco_numbers_equal_pycocotools_directly(gt):
    dets = _perturbed(gt)
    ours = coco_metrics(gt, dets)
    assert [ours[k] for k in STATS["bbox"]] == pytest.approx(_pycocotools_stats(gt, dets, "bbox"))
    # The mean over categories of per-category AP is COCO's mAP.
    aps = [v["AP"] for v in ours["per_category"].values() if not np.isnan(v["AP"])]
    assert np.mean(aps) == pytest.approx(ours["mAP"])
    assert 0 < ours["mAP"] < 1


def test_voc_map_drops_with_misses_and_ignores_nothing_else(gt):
    dets = _perturbed(gt, seed=1)
    voc = voc_metrics(gt, dets)
    assert 0 < voc["mAP"] < 1 and voc["mode"] == "11points"
    assert set(voc["per_category"]) == {c["name"] for c in gt["categories"]}


def test_no_detections_is_zero_not_an_error(gt):
    metrics = coco_metrics(gt, [])
    assert metrics["mAP"] == 0 and metrics["detections"] == 0


def test_segm_numbers_equal_pycocotools_directly(gt):
    rng = np.random.default_rng(2)
    results = [{"image_id": a["image_id"], "category_id": a["category_id"], "segmentation": a["segmentation"],
                "score": float(rng.random())} for a in gt["annotations"] if rng.random() < 0.7]
    ours = coco_metrics(gt, results, "segm")
    assert [ours[k] for k in STATS["segm"]] == pytest.approx(_pycocotools_stats(gt, results, "segm"))
    assert 0 < ours["mAP"] < 1


def _keypoint_predictions(gt, rng):
    """Per-image prediction dicts as CocoResultsDump collects them: jittered ground-truth persons."""
    person = [c for c in gt["categories"] if c.get("keypoints")]
    persons = [a for a in gt["annotations"] if a["category_id"] == person[0]["id"] and a["num_keypoints"]]
    by_image = {}
    for ann in persons:
        points = np.array(ann["keypoints"], dtype=float).reshape(-1, 3)[:, :2] + rng.normal(0, 1.5, (17, 2))
        x, y, w, h = ann["bbox"]
        by_image.setdefault(ann["image_id"], []).append((np.array([x, y, x + w, y + h]), points))
    results = []
    for image_id, preds in by_image.items():
        results.append({"img_id": image_id, "labels": np.zeros(len(preds), dtype=int),
                        "scores": rng.random(len(preds)), "bboxes": np.stack([p[0] for p in preds]),
                        "keypoints": np.stack([p[1] for p in preds]), "keypoint_scores": rng.random((len(preds), 17))})
    return results, [person[0]["id"]]


def test_keypoint_results_and_metrics_equal_pycocotools_directly(gt):
    predictions, cat_ids = _keypoint_predictions(gt, np.random.default_rng(3))
    results = keypoint_results(predictions, cat_ids)
    assert len(results) == sum(len(p["labels"]) for p in predictions)
    first = results[0]
    assert len(first["keypoints"]) == 51 and first["category_id"] == cat_ids[0]
    assert first["keypoints"][:2] == pytest.approx(list(predictions[0]["keypoints"][0, 0]))
    assert first["keypoints"][2] == pytest.approx(predictions[0]["keypoint_scores"][0, 0])
    ours = coco_metrics(gt, results, "keypoints")
    assert [ours[k] for k in STATS["keypoints"]] == pytest.approx(_pycocotools_stats(gt, results, "keypoints", cat_ids))
    assert 0.3 < ours["mAP"] <= 1  # 1.5 px jitter on persons of medium/large size: mostly correct
    assert set(ours["per_category"]) == {"person"} and "AP_small" not in ours["per_category"]["person"]


def test_unknown_iou_type_is_rejected(gt):
    with pytest.raises(ValueError, match="unknown iou type"):
        coco_metrics(gt, [], "boxes")


def test_results_folder_is_replaced_whole(tmp_path):
    write_results(tmp_path / "detections", {"bbox": [{"a": 1}], "segm": []})
    write_results(tmp_path / "detections", {"bbox": []})
    assert sorted(p.name for p in (tmp_path / "detections").iterdir()) == ["bbox.json"]
    assert [p.name for p in tmp_path.iterdir()] == ["detections"]


def test_box_metrics_cover_the_models_classes_only(gt):
    person = next(c["id"] for c in gt["categories"] if c["name"] == "person")
    dets = [d for d in _perturbed(gt, seed=4) if d["category_id"] == person]
    everything = coco_metrics(gt, dets)
    persons = coco_metrics(gt, dets, classes=["person"])
    assert set(persons["per_category"]) == {"person"} and len(everything["per_category"]) == len(gt["categories"])
    assert persons["mAP"] == pytest.approx(everything["per_category"]["person"]["AP"])
    assert persons["mAP"] > 3 * everything["mAP"]  # the other categories are not the model's misses
    with pytest.raises(ValueError, match="not categories of the annotation file"):
        coco_metrics(gt, dets, classes=["giraffe"])


def test_the_evaluate_step_refuses_weights_that_break_their_mask(tmp_path, capsys):
    from lthsteps.checkpoints import save_state_dict
    from lthsteps.evaluate import main
    from lthsteps.masks import save_masks
    from lthsteps.mm import build_model, load_config

    config = REPO / "config/models/faster-rcnn_r18-c4_tiny.py"
    state = build_model(load_config(config)).state_dict()
    save_state_dict(tmp_path / "dense.pth", state)  # never trained under the mask: non-zero everywhere
    weight = "backbone.conv1.weight"
    pruned = torch.ones_like(state[weight], dtype=torch.bool)
    pruned.view(-1)[:7] = False
    save_masks(tmp_path / "mask.npz", {weight: pruned}, {})
    descriptor = tmp_path / "dataset.json"
    descriptor.write_text("{}")  # never read: the weights are refused first
    argv = ["--config", str(config), "--dataset", str(descriptor), "--weights", str(tmp_path / "dense.pth"),
            "--mask", str(tmp_path / "mask.npz"), "--metrics", str(tmp_path / "metrics.json"),
            "--detections", str(tmp_path / "detections")]
    assert main(argv) == 2
    assert f"not zero where {tmp_path / 'mask.npz'} prunes: 7 non-zero weights in {weight} (7)" in capsys.readouterr().err
    assert not (tmp_path / "metrics.json").exists() and not (tmp_path / "detections").exists()
