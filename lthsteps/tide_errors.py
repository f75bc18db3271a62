r"""TIDE error analysis of detections (the paper's Figs 7 and 8, Appendix C.1): how much of the AP that a
detector misses each kind of error costs, for boxes (Fig. 7) or instance masks (Fig. 8).

    python -m lthsteps.tide_errors --gt instances_val.json --detections detections/bbox.json \
        [--mode bbox|segm] --out errors.json

Computed with ``tidecv`` 1.0.1, TIDE's own package (Bolya, Foley, Hays, Hoffman, "TIDE: A General Toolbox
for Identifying Object Detection Errors", ECCV 2020; github.com/dbolya/tide): ground truth and detections are
read by its ``datasets.COCO`` / ``datasets.COCOResult``, errors by ``TIDE().evaluate(..., mode=TIDE.BOX |
TIDE.MASK)``, ``get_main_errors()`` and ``get_special_errors()``. Nothing of TIDE is re-implemented here.

Compatibility (numpy 2.4, pandas 3.1, matplotlib 3.11, seaborn 0.13): tidecv's error computation uses no
removed numpy alias (no ``np.float``/``np.int``/``np.bool``) and runs unchanged; no numpy shim is needed.

* ``import tidecv`` imports its plotting module, which imports ``appdirs`` (a declared requirement of
  tidecv, pinned in pyproject.toml with it).
* ``TIDE()`` builds a ``Plotter`` that restyles matplotlib globally (``seaborn.set``: 34 rcParams) and
  creates a folder in the user's data directory. :func:`analyze` builds it inside
  ``matplotlib.rc_context()`` with ``TIDE_PATH`` pointing to a temporary folder, so neither escapes.
* tidecv's ``datasets.COCO`` converts every ground-truth ``segmentation`` to a mask, and fails on the empty
  ones of VOC-layout data converted to COCO format (``lthsteps.datasets``). With ``--mode bbox`` such a
  ground truth is handed to it with each box as its polygon (box mode never reads the masks); ``--mode
  segm`` on it is an input error.
* tidecv also needs ``cv2`` (opencv-python, already a dependency here) at import; its plots (not used)
  work but warn (seaborn 0.13 FutureWarning: ``palette`` without ``hue``, removed in seaborn 0.14).

Definitions (TIDE, Sec. 2; thresholds t_f = 0.5 foreground, t_b = 0.1 background; IoU of boxes or of
masks by ``--mode``). Detections are matched to ground truth as COCOeval does at IoU 0.5 (highest score
first, each ground truth once, crowd regions ignore what they cover; at most 100 detections per image,
all classes together, where COCOeval keeps 100 per image and class).
Each detection that is not a true positive gets one error, tested in this order:

* Loc: the right class, 0.1 <= IoU <= 0.5 with a ground truth of its class (localisation error).
* Cls: IoU >= 0.5 with a ground truth of another class (classification error).
* Dupe: IoU >= 0.5 with a ground truth of its class that a higher-scoring detection already matched.
* Bkg: IoU <= 0.1 with every ground truth (a detection on background).
* Both: anything else, i.e. the wrong class and 0.1 < IoU < 0.5 (tidecv calls it ``OtherError``).
* Miss: a ground truth that no detection matches and that no Cls or Loc error could fix.

dAP of an error type (``main_errors``) = AP50 after fixing only the errors of that type minus the AP50 of
the detections as they are (clamped at 0): Cls/Loc errors become true positives (the highest-scoring one
per ground truth; the others are removed), Dupe, Bkg and Both detections are removed, missed ground truths
are dropped from the ground truth. Each type is fixed on its own, so the dAPs need not sum to
100 - AP50. Special errors (``special_errors``): FalsePos = AP50 with every false positive scored below
every true positive minus AP50 (perfect precision, same recall); FalseNeg = AP50 with every unmatched
ground truth removed minus AP50 (perfect recall, same precision).

Output (``--out`` JSON, AP points on TIDE's 0-100 scale, not COCOeval's 0-1 of ``metrics.json``):
``AP50`` (TIDE's class-averaged AP at IoU 0.5, 101-point COCO interpolation; TIDE aims at parity with
COCOeval's AP50, dbolya/tide#14, and the tests check it on their data),
``main_errors`` {Cls, Loc, Both, Dupe, Bkg, Miss: dAP}, ``special_errors`` {FalsePos, FalseNeg: dAP},
``main_error_share`` (each main dAP over their sum: the pie of TIDE's summary plot and of Figs 7-8; all 0
when nothing is lost), ``counts`` (how many detections / ground truths carry each error; detections that a
crowd region ignores are counted too, but cannot change any dAP), and the settings and sizes.

How to read it: the larger a type's dAP, the more AP fixing that error alone would recover. Figs 7-8
compare the breakdowns of a dense Mask R-CNN R50 and its ticket with 20% of the weights: similar dAPs mean
the pruned ticket makes the same kinds of mistakes (the paper reports fewer Loc and more Bkg errors for the
sparse model's masks). The paper names five types (Cls, Loc, Dupe, "Bkgd" = Bkg, "Missed" = Miss); TIDE's
sixth, Both, is reported too.

Bad input (unreadable files, no detections, detections on images or of categories the ground truth does
not have, a ``--mode`` whose field the detections lack, masks of another size than their image) prints
one ``error: ...`` line naming the fix and exits 2 before anything is written.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile
import types
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from lthsteps.files import atomic_write

MODES = ("bbox", "segm")
MAIN_ERRORS = ("Cls", "Loc", "Both", "Dupe", "Bkg", "Miss")
SPECIAL_ERRORS = ("FalsePos", "FalseNeg")
POS_THRESHOLD = 0.5
BACKGROUND_THRESHOLD = 0.1
TIDECV_PIN = "tidecv==1.0.1"
_FIELD = {"bbox": "bbox", "segm": "segmentation"}


class InputError(ValueError):
    """Input the analysis cannot use; the message names the fix."""


# ----------------------------------------------------------------------------------------------- tidecv

def import_tidecv() -> types.ModuleType:
    """``tidecv`` with its ``datasets`` submodule."""
    import tidecv
    import tidecv.datasets  # noqa: F401
    return tidecv


@contextlib.contextmanager
def _contained_plotter() -> Iterator[None]:
    """Keep ``TIDE()``'s Plotter from restyling matplotlib or creating a folder in the user's home."""
    import matplotlib

    old = os.environ.get("TIDE_PATH")
    with tempfile.TemporaryDirectory(prefix="tidecv-") as tmp, matplotlib.rc_context():
        os.environ["TIDE_PATH"] = tmp
        try:
            yield
        finally:
            if old is None:
                os.environ.pop("TIDE_PATH", None)
            else:
                os.environ["TIDE_PATH"] = old


# ------------------------------------------------------------------------------------------- validation

def _ids(items: list, what: str, fix: str) -> list:
    if not isinstance(items, list) or not all(isinstance(x, dict) and "id" in x for x in items):
        raise InputError(f"{what} is not a list of objects with an 'id': {fix}")
    return [x["id"] for x in items]


def _examples(values) -> str:
    values = sorted(set(values), key=str)
    return ", ".join(map(str, values[:5])) + (", ..." if len(values) > 5 else "")


def check_inputs(gt: Any, detections: Any, mode: str) -> None:
    """Raise :class:`InputError` (message naming the fix) unless TIDE can analyse these inputs as asked."""
    if mode not in MODES:
        raise InputError(f"mode {mode!r} is not one of {', '.join(MODES)}: pass --mode bbox or --mode segm")
    fix_gt = "pass a COCO annotation file (instances_*.json)"
    if not isinstance(gt, dict) or not all(k in gt for k in ("images", "annotations", "categories")):
        raise InputError(f"the ground truth is not a COCO annotation file (needs images, annotations, "
                         f"categories): {fix_gt}")
    _ids(gt["images"], "the ground truth's images", fix_gt)
    images = {img["id"]: img for img in gt["images"]}
    for img in images.values():
        if not all(k in img for k in ("width", "height", "file_name")):
            raise InputError(f"ground-truth image {img['id']} lacks width, height or file_name "
                             f"(TIDE reads them): {fix_gt}")
    categories = set(_ids(gt["categories"], "the ground truth's categories", fix_gt))
    anns = gt["annotations"]
    if not isinstance(anns, list) or not all(isinstance(a, dict) for a in anns):
        raise InputError(f"the ground truth's annotations are not a list of objects: {fix_gt}")
    for ann in anns:
        missing = [k for k in ("image_id", "category_id", "bbox", "segmentation", "iscrowd") if k not in ann]
        if missing:
            raise InputError(f"ground-truth annotation {ann.get('id')} lacks {', '.join(missing)} (TIDE reads "
                             f"them): {fix_gt}")
    if mode == "segm":
        maskless = [a.get("id") for a in anns if not a["segmentation"]]
        if maskless:
            raise InputError(f"{len(maskless)} ground-truth annotations have no instance mask (empty segmentation, "
                             f"e.g. {_examples(maskless)}; VOC-layout data has none), which --mode segm compares "
                             "against: use --mode bbox, or a ground truth with masks")
    stray = [a["image_id"] for a in anns if a["image_id"] not in images]
    if stray:
        raise InputError(f"{len(stray)} ground-truth annotations are on images the file does not list "
                         f"({_examples(stray)}): {fix_gt}")
    if not any(not a["iscrowd"] for a in anns):
        raise InputError(f"the ground truth has no (non-crowd) annotations, so there is no AP to analyse: "
                         f"{fix_gt}")

    produce = "pass the detections (COCO results format) of a model evaluated on this split"
    if not isinstance(detections, list):
        raise InputError(f"the detections are not a JSON list (COCO results format): {produce}")
    if not detections:
        raise InputError(f"the detections file is empty (no detection at all): {produce}; a model that "
                         "detects nothing has no errors to break down")
    for det in detections:
        if not isinstance(det, dict) or not all(k in det for k in ("image_id", "category_id", "score")):
            raise InputError(f"a detection lacks image_id, category_id or score (COCO results format): "
                             f"{produce}")
    foreign = [d["image_id"] for d in detections if d["image_id"] not in images]
    if foreign:
        raise InputError(f"{len(foreign)} of {len(detections)} detections are on image ids the ground truth "
                         f"does not have ({_examples(foreign)}): pass the annotation file of the split the "
                         "detections were made on")
    unknown = [d["category_id"] for d in detections if d["category_id"] not in categories]
    if unknown:
        raise InputError(f"{len(unknown)} detections have category ids the ground truth does not have "
                         f"({_examples(unknown)}): pass the annotation file whose categories the model uses")
    field = _FIELD[mode]
    lacking = sum(field not in d for d in detections)
    if lacking:
        other = "segm.json (instance masks) or --mode bbox" if mode == "segm" else "bbox.json or segm.json"
        raise InputError(f"{lacking} of {len(detections)} detections have no {field!r}, which --mode {mode} "
                         f"needs: pass {other}")
    if mode == "bbox":
        for det in detections:
            box = det["bbox"]
            if not (isinstance(box, list) and len(box) == 4 and all(isinstance(v, (int, float)) for v in box)):
                raise InputError(f"a detection's bbox is {box!r}, not [x, y, width, height]: pass COCO "
                                 "results format")
        return
    for det in detections:
        seg = det["segmentation"]
        if not (isinstance(seg, dict) and isinstance(seg.get("counts"), str) and "size" in seg):
            raise InputError("a detection's segmentation is not a compressed RLE ({'size', 'counts': str}; "
                             "polygons are not evaluated): pass the segm.json MMDetection writes")
        img = images[det["image_id"]]
        if list(seg["size"]) != [img["height"], img["width"]]:
            raise InputError(f"a mask on image {det['image_id']} has size {list(seg['size'])}, the image is "
                             f"[{img['height']}, {img['width']}] (height, width): pass masks at the "
                             "ground truth's image size")


def _load(path: str | os.PathLike, what: str) -> Any:
    try:
        return json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise InputError(f"{what} {path} does not exist: pass an existing file") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise InputError(f"{what} {path} is not a readable JSON file ({err}): pass a COCO JSON file") from None


# -------------------------------------------------------------------------------------------- analysis

def _box_segmentations(gt: dict) -> dict:
    """``gt`` with each empty segmentation (VOC-layout data has no masks) replaced by its box as a polygon."""
    out = dict(gt, annotations=[dict(a) for a in gt["annotations"]])
    for a in out["annotations"]:
        if not a["segmentation"]:
            x, y, w, h = a["bbox"]
            a["segmentation"] = [[x, y, x + w, y, x + w, y + h, x, y + h]]
    return out


def analyze(gt_path: str | os.PathLike, detections_path: str | os.PathLike, mode: str = "bbox",
            pos_threshold: float = POS_THRESHOLD, background_threshold: float = BACKGROUND_THRESHOLD) -> dict:
    """TIDE's errors of ``detections_path`` against ``gt_path`` (see the module docstring for the fields).

    Both files are checked first (:func:`check_inputs`; :class:`InputError` on bad input), then read again
    by tidecv's own loaders, so that TIDE sees them exactly as its ``datasets`` module reads COCO files.
    Raises ``ModuleNotFoundError`` if tidecv is not installed.
    """
    gt, dets = _load(gt_path, "ground truth"), _load(detections_path, "detections")
    check_inputs(gt, dets, mode)
    sizes = {"images": len(gt["images"]), "gt_instances": sum(not a["iscrowd"] for a in gt["annotations"]),
             "crowd_regions": sum(bool(a["iscrowd"]) for a in gt["annotations"]), "detections": len(dets)}
    maskless = mode == "bbox" and any(not a["segmentation"] for a in gt["annotations"])
    del dets

    tidecv = import_tidecv()
    TIDE, datasets = tidecv.TIDE, tidecv.datasets
    with tempfile.TemporaryDirectory() as tmp:
        if maskless:  # tidecv's loader converts every segmentation; box mode never reads them
            gt_path = Path(tmp) / "gt.json"
            gt_path.write_text(json.dumps(_box_segmentations(gt)))
        del gt
        gt_data = datasets.COCO(str(gt_path))
    det_data = datasets.COCOResult(str(detections_path))
    with _contained_plotter():
        tide = TIDE(pos_threshold=pos_threshold, background_threshold=background_threshold)
    run = tide.evaluate(gt_data, det_data, mode=TIDE.BOX if mode == "bbox" else TIDE.MASK, name="detections")
    main = {k: float(v) for k, v in tide.get_main_errors()["detections"].items()}
    special = {k: float(v) for k, v in tide.get_special_errors()["detections"].items()}
    counts = {err.short_name: int(n) for err, n in run.count_errors().items()}
    total = sum(main.values())
    return {
        "mode": mode,
        "AP50": float(run.ap),
        "main_errors": {k: main[k] for k in MAIN_ERRORS},
        "special_errors": {k: special[k] for k in SPECIAL_ERRORS},
        "main_error_share": {k: (main[k] / total if total > 0 else 0.0) for k in MAIN_ERRORS},
        "counts": {k: counts[k] for k in MAIN_ERRORS},
        "pos_threshold": pos_threshold,
        "background_threshold": background_threshold,
        "max_dets": int(gt_data.max_dets),
        **sizes,
        "scale": "AP points, 0-100",
        "tidecv": tidecv.__version__,
    }


# --------------------------------------------------------------------------------------------------- CLI

def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m lthsteps.tide_errors", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gt", required=True, help="COCO annotation file (instances_*.json) of the split")
    parser.add_argument("--detections", required=True,
                        help="COCO results: bbox.json (boxes) or segm.json (RLE masks) from lthsteps.evaluate")
    parser.add_argument("--mode", choices=MODES, default="bbox",
                        help="bbox: box IoU (Fig. 7); segm: mask IoU (Fig. 8). Default bbox")
    parser.add_argument("--out", required=True, help="errors JSON to write")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; bad input prints one ``error: ...`` line and returns 2, writing nothing."""
    args = _parser().parse_args(argv)
    try:
        result = analyze(args.gt, args.detections, args.mode)
    except InputError as err:
        print("error: " + " ".join(str(err).split()), file=sys.stderr)
        return 2
    except ModuleNotFoundError as err:
        print(f"error: tidecv cannot be imported ({err}): pip install {TIDECV_PIN}", file=sys.stderr)
        return 2
    result = {"gt": str(args.gt), "detections_file": str(args.detections), **result}
    text = json.dumps(result, indent=2) + "\n"
    atomic_write(args.out, lambda tmp: Path(tmp).write_text(text))
    main_errors = ", ".join(f"{k} {v:.2f}" for k, v in result["main_errors"].items())
    special = ", ".join(f"{k} {v:.2f}" for k, v in result["special_errors"].items())
    print(f"{args.mode} AP50 {result['AP50']:.2f}; dAP: {main_errors}; special: {special}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
