"""TIDE error analysis (lthsteps.tide_errors) on hand-made ground truth and detections whose errors are known.

Ground truth: three 100 x 100 images, cat A on image 1, dog B on image 2, cat C on image 3 (polygon masks
equal to their boxes, so box and mask IoUs agree). Each scenario starts from perfect detections (A 0.8,
B 0.6, C 0.5) and adds, replaces or drops one detection so that exactly one main error type appears; the
error detections score 0.9 (0.7 for the duplicate), above the true positives they then push down.
"""
from __future__ import annotations

import copy
import json

import numpy as np
import pytest

from lthsteps import tide_errors as te
from lthsteps.tide_errors import InputError, MAIN_ERRORS, analyze, check_inputs, main

import pycocotools.mask as mask_utils
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

SIZE = 100
CAT, DOG = 1, 2
A, B, C = [10, 10, 40, 40], [50, 50, 40, 40], [20, 20, 30, 30]
# A shifted right by 20 px: intersection 20 x 40 = 800, union 2400, IoU 1/3 (between t_b 0.1 and t_f 0.5).
A_SHIFTED = [30, 10, 40, 40]
# A shifted by 2 px: IoU 1520 / 1680 = 0.905 (a duplicate of A).
A_NEAR = [12, 10, 40, 40]
FAR = [60, 60, 30, 30]  # image 1, IoU 0 with A: background


def _poly(box):
    x, y, w, h = box
    return [[x, y, x + w, y, x + w, y + h, x, y + h]]


def _rle(box) -> dict:
    rle = mask_utils.merge(mask_utils.frPyObjects(_poly(box), SIZE, SIZE))
    return {"size": [int(v) for v in rle["size"]], "counts": rle["counts"].decode("ascii")}


def _uncompressed_rle(box) -> dict:
    """COCO crowd format: run lengths of the column-major mask, starting with a run of zeros."""
    x, y, w, h = box
    mask = np.zeros((SIZE, SIZE), dtype=np.uint8)
    mask[y:y + h, x:x + w] = 1
    flat = mask.flatten(order="F")
    change = np.flatnonzero(np.diff(flat)) + 1
    bounds = np.concatenate([[0], change, [flat.size]])
    counts = np.diff(bounds).tolist()
    if flat[0] == 1:
        counts = [0] + counts
    return {"size": [SIZE, SIZE], "counts": counts}


def _gt(crowd: bool = False) -> dict:
    anns = [(1, 1, CAT, A), (2, 2, DOG, B), (3, 3, CAT, C)]
    gt = {"images": [{"id": i, "file_name": f"{i}.jpg", "width": SIZE, "height": SIZE} for i in (1, 2, 3)],
          "categories": [{"id": CAT, "name": "cat"}, {"id": DOG, "name": "dog"}],
          "annotations": [{"id": i, "image_id": img, "category_id": cat, "bbox": box, "segmentation": _poly(box),
                           "area": float(box[2] * box[3]), "iscrowd": 0} for i, img, cat, box in anns]}
    if crowd:  # a crowd of cats at FAR on image 3
        gt["annotations"].append({"id": 4, "image_id": 3, "category_id": CAT, "bbox": FAR, "iscrowd": 1,
                                  "segmentation": _uncompressed_rle(FAR), "area": float(FAR[2] * FAR[3])})
    return gt


def _det(image, cat, box, score) -> dict:
    return {"image_id": image, "category_id": cat, "bbox": box, "segmentation": _rle(box), "score": score}


PERFECT = [_det(1, CAT, A, 0.8), _det(2, DOG, B, 0.6), _det(3, CAT, C, 0.5)]


def _scenario(name: str) -> list[dict]:
    dets = copy.deepcopy(PERFECT)
    if name == "Loc":  # A found with the right class, badly localised
        dets[0] = _det(1, CAT, A_SHIFTED, 0.9)
    elif name == "Cls":  # A's box, called a dog
        dets[0] = _det(1, DOG, A, 0.9)
    elif name == "Both":  # an extra dog, badly localised on cat A
        dets.append(_det(1, DOG, A_SHIFTED, 0.9))
    elif name == "Dupe":  # a second detection of A, below A's own
        dets.append(_det(1, CAT, A_NEAR, 0.7))
    elif name == "Bkg":  # a cat where there is nothing
        dets.append(_det(1, CAT, FAR, 0.9))
    elif name == "Miss":  # C never detected
        del dets[2]
    else:
        assert name == "perfect"
    return dets


# Which special errors each scenario must show: FalsePos where a false positive outranks a true positive
# of its class, FalseNeg where a ground truth stays unmatched.
SPECIAL = {"perfect": set(), "Loc": {"FalsePos", "FalseNeg"}, "Cls": {"FalsePos", "FalseNeg"},
           "Both": {"FalsePos"}, "Dupe": {"FalsePos"}, "Bkg": {"FalsePos"}, "Miss": {"FalseNeg"}}


def _write(tmp_path, gt: dict, dets) -> tuple:
    gt_path, det_path = tmp_path / "instances_val.json", tmp_path / "dets.json"
    gt_path.write_text(json.dumps(gt))
    det_path.write_text(json.dumps(dets))
    return gt_path, det_path


def _coco_ap50(gt_path, det_path, mode: str) -> float:
    coco = COCO(str(gt_path))
    dets = json.loads(det_path.read_text())
    if mode == "bbox":  # loadRes would take the masks' boxes otherwise
        dets = [{k: v for k, v in d.items() if k != "segmentation"} for d in dets]
    ev = COCOeval(coco, coco.loadRes(dets), mode)
    ev.params.iouThrs = np.array([0.5])
    ev.evaluate()
    ev.accumulate()
    precision = ev.eval["precision"][0, :, :, 0, -1]  # [recall, category] at area all, maxDets 100
    return float(np.mean([p.mean() for p in precision.T if (p > -1).all()]) * 100)


@pytest.mark.parametrize("mode", ["bbox", "segm"])
@pytest.mark.parametrize("scenario", ["perfect", "Loc", "Cls", "Both", "Dupe", "Bkg", "Miss"])
def test_each_error_type_alone(tmp_path, scenario, mode):
    gt_path, det_path = _write(tmp_path, _gt(), _scenario(scenario))
    result = analyze(gt_path, det_path, mode)

    positive = {k for k, v in result["main_errors"].items() if v > 1e-9}
    assert positive == (set() if scenario == "perfect" else {scenario}), result["main_errors"]
    assert all(v == 0 for k, v in result["main_errors"].items() if k != scenario)
    assert {k for k, v in result["special_errors"].items() if v > 1e-9} == SPECIAL[scenario], result["special_errors"]
    assert all(v >= 0 for v in result["special_errors"].values())
    assert {k for k, n in result["counts"].items() if n} == (set() if scenario == "perfect" else {scenario})
    if scenario == "perfect":
        assert result["AP50"] == pytest.approx(100.0)
        assert result["main_error_share"] == dict.fromkeys(MAIN_ERRORS, 0.0)
    else:
        assert result["AP50"] < 100.0
        assert result["main_error_share"][scenario] == pytest.approx(1.0)
        # Fixing the only error type recovers all of the lost AP in these scenarios.
        assert result["main_errors"][scenario] == pytest.approx(100.0 - result["AP50"])
    # TIDE's AP50 is COCOeval's AP50 (TIDE claims parity with pycocotools; checked here on our own data).
    assert result["AP50"] == pytest.approx(_coco_ap50(gt_path, det_path, mode), abs=1e-6)
    assert (result["mode"], result["images"], result["gt_instances"]) == (mode, 3, 3)
    assert result["detections"] == len(_scenario(scenario))


def test_loc_values_by_hand(tmp_path):
    """Loc scenario, worked out: cat has [FP 0.9, TP C 0.5] against 2 ground truths, so precision 0.5 up to
    recall 0.5 and 0 beyond: 51 of COCO's 101 recall points at 0.5, AP 25.2475...; dog is perfect (100)."""
    gt_path, det_path = _write(tmp_path, _gt(), _scenario("Loc"))
    result = analyze(gt_path, det_path, "bbox")
    cat_ap = 51 / 101 * 0.5 * 100
    assert result["AP50"] == pytest.approx((cat_ap + 100) / 2)
    assert result["main_errors"]["Loc"] == pytest.approx(100 - (cat_ap + 100) / 2)
    # FalseNeg: A dropped from the ground truth, cat is [FP, TP] against 1: precision 0.5 at every recall.
    assert result["special_errors"]["FalseNeg"] == pytest.approx((50 + 100) / 2 - (cat_ap + 100) / 2)
    # FalsePos: the FP scored last, cat is [TP, FP]: precision 1 up to recall 0.5 (51 points), then 0.
    assert result["special_errors"]["FalsePos"] == pytest.approx((51 / 101 * 100 + 100) / 2 - result["AP50"])


@pytest.mark.parametrize("mode", ["bbox", "segm"])
def test_crowd_region_ignores_what_it_covers(tmp_path, mode):
    """A detection inside a crowd region is neither a true nor a false positive: AP stays 100 and no dAP
    moves (tidecv still counts it as an error, a Bkg here, which fixes nothing)."""
    dets = copy.deepcopy(PERFECT) + [_det(3, CAT, FAR, 0.95)]
    gt_path, det_path = _write(tmp_path, _gt(crowd=True), dets)
    result = analyze(gt_path, det_path, mode)
    assert result["AP50"] == pytest.approx(100.0)
    assert result["main_errors"] == dict.fromkeys(MAIN_ERRORS, 0.0)
    assert result["special_errors"] == {"FalsePos": 0.0, "FalseNeg": 0.0}
    assert result["crowd_regions"] == 1 and result["gt_instances"] == 3


def test_side_effects_contained(tmp_path, monkeypatch):
    import os

    import matplotlib

    monkeypatch.delenv("TIDE_PATH", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "home/.local/share"))
    before = dict(matplotlib.rcParams)
    gt_path, det_path = _write(tmp_path, _gt(), _scenario("Bkg"))
    analyze(gt_path, det_path, "bbox")
    assert dict(matplotlib.rcParams) == before
    assert "TIDE_PATH" not in os.environ
    assert not (tmp_path / "home").exists()


# ---------------------------------------------------------------------------------------------------- CLI

@pytest.mark.parametrize("mode", ["bbox", "segm"])
def test_cli_writes_json(tmp_path, capsys, mode):
    gt_path, det_path = _write(tmp_path, _gt(), _scenario("Dupe"))
    out = tmp_path / "out/errors.json"
    assert main(["--gt", str(gt_path), "--detections", str(det_path), "--mode", mode, "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    assert list(result["main_errors"]) == list(MAIN_ERRORS)
    assert list(result["special_errors"]) == ["FalsePos", "FalseNeg"]
    assert result["main_errors"]["Dupe"] > 0 and result["mode"] == mode
    assert result["tidecv"] == "1.0.1" and result["scale"] == "AP points, 0-100"
    assert f"{mode} AP50" in capsys.readouterr().out
    assert [p.name for p in out.parent.iterdir()] == ["errors.json"]  # no temporary file left


def _bbox_only(dets):
    return [{k: v for k, v in d.items() if k != "segmentation"} for d in dets]


BAD = {
    "foreign image": (_gt(), PERFECT + [_det(7, CAT, A, 0.3)], "bbox", "image ids the ground truth does not have"),
    "empty": (_gt(), [], "bbox", "empty"),
    "segm lacking": (_gt(), _bbox_only(PERFECT), "segm", "no 'segmentation'"),
    "bbox lacking": (_gt(), [{k: v for k, v in d.items() if k != "bbox"} for d in PERFECT], "bbox", "no 'bbox'"),
    "unknown category": (_gt(), PERFECT + [_det(1, 9, A, 0.3)], "bbox", "category ids"),
    "mask size": (_gt(), [dict(PERFECT[0], segmentation={"size": [50, 50], "counts": "PPY8"})], "segm",
                  "size [50, 50]"),
    "polygon masks": (_gt(), [dict(PERFECT[0], segmentation=_poly(A))], "segm", "compressed RLE"),
    "not a coco gt": ({"images": []}, PERFECT, "bbox", "not a COCO annotation file"),
    "no annotations": (dict(_gt(), annotations=[]), PERFECT, "bbox", "no (non-crowd) annotations"),
    "not a list": (_gt(), {"image_id": 1}, "bbox", "not a JSON list"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_cli_bad_input(tmp_path, capsys, case):
    gt, dets, mode, expected = BAD[case]
    gt_path, det_path = _write(tmp_path, gt, dets)
    out = tmp_path / "errors.json"
    assert main(["--gt", str(gt_path), "--detections", str(det_path), "--mode", mode, "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and expected in err[0], err
    assert ": pass" in err[0] or ": use" in err[0]  # names the fix
    assert not out.exists()
    with pytest.raises(InputError):
        check_inputs(gt, dets, mode)


def test_cli_missing_file(tmp_path, capsys):
    out = tmp_path / "errors.json"
    gt_path, _ = _write(tmp_path, _gt(), PERFECT)
    assert main(["--gt", str(gt_path), "--detections", str(tmp_path / "nope.json"), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: detections") and "does not exist: pass an existing file" in err
    assert not out.exists()


def test_a_ground_truth_without_masks_works_in_box_mode_only(tmp_path, capsys):
    """VOC-layout data converted to COCO format has `segmentation: []`; tidecv's loader would fail on it."""
    gt = _gt()
    with_masks = analyze(*_write(tmp_path, gt, _scenario("Loc")), "bbox")
    for ann in gt["annotations"]:
        ann["segmentation"] = []
    gt_path, det_path = _write(tmp_path, gt, _scenario("Loc"))
    assert analyze(gt_path, det_path, "bbox")["main_errors"] == with_masks["main_errors"]
    assert json.loads(gt_path.read_text())["annotations"][0]["segmentation"] == []  # the file is left alone
    with pytest.raises(InputError, match=r"3 ground-truth annotations have no instance mask .* use --mode bbox"):
        analyze(gt_path, det_path, "segm")
