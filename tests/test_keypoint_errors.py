"""Keypoint error analysis (lthsteps.keypoint_errors) on hand-made persons whose errors are known exactly."""
from __future__ import annotations

import contextlib
import copy
import io
import json
import math

import numpy as np
import pytest

from lthsteps.keypoint_errors import analyze, coco_from_dataset, correct, evaluate, flip_map, main, match
from lthsteps.keypoint_errors.core import SIGMAS

NAMES = ["nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder", "right_shoulder", "left_elbow",
         "right_elbow", "left_wrist", "right_wrist", "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle",
         "right_ankle"]
# A person facing the camera in a 100 x 200 box: left keypoints at larger x.
POSE = [(50, 20), (60, 12), (40, 12), (70, 16), (30, 16), (80, 50), (20, 50), (90, 90), (10, 90), (95, 130),
        (5, 130), (70, 120), (30, 120), (72, 160), (28, 160), (74, 195), (26, 195)]
# (annotation id, image, x offset, area); person 3 has its left ear (index 3) invisible.
PERSONS = [(1, 1, 0, 10000.0), (2, 1, 300, 10000.0), (3, 2, 0, 20000.0), (4, 2, 300, 15000.0)]
SCORES = {1: 0.9, 2: 0.8, 3: 0.7, 4: 0.6}
VISIBLE = 17 * 3 + 16
LWRIST, RWRIST, LKNEE, NOSE = 9, 10, 13, 0


def _kps(id_, dx):
    kps = []
    for j, (x, y) in enumerate(POSE):
        kps += [0, 0, 0] if (id_, j) == (3, 3) else [x + dx, y, 2]
    return kps


def _gt() -> dict:
    anns = [{"id": i, "image_id": img, "category_id": 1, "keypoints": _kps(i, dx),
             "num_keypoints": 16 if i == 3 else 17, "area": area, "bbox": [dx, 0, 100, 200], "iscrowd": 0}
            for i, img, dx, area in PERSONS]
    return {"images": [{"id": 1, "width": 640, "height": 480}, {"id": 2, "width": 640, "height": 480}],
            "annotations": anns,
            "categories": [{"id": 1, "name": "person", "keypoints": NAMES, "skeleton": [[16, 14], [14, 12]]}]}


def _perfect() -> list[dict]:
    """One exact copy of each person; keypoint scores 1."""
    dets = []
    for i, img, dx, _ in PERSONS:
        kps = _kps(i, dx)
        kps[2::3] = [1.0] * 17
        dets.append({"image_id": img, "category_id": 1, "keypoints": kps, "score": SCORES[i]})
    return dets


def _set(det, j, x, y):
    det["keypoints"][3 * j:3 * j + 2] = [x, y]


def _shift_for(ks, j, area):
    """The distance at which keypoint j of a person of ``area`` has similarity ``ks`` (COCOeval's formula)."""
    return math.sqrt(-math.log(ks) * 2 * (2 * SIGMAS[j]) ** 2 * area)


def _counts(result) -> dict:
    return dict(zip(result["counts"]["error"], result["counts"]["count"]))


def _ap(result, mode="original", fix="none"):
    row = result["ap"].query("mode == @mode and fix == @fix")
    return float(row["AP"].iloc[0]), float(row["AP50"].iloc[0])


def test_perfect_copy_is_all_good_with_ap_one():
    result = analyze(_gt(), _perfect())
    assert _counts(result) == {"good": VISIBLE, "jitter": 0, "inversion": 0, "swap": 0, "miss": 0}
    assert result["counts"]["percent"].tolist() == [100.0, 0, 0, 0, 0]
    assert _ap(result) == (1.0, 1.0)
    assert result["totals"]["background_fp"] == 0 and result["totals"]["false_negatives"] == 0
    assert (result["ap"][["AP", "AP50"]] == 1.0).all().all()
    pr = result["pr"]
    assert len(pr) == 13 * 2 * 101 and (pr["precision"] == 1.0).all()


def test_flip_map_pairs_left_and_right():
    assert flip_map(NAMES).tolist() == [0, 2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15]
    with pytest.raises(ValueError, match="'left_paw' has no 'right_paw'"):
        flip_map(["nose", "left_paw"])


def test_one_jitter_and_its_correction():
    dets = _perfect()
    _set(dets[0], LKNEE, POSE[LKNEE][0] + _shift_for(0.7, LKNEE, 10000.0), POSE[LKNEE][1])
    result = analyze(_gt(), dets)
    assert _counts(result) == {"good": VISIBLE - 1, "jitter": 1, "inversion": 0, "swap": 0, "miss": 0}
    row = result["keypoints"].query("error == 'jitter'").iloc[0]
    assert (row["detection"], row["gt_id"], row["name"]) == (0, 1, "left_knee")
    assert row["ks"] == pytest.approx(0.7, abs=1e-12)
    fixed = analyze(_gt(), correct(dets, result["keypoints"], {"jitter"}))
    assert _counts(fixed)["good"] == VISIBLE and _counts(fixed)["jitter"] == 0
    assert _ap(result, "individual", "jitter") >= _ap(result)


def test_jitter_everywhere_lowers_ap_and_fixing_it_restores_it():
    dets = _perfect()
    for j, (x, y) in enumerate(POSE):  # every keypoint of person 1 at ks 0.72: OKS 0.72
        _set(dets[0], j, x + (1 if j % 2 else -1) * _shift_for(0.72, j, 10000.0), y)
    result = analyze(_gt(), dets)
    assert _counts(result)["jitter"] == 17
    # OKS 0.50-0.70: all matched; 0.75-0.95: person 1 missed, its detection a false positive scored first
    # (precision 3/4 up to recall 3/4: 76 of the 101 recall points).
    assert _ap(result) == pytest.approx(((5 * 1.0 + 5 * 0.75 * 76 / 101) / 10, 1.0), abs=1e-12)
    for mode in ("individual", "cumulative"):
        assert _ap(result, mode, "jitter") == (1.0, 1.0)
    assert _ap(result, "individual", "miss") == _ap(result)


def test_swapped_wrists_are_two_inversions():
    dets = _perfect()
    _set(dets[0], LWRIST, *POSE[RWRIST])
    _set(dets[0], RWRIST, *POSE[LWRIST])
    result = analyze(_gt(), dets)
    assert _counts(result) == {"good": VISIBLE - 2, "jitter": 0, "inversion": 2, "swap": 0, "miss": 0}
    assert sorted(result["keypoints"].query("error == 'inversion'")["name"]) == ["left_wrist", "right_wrist"]
    assert _counts(analyze(_gt(), correct(dets, result["keypoints"], {"inversion"})))["good"] == VISIBLE


def test_keypoint_on_another_person_is_a_swap():
    dets = _perfect()
    _set(dets[0], LKNEE, POSE[LKNEE][0] + 300, POSE[LKNEE][1])  # person 2's left knee
    result = analyze(_gt(), dets)
    assert _counts(result) == {"good": VISIBLE - 1, "jitter": 0, "inversion": 0, "swap": 1, "miss": 0}
    row = result["keypoints"].query("error == 'swap'").iloc[0]
    assert (row["detection"], row["gt_id"], row["other_gt_id"], row["keypoint"]) == (0, 1, 2, LKNEE)


def test_far_keypoint_is_a_miss():
    dets = _perfect()
    _set(dets[2], NOSE, 600, 450)
    result = analyze(_gt(), dets)
    assert _counts(result) == {"good": VISIBLE - 1, "jitter": 0, "inversion": 0, "swap": 0, "miss": 1}
    assert result["keypoints"].query("error == 'miss'")[["detection", "gt_id", "name"]].values.tolist() == \
        [[2, 3, "nose"]]


def test_invisible_keypoints_are_not_classified():
    dets = _perfect()
    _set(dets[2], 3, 600, 450)  # person 3's left ear is not visible in the ground truth
    result = analyze(_gt(), dets)
    assert _counts(result)["good"] == VISIBLE and result["totals"]["keypoints"] == VISIBLE


def test_background_false_positive():
    dets = _perfect()
    empty = copy.deepcopy(dets[0])
    empty["keypoints"] = [v + 2000 if k % 3 < 2 else v for k, v in enumerate(empty["keypoints"])]
    empty["score"] = 0.95
    result = analyze(_gt(), dets + [empty])
    assert result["background_fp"].to_dict(orient="records") == [{"detection": 4, "image_id": 1, "score": 0.95}]
    assert _counts(result)["good"] == VISIBLE
    assert _ap(result) == pytest.approx((0.8, 0.8), abs=1e-12)  # FP first: precision 4/5 at every recall
    assert _ap(result, "individual", "background_fp") == (1.0, 1.0)


def test_false_negative():
    result = analyze(_gt(), _perfect()[:3])
    assert result["false_negatives"].to_dict(orient="records") == [{"gt_id": 4, "image_id": 2}]
    assert _ap(result) == pytest.approx((76 / 101, 76 / 101), abs=1e-12)  # recall stops at 3/4
    assert _ap(result, "individual", "false_negatives") == (1.0, 1.0)
    assert _ap(result, "cumulative", "false_negatives") == (1.0, 1.0)


def test_all_errors_at_once_and_matching_equals_cocoeval():
    dets = _perfect()
    _set(dets[0], LKNEE, POSE[LKNEE][0] + _shift_for(0.6, LKNEE, 10000.0), POSE[LKNEE][1])  # jitter
    _set(dets[0], LWRIST, *POSE[RWRIST])  # 2 inversions
    _set(dets[0], RWRIST, *POSE[LWRIST])
    _set(dets[1], NOSE, POSE[NOSE][0], POSE[NOSE][1])  # person 2's nose on person 1's: swap
    _set(dets[2], NOSE, 600, 450)  # miss
    duplicate = copy.deepcopy(dets[1]) | {"score": 0.5}  # a second detection of person 2: background FP
    dets = dets[:3] + [duplicate]  # person 4 undetected: FN
    result = analyze(_gt(), dets)
    assert _counts(result) == {"good": 50 - 5, "jitter": 1, "inversion": 2, "swap": 1, "miss": 1}
    assert result["keypoints"].query("error == 'swap'")[["gt_id", "other_gt_id"]].values.tolist() == [[2, 1]]
    assert result["background_fp"]["detection"].tolist() == [3]
    assert result["false_negatives"]["gt_id"].tolist() == [4]
    assert result["totals"] == {"detections": 4, "evaluated": 4, "not_evaluated": 0, "matched": 3,
                                "matched_ignored": 0, "background_fp": 1, "false_negatives": 1, "keypoints": 50}
    # the matching is COCOeval's own: a fresh COCOeval's dtMatches at OKS 0.5, area "all"
    gt = coco_from_dataset(_gt())
    with contextlib.redirect_stdout(io.StringIO()):
        ev = evaluate(gt, dets, 1)
    matched, ignored, missed = match(ev)
    assert matched == {0: 1, 1: 2, 2: 3, 3: 0} and not ignored and missed == [4]
    for e in ev.evalImgs:
        if e is not None and e["aRng"] == ev.params.areaRng[0]:
            assert [matched[d - 1] for d in e["dtIds"]] == e["dtMatches"][0].astype(int).tolist()
    ap = result["ap"].set_index(["mode", "fix"])["AP"]
    cumulative = ap.loc["cumulative"].tolist()
    assert cumulative == sorted(cumulative) and cumulative[-1] == 1.0  # every fix helps; all fixed: perfect
    everything = correct(dets, result["keypoints"], {"miss", "swap", "inversion", "jitter"})
    assert _counts(analyze(_gt(), everything))["good"] == 50


@pytest.mark.parametrize("case, message", [
    ("unknown_image", "image ids of the detections are not in the ground truth"),
    ("no_keypoints", "categories with keypoint names"),
    ("empty", "the detections are empty"),
])
def test_cli_bad_input_writes_nothing(tmp_path, capsys, case, message):
    gt, dets = _gt(), _perfect()
    if case == "unknown_image":
        dets[0]["image_id"] = 99
    elif case == "no_keypoints":
        del gt["categories"][0]["keypoints"]
    else:
        dets = []
    (tmp_path / "gt.json").write_text(json.dumps(gt))
    (tmp_path / "dt.json").write_text(json.dumps(dets))
    out = tmp_path / "out"
    assert main(["--gt", str(tmp_path / "gt.json"), "--detections", str(tmp_path / "dt.json"),
                 "--out", str(out / "errors.json"), "--pr-csv", str(out / "pr.csv")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and err.count("\n") == 1
    assert not out.exists()


def test_cli_writes_json_and_pr_csv(tmp_path):
    (tmp_path / "gt.json").write_text(json.dumps(_gt()))
    (tmp_path / "dt.json").write_text(json.dumps(_perfect()[:3]))
    assert main(["--gt", str(tmp_path / "gt.json"), "--detections", str(tmp_path / "dt.json"),
                 "--out", str(tmp_path / "errors.json"), "--pr-csv", str(tmp_path / "pr.csv")]) == 0
    summary = json.loads((tmp_path / "errors.json").read_text())
    assert summary["totals"]["false_negatives"] == 1 and summary["counts"][0] == {
        "error": "good", "count": 17 * 2 + 16, "percent": 100.0}
    assert summary["by_keypoint"]["left_ear"]["good"] == 2 and len(summary["ap"]) == 13
    lines = (tmp_path / "pr.csv").read_text().splitlines()
    assert lines[0] == "mode,fix,oks,recall,precision" and len(lines) == 1 + 13 * 2 * 101
    assert np.isclose(SIGMAS, np.array(summary["settings"]["sigmas"])).all()
