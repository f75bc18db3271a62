"""What a run folder or a results tree holds (dataclasses, JSON-ready with ``dataclasses.asdict``): its
mask, every weights file checked against it, the headline metrics and the training record."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from lthsteps.inspect import layout
from lthsteps.inspect.core import (ACCEPTED, InspectError, MaskSummary, WeightsSummary, file_kind, read_json,
                                   read_masks, summarize_mask, summarize_weights)


@dataclass
class RunSummary:
    path: str
    kind: str
    where: dict
    mask: MaskSummary | None = None
    weights: list = field(default_factory=list)  # WeightsSummary
    metrics: dict = field(default_factory=dict)  # headline: "bbox mAP", "segm mAP", "keypoints mAP", "VOC mAP", "top-1"
    train: dict | None = None  # iterations, start_iter, train_seconds, zeros_violations as recorded
    problems: list = field(default_factory=list)  # one line each
    ok: bool = True


@dataclass
class TreeSummary:
    path: str
    runs: list  # RunSummary
    weights_checked: int
    offending: list  # "file: problem" lines
    ok: bool = True


def headline_metrics(metrics: dict | None, train: dict | None) -> dict:
    """mAP of each task in ``metrics.json`` (bbox, segm, keypoints, VOC) and a classifier's top-1."""
    out = {}
    for task in ("bbox", "segm", "keypoints"):
        entry = (metrics or {}).get(task)
        if isinstance(entry, dict) and entry.get("mAP") is not None:
            out[f"{task} mAP"] = entry["mAP"]
    voc = (metrics or {}).get("voc")
    if isinstance(voc, dict) and voc.get("mAP") is not None:
        out["VOC mAP"] = voc["mAP"]
    if isinstance(train, dict) and train.get("val_top1") is not None:
        out["top-1"] = train["val_top1"]
    return out


_TRAIN_KEYS = ("iterations", "start_iter", "train_seconds", "resumed_from_iter", "zeros_violations")


def summarize_run(folder: str | os.PathLike, layers: bool = False, snapshots: bool = True,
                  strict: bool = True) -> RunSummary:
    """Mask, weights files (each checked against the mask), headline metrics and training record of a
    run folder. With ``strict`` a mask that does not fit the weights (or an unreadable weights file)
    raises InspectError / ValueError; without, it is one of the run's problems (a results tree lists
    them all)."""
    folder = Path(folder)
    run = layout.classify(folder)
    if run is None or not run.is_run:
        raise InspectError(f"{folder} is not a run folder of a results tree: inspect takes {ACCEPTED}")
    summary = RunSummary(str(folder), run.kind, run.where)
    mask_path = layout.mask_of(folder)
    masks = None
    if mask_path is not None:
        masks = read_masks(mask_path)
        summary.mask = summarize_mask(mask_path, layers, masks)
    for path in layout.weights_files(folder, snapshots):
        in_snapshots = path.parent != folder
        try:
            weights = summarize_weights(path, None if in_snapshots else mask_path, layers,
                                        None if masks is None or in_snapshots else masks[0])
        except ValueError as err:  # InspectError (mask of another model), WeightsFileError (unreadable)
            if strict:
                raise
            summary.problems.append(str(err))
            continue
        summary.weights.append(weights)
        if weights.violations:
            summary.problems.append(violation_line(weights))
    if mask_path is None and run.kind not in ("dense",) and summary.weights:
        summary.problems.append(f"{folder}: no mask.npz for its weights (a {run.kind} is trained under one): "
                                "run the rule that makes the mask")
    train = read_json(folder / layout.TRAIN_REPORT)
    if train is not None:
        summary.train = {key: train[key] for key in _TRAIN_KEYS if key in train}
        if train.get("zeros_violations"):
            summary.problems.append(f"{folder / layout.TRAIN_REPORT} records weights not zero off the mask: "
                                    f"{train['zeros_violations']}")
    summary.metrics = headline_metrics(read_json(folder / layout.METRICS), train)
    summary.ok = not summary.problems
    return summary


def violation_line(weights: WeightsSummary) -> str:
    bad = weights.violations or {}
    listed = ", ".join(f"{name} ({n:,})" for name, n in bad.items())
    return (f"{weights.path}: {sum(bad.values()):,} weights not zero where {weights.mask} prunes, in {len(bad)} "
            f"tensor(s): {listed}")


def summarize_tree(folder: str | os.PathLike, layers: bool = False) -> TreeSummary:
    """Every run of a results tree (see :func:`summarize_run`); every weights file with a mask checked."""
    folder = Path(folder)
    runs = [_run_or_problem(run, layers) for run in layout.find_runs(folder)]
    if not runs:
        raise InspectError(f"{folder} holds no run folder (runs/..., classifiers/...): inspect takes {ACCEPTED}")
    offending = [problem for run in runs for problem in run.problems]
    checked = sum(1 for run in runs for w in run.weights if w.mask is not None)
    return TreeSummary(str(folder), runs, checked, offending, not offending)


def _run_or_problem(run: layout.Folder, layers: bool) -> RunSummary:
    """The run's summary, or one whose problem is why it could not be read (a damaged mask, report)."""
    try:
        return summarize_run(run.path, layers, snapshots=False, strict=False)
    except ValueError as err:
        return RunSummary(str(run.path), run.kind, run.where, problems=[str(err)], ok=False)


def inspect_path(path: str | os.PathLike, layers: bool = False, mask: str | os.PathLike | None = None):
    """The summary of whatever ``path`` is: MaskSummary, WeightsSummary, RunSummary or TreeSummary."""
    path = Path(path)
    if not path.exists():
        raise InspectError(f"{path} does not exist: give {ACCEPTED}")
    if path.is_dir():
        if mask is not None:
            raise InspectError("--mask goes with a weights file, not a folder: give the weights file")
        run = layout.classify(path)
        if run is not None and run.is_run:
            return summarize_run(path, layers)
        if run is not None:
            raise InspectError(f"{path} holds a dense run's snapshots: inspect one of its files, or the dense run")
        if layout.is_tree(path):
            return summarize_tree(path, layers)
        raise InspectError(f"{path} is not a run folder or a results tree: inspect takes {ACCEPTED}")
    kind = file_kind(path)
    if kind == "mask":
        if mask is not None:
            raise InspectError("--mask goes with a weights file: to compare two masks use `diff A B`")
        return summarize_mask(path, layers)
    return summarize_weights(path, mask if mask is not None else layout.mask_of(path.parent), layers)


def is_ok(summary) -> bool:
    return getattr(summary, "ok", True)

