"""Evaluate a detector's weights on the validation split of a prepared dataset.

    python -m lthsteps.evaluate --config CFG --dataset dataset.json --weights weights.pth \
        --metrics metrics.json --detections detections/

The workflow's training jobs evaluate the weights they have just trained in their own process
(``lthsteps.train --metrics --detections`` calls ``evaluate`` below: the same metrics, without a
second job's start-up); this command evaluates any weights file on its own. Given ``--mask`` (the
mask the weights were trained under), it refuses weights that are not exactly zero where the mask
prunes, before any detection: no metric is computed on weights that break their mask.

Evaluates every task the model has (bbox; segm with a mask head; keypoints with a keypoint head).
Writes the raw results in COCO results format, what later analyses and TIDE read —
``detections/bbox.json`` (``[{"image_id", "category_id", "bbox": [x, y, w, h], "score"}]``), and
``segm.json`` (``"segmentation"``: RLE) / ``keypoints.json`` (``"keypoints": [x1, y1, s1, ...]``)
where the model has them — and ``metrics.json``::

    {"bbox": {"mAP", "AP50", "AP75", "AP_small", "AP_medium", "AP_large", "AR100", ...,
              "per_category": {name: {"AP", "AP50", "AP_small", "AP_medium", "AP_large", "instances"}}},
     "segm": {... as bbox} | null, "keypoints": {"mAP", "AP50", ..., per_category} | null,
     "voc": {"mAP", "mode", "per_category": {name: AP}} | null}

COCO numbers come from pycocotools' COCOeval (AP at IoU .50:.95 on a 0..1 scale); per-category
and per-area APs are read from its precision array. The VOC mAP is the paper's VOC number (IoU 0.5,
11-point interpolation for VOC2007), computed with MMDetection's ``eval_map`` as its VOCMetric does.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from mmengine.config import DictAction

from lthsteps.allocator import keep_freed_memory
from lthsteps.checkpoints import load_state_dict
from lthsteps.datasets import DatasetError, load_descriptor
from lthsteps.files import atomic_write, umask
from lthsteps.masks import check_zeros, load_masks
from lthsteps.metrics import IOU_TYPES, coco_metrics
from lthsteps.mm import bind_dataset, build_model, load_config, model_tasks


def voc_metrics(gt: dict, detections: list[dict], mode: str = "11points") -> dict:
    """VOC mAP at IoU 0.5 as MMDetection's VOCMetric computes it (legacy +1 box extent)."""
    from mmdet.evaluation.functional import eval_map

    cat_ids = [c["id"] for c in sorted(gt["categories"], key=lambda c: c["id"])]
    label_of = {cat_id: i for i, cat_id in enumerate(cat_ids)}
    image_ids = [img["id"] for img in gt["images"]]
    row_of = {image_id: i for i, image_id in enumerate(image_ids)}
    gt_boxes = [{"bboxes": [], "labels": [], "bboxes_ignore": [], "labels_ignore": []} for _ in image_ids]
    for ann in gt["annotations"]:
        x, y, w, h = ann["bbox"]
        # VOC boxes are inclusive pixel ranges: legacy coordinates add the +1 back.
        kind = "_ignore" if ann.get("iscrowd", 0) else ""
        gt_boxes[row_of[ann["image_id"]]][f"bboxes{kind}"].append([x, y, x + w - 1, y + h - 1])
        gt_boxes[row_of[ann["image_id"]]][f"labels{kind}"].append(label_of[ann["category_id"]])
    annotations = [{k: np.array(v, dtype=np.float32 if k.startswith("bboxes") else np.int64).reshape(
        (-1, 4) if k.startswith("bboxes") else (-1,)) for k, v in boxes.items()} for boxes in gt_boxes]
    per_image = [[[] for _ in cat_ids] for _ in image_ids]
    for det in detections:
        x, y, w, h = det["bbox"]
        per_image[row_of[det["image_id"]]][label_of[det["category_id"]]].append([x, y, x + w, y + h, det["score"]])
    det_results = [[np.array(d, dtype=np.float32).reshape(-1, 5) for d in image] for image in per_image]
    mean_ap, per_class = eval_map(det_results, annotations, iou_thr=0.5, logger="silent", nproc=1,
                                  use_legacy_coordinate=True, eval_mode=mode)
    names = [c["name"] for c in sorted(gt["categories"], key=lambda c: c["id"])]
    return {"mAP": float(mean_ap), "mode": mode,
            "per_category": {name: float(r["ap"]) for name, r in zip(names, per_class)}}


def detect(cfg, weights: dict[str, torch.Tensor], work_dir: str) -> dict[str, list[dict]]:
    """Run the config's test loop with ``weights`` loaded strictly; COCO-format results per task."""
    from mmengine.runner import Runner

    out_prefix = str(Path(work_dir) / "detections")
    cfg.work_dir = work_dir
    # Runners in one process (a training job evaluating what it trained) need distinct names, the
    # global visualizer too, or this one would write into another run's (deleted) folder.
    cfg.experiment_name = f"evaluate-{time.time_ns()}"
    if "visualizer" in cfg:
        cfg.visualizer["name"] = cfg.experiment_name
    cfg.load_from = None
    tasks = model_tasks(cfg)
    cfg.test_evaluator = dict(type="CocoResultsDump", ann_file=cfg.test_dataloader.dataset.ann_file,
                              metric=[t for t in tasks if t != "keypoints"], outfile_prefix=out_prefix,
                              keypoint_offset=cfg.test_dataloader.dataset.get("keypoint_offset", 0.0))
    runner = Runner.from_cfg(cfg)
    getattr(runner.model, "module", runner.model).load_state_dict(weights, strict=True)
    runner.test()
    return {task: json.loads(Path(f"{out_prefix}.{task}.json").read_text()) for task in tasks}


def write_results(folder: Path, results: dict[str, list[dict]]) -> None:
    """``folder/<task>.json`` for every task, replacing the folder as a whole (never half written)."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}."))
    try:
        for task, dets in results.items():
            (tmp / f"{task}.json").write_text(json.dumps(dets))
        tmp.chmod(0o777 & ~umask())
        if folder.exists():
            shutil.rmtree(folder)
        tmp.rename(folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m lthsteps.evaluate", description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", required=True, type=Path, help="MMDetection config the weights belong to")
    parser.add_argument("--dataset", required=True, type=Path, help="dataset descriptor JSON (lthsteps.datasets)")
    parser.add_argument("--weights", required=True, type=Path)
    parser.add_argument("--mask", type=Path, help="the mask the weights were trained under: weights that are not "
                        "exactly zero where it prunes are refused, before any detection")
    parser.add_argument("--metrics", required=True, type=Path, help="metrics JSON to write")
    parser.add_argument("--detections", required=True, type=Path,
                        help="folder to write the raw results to: bbox.json (+ segm.json, keypoints.json)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--cfg-options", nargs="+", action=DictAction, default=None)
    return parser.parse_args(argv)


def evaluate(cfg, descriptor: dict, weights: dict[str, torch.Tensor], weights_name: str, metrics_file: Path,
             detections_dir: Path) -> dict:
    """Detect with ``weights`` on the val split of ``cfg`` (bound to ``descriptor``), write the metrics
    and the raw results; return the one-line summary. ``lthsteps.train --metrics`` calls this on the
    weights it has just trained, in its own process, so both give the same metrics."""
    with tempfile.TemporaryDirectory() as work_dir:
        results = detect(cfg, weights, work_dir)
    gt = json.loads(Path(descriptor["splits"]["val"]["ann_file"]).read_text())
    metrics = {"weights": weights_name, "dataset": descriptor["name"]}
    classes = cfg.test_dataloader.dataset.metainfo["classes"]  # what the model was trained on
    metrics |= {task: coco_metrics(gt, results[task], task, classes) if task in results else None
                for task in IOU_TYPES}
    voc_mode = descriptor.get("voc_ap_mode")
    metrics["voc"] = voc_metrics(gt, results["bbox"], voc_mode) if voc_mode else None
    write_results(detections_dir, results)
    atomic_write(metrics_file, lambda tmp: Path(tmp).write_text(json.dumps(metrics, indent=2)))
    summary = {f"{task}_{k}": metrics[task][k] for task in results for k in ("mAP", "AP50")}
    if metrics["voc"]:
        summary["voc_mAP"] = metrics["voc"]["mAP"]
    return summary


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    keep_freed_memory()
    torch.set_num_threads(args.threads)
    try:
        weights = load_state_dict(args.weights)
        if args.mask:
            check_zeros(weights, load_masks(args.mask)[0], str(args.weights), str(args.mask))
        descriptor = load_descriptor(args.dataset)
        cfg = bind_dataset(load_config(args.config, args.cfg_options), descriptor)
        build_model(cfg).load_state_dict(weights, strict=True)
    except (DatasetError, FileNotFoundError, ValueError, RuntimeError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(json.dumps(evaluate(cfg, descriptor, weights, str(args.weights), args.metrics, args.detections)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
