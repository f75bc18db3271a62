"""Metrics: COCO numbers equal pycocotools run directly; VOC mAP behaves as the VOC protocol."""
from __future__ import annotations

import contextlib
import io
import json

import numpy as np
import pytest

from lthsteps.evaluate import COCO_STATS, coco_metrics, voc_metrics


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


def test_coco_numbers_equal_pycocotools_directly(gt):
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    dets = _perturbed(gt)
    ours = coco_metrics(gt, dets)
    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO()
        coco.dataset = gt
        coco.createIndex()
        ev = COCOeval(coco, coco.loadRes(dets), "bbox")
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    assert [ours[k] for k in COCO_STATS] == pytest.approx(list(ev.stats))
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
