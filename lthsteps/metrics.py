"""COCO metrics of raw predictions for every task: boxes, instance masks and keypoints.

Two parts:

* ``CocoResultsDump``, registered in MMDetection's METRICS: mmdet's ``CocoMetric`` in
  ``format_only`` mode writes ``<prefix>.bbox.json`` and, for models with a mask head,
  ``<prefix>.segm.json``; this subclass also writes ``<prefix>.keypoints.json`` from
  ``pred_instances.keypoints`` (N x K x 2, image coordinates) and ``keypoint_scores`` (N x K).
  A keypoint result is COCO's ``{"image_id", "category_id", "keypoints": [x1, y1, s1, ...],
  "score"}`` with the instance (box) score as ``score`` and each keypoint's score as ``s``
  (COCOeval ignores the third value of detections).
* ``coco_metrics(gt, results, iou_type)``: pycocotools' COCOeval summary plus AP per category
  (overall, AP50 and per area bucket, read from its precision array).
"""
from __future__ import annotations

import contextlib
import copy
import io
from collections.abc import Sequence

import numpy as np
from mmdet.evaluation.metrics import CocoMetric
from mmdet.registry import METRICS
from mmengine.fileio import dump

IOU_TYPES = ("bbox", "segm", "keypoints")
# COCOeval.stats in order, per iou type (keypoint evaluation has no small-area bucket).
_BOX_STATS = ("mAP", "AP50", "AP75", "AP_small", "AP_medium", "AP_large",
              "AR1", "AR10", "AR100", "AR_small", "AR_medium", "AR_large")
STATS = {
    "bbox": _BOX_STATS,
    "segm": _BOX_STATS,
    "keypoints": ("mAP", "AP50", "AP75", "AP_medium", "AP_large", "AR", "AR50", "AR75", "AR_medium", "AR_large"),
}


@METRICS.register_module()
class CocoResultsDump(CocoMetric):
    """``CocoMetric(format_only=True)`` that also dumps keypoint predictions, shifted back by the
    dataset's ``keypoint_offset`` (see ``CocoKeypointDataset``) into the annotations' convention."""

    def __init__(self, keypoint_offset: float = 0.0, **kwargs) -> None:
        super().__init__(format_only=True, **kwargs)
        self.keypoint_offset = keypoint_offset

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        super().process(data_batch, data_samples)
        added = self.results[len(self.results) - len(data_samples):]
        for (_, result), sample in zip(added, data_samples):
            pred = sample["pred_instances"]
            if "keypoints" in pred:
                result["keypoints"] = pred["keypoints"].cpu().numpy()
                result["keypoint_scores"] = pred["keypoint_scores"].cpu().numpy()

    def results2json(self, results: Sequence[dict], outfile_prefix: str) -> dict:
        files = super().results2json(results, outfile_prefix)
        if results and "keypoints" in results[0]:
            files["keypoints"] = f"{outfile_prefix}.keypoints.json"
            dump(keypoint_results(results, self.cat_ids, self.keypoint_offset), files["keypoints"])
        return files


def keypoint_results(results: Sequence[dict], cat_ids: Sequence[int], offset: float = 0.0) -> list[dict]:
    """COCO keypoint results of the per-image prediction dicts ``CocoResultsDump`` collects, with
    ``offset`` subtracted from x and y (the dataset's ``keypoint_offset``)."""
    out = []
    for result in results:
        for label, score, points, point_scores in zip(result["labels"], result["scores"], result["keypoints"],
                                                      result["keypoint_scores"]):
            flat = np.concatenate([points - offset, point_scores[:, None]], axis=1).reshape(-1)
            out.append({"image_id": result["img_id"], "category_id": cat_ids[label],
                        "keypoints": [float(v) for v in flat], "score": float(score)})
    return out


def _mean_valid(precision: np.ndarray) -> float:
    valid = precision[precision > -1]
    return float(valid.mean()) if valid.size else float("nan")


def coco_metrics(gt: dict, results: list[dict], iou_type: str = "bbox",
                 classes: Sequence[str] | None = None) -> dict:
    """COCOeval summary of ``results`` plus AP per category (overall, AP50, per area bucket).

    ``classes`` (names) restricts the evaluation to the categories a model was trained on (a keypoint
    model's boxes are persons only); default: every category. Keypoint evaluation covers the
    categories whose COCO entry lists ``keypoints``; its per-category ``instances`` counts annotations
    with at least one labelled keypoint (the others are ignored).
    """
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    if iou_type not in STATS:
        raise ValueError(f"unknown iou type {iou_type!r}: use one of {', '.join(STATS)}")
    with contextlib.redirect_stdout(io.StringIO()):
        coco_gt = COCO()
        coco_gt.dataset = gt
        coco_gt.createIndex()
        if not results:
            return {name: 0.0 for name in STATS[iou_type]} | {"per_category": {}, "detections": 0}
        # loadRes writes bbox/area/id into the dicts it gets: keep the caller's results intact.
        evaluator = COCOeval(coco_gt, coco_gt.loadRes(copy.deepcopy(results)), iou_type)
        if iou_type == "keypoints":
            evaluator.params.catIds = [c["id"] for c in gt["categories"] if c.get("keypoints")]
        elif classes is not None:
            evaluator.params.catIds = _category_ids(gt, classes)
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    summary = {name: float(v) for name, v in zip(STATS[iou_type], evaluator.stats)}
    precision = evaluator.eval["precision"]  # [IoU thr, recall, category, area, max dets]
    iou_50 = int(np.argmin(np.abs(evaluator.params.iouThrs - 0.5)))
    counted = (lambda a: a.get("num_keypoints", 0) > 0) if iou_type == "keypoints" else (lambda a: True)
    instances = {c: 0 for c in evaluator.params.catIds}
    for ann in gt["annotations"]:
        if ann["category_id"] in instances and not ann.get("iscrowd", 0) and counted(ann):
            instances[ann["category_id"]] += 1
    per_category = {}
    for k, cat_id in enumerate(evaluator.params.catIds):
        entry = {"AP": _mean_valid(precision[:, :, k, 0, -1]), "AP50": _mean_valid(precision[iou_50, :, k, 0, -1])}
        for a, area in enumerate(evaluator.params.areaRngLbl[1:], start=1):
            entry[f"AP_{area}"] = _mean_valid(precision[:, :, k, a, -1])
        per_category[coco_gt.cats[cat_id]["name"]] = entry | {"instances": instances[cat_id]}
    return summary | {"per_category": per_category, "detections": len(results)}


def _category_ids(gt: dict, classes: Sequence[str]) -> list[int]:
    ids = {c["name"]: c["id"] for c in gt["categories"]}
    unknown = [name for name in classes if name not in ids]
    if unknown:
        raise ValueError(f"classes {unknown} are not categories of the annotation file: evaluate on the dataset the "
                         "model was trained on")
    return sorted(ids[name] for name in classes)
