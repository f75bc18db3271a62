"""Core of :mod:`lthsteps.keypoint_errors`: matching, error classification, corrections, AP and PR
curves (definitions in the package docstring). Pure functions of in-memory COCO data; user errors
raise ``ValueError``."""
from __future__ import annotations

import contextlib
import copy
import io
import numbers

import numpy as np
import pandas as pd
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval, Params

ERRORS = ("good", "jitter", "inversion", "swap", "miss")
FIXES = ("miss", "swap", "inversion", "jitter")  # the order of the cumulative corrections
GOOD_KS, MATCH_KS = 0.85, 0.5
SIGMAS = Params(iouType="keypoints").kpt_oks_sigmas
VARS = (SIGMAS * 2) ** 2


def _quiet():
    return contextlib.redirect_stdout(io.StringIO())


def coco_from_dataset(dataset: dict) -> COCO:
    """A pycocotools COCO built in memory from a (deep-copied) COCO dataset dict."""
    coco = COCO()
    coco.dataset = copy.deepcopy(dataset)
    with _quiet():
        coco.createIndex()
    return coco


def keypoint_category(gt: COCO) -> dict:
    """The one category of ``gt`` that names its keypoints (17, as COCOeval's sigmas)."""
    cats = [c for c in gt.dataset.get("categories", []) if c.get("keypoints")]
    if len(cats) != 1:
        raise ValueError(f"the ground truth has {len(cats)} categories with keypoint names, not 1: pass a COCO "
                         "person keypoints annotation file (e.g. person_keypoints_val2017.json)")
    if len(cats[0]["keypoints"]) != len(SIGMAS):
        raise ValueError(f"category {cats[0].get('name')!r} names {len(cats[0]['keypoints'])} keypoints; COCOeval's "
                         f"OKS sigmas are for the {len(SIGMAS)} COCO keypoints: pass a COCO keypoints ground truth")
    return cats[0]


def flip_map(names: list[str]) -> np.ndarray:
    """Index of each keypoint's left/right mate (itself for a name without ``left_``/``right_``)."""
    index = {name: i for i, name in enumerate(names)}
    flip = list(range(len(names)))
    for i, name in enumerate(names):
        for side, other in (("left_", "right_"), ("right_", "left_")):
            if name.startswith(side):
                mate = other + name[len(side):]
                if mate not in index:
                    raise ValueError(f"keypoint {name!r} has no {mate!r} among the ground truth's keypoint names "
                                     "(left/right keypoints must come in pairs): fix the category's 'keypoints'")
                flip[i] = index[mate]
    return np.array(flip)


def check_inputs(gt: COCO, detections: list) -> dict:
    """Raise ValueError naming the problem and the fix; return the keypoint category."""
    cat = keypoint_category(gt)
    k = len(cat["keypoints"])
    anns = gt.loadAnns(gt.getAnnIds(catIds=[cat["id"]]))
    if not anns or any(len(a.get("keypoints") or []) != 3 * k or "num_keypoints" not in a for a in anns):
        raise ValueError(f"the ground truth's {cat.get('name')!r} annotations lack 'keypoints' [x,y,v]*{k} or "
                         "'num_keypoints': pass a COCO person keypoints annotation file")
    if not isinstance(detections, list) or not detections:
        raise ValueError("the detections are empty (or not a JSON list): pass a COCO results file "
                         '[{"image_id", "category_id", "keypoints", "score"}, ...] with at least one detection')
    for i, d in enumerate(detections):
        if not isinstance(d, dict) or len(d.get("keypoints") or []) != 3 * k \
                or not isinstance(d.get("score"), numbers.Real):
            raise ValueError(f"detection {i} lacks 'keypoints' [x,y,score]*{k} or a numeric 'score': pass "
                             "keypoint detections in COCO results format")
        if d.get("category_id") != cat["id"]:
            raise ValueError(f"detection {i} has category_id {d.get('category_id')!r}, not the keypoint category "
                             f"{cat['id']}: keep only the person keypoint detections")
    unknown = sorted({d["image_id"] for d in detections} - set(gt.getImgIds()), key=str)
    if unknown:
        raise ValueError(f"{len(unknown)} image ids of the detections are not in the ground truth (e.g. "
                         f"{unknown[:3]}): pass the ground truth of the split the detections were made on")
    return cat


def evaluate(gt: COCO, detections: list[dict], cat_id: int) -> COCOeval:
    """COCOeval (keypoints, evaluated and accumulated) of ``detections``; their ids are index + 1."""
    with _quiet():
        ev = COCOeval(gt, gt.loadRes(copy.deepcopy(detections)), iouType="keypoints")
        ev.params.catIds = [cat_id]
        ev.evaluate()
        ev.accumulate()
    return ev


def match(ev: COCOeval) -> tuple[dict[int, int], set[int], list[int]]:
    """COCOeval's matching at OKS 0.5, area "all": ({detection index: matched gt id or 0}, indices
    matched to ignored persons, ids of the non-ignored persons matched by none)."""
    p = ev.params
    assert np.isclose(p.iouThrs[0], MATCH_KS)
    matched, ignored, missed = {}, set(), []
    for e in ev.evalImgs:
        if e is None or e["aRng"] != p.areaRng[0] or e["maxDet"] != p.maxDets[-1]:
            continue
        for dt_id, gt_id, ig in zip(e["dtIds"], e["dtMatches"][0], e["dtIgnore"][0]):
            matched[dt_id - 1] = int(gt_id)
            if ig:
                ignored.add(dt_id - 1)
        missed += [g for g, m, ig in zip(e["gtIds"], e["gtMatches"][0], e["gtIgnore"]) if not ig and m == 0]
    return matched, ignored, missed


def _ks(xy, person_xy, j, area):
    d2 = float(((np.asarray(xy) - person_xy) ** 2).sum())
    return float(np.exp(-d2 / VARS[j] / (area + np.spacing(1)) / 2))


def classify(gt: COCO, detections: list[dict], matched: dict[int, int], ignored: set[int], cat: dict) -> pd.DataFrame:
    """One row per visible keypoint of each matched detection: its ks, error type and the ground truth
    position it should have (``gt_x``, ``gt_y``); ``other_gt_id`` is the swapped-with person (else 0)."""
    flip, rows = flip_map(cat["keypoints"]), []
    for i, gt_id in sorted(matched.items()):
        if not gt_id or i in ignored:
            continue
        det, person = detections[i], gt.anns[gt_id]
        xy = np.asarray(det["keypoints"], float).reshape(-1, 3)[:, :2]
        kp = np.asarray(person["keypoints"], float).reshape(-1, 3)
        others = [gt.anns[a] for a in gt.getAnnIds(imgIds=[det["image_id"]], catIds=[cat["id"]]) if a != gt_id]
        for j in np.flatnonzero(kp[:, 2] > 0):
            ks, other = _ks(xy[j], kp[j, :2], j, person["area"]), 0
            if ks >= GOOD_KS:
                error = "good"
            elif ks >= MATCH_KS:
                error = "jitter"
            elif kp[flip[j], 2] > 0 and _ks(xy[j], kp[flip[j], :2], flip[j], person["area"]) >= MATCH_KS:
                error = "inversion"
            else:
                swaps = [(_ks(xy[j], o["keypoints"][3 * j:3 * j + 2], j, o["area"]), o["id"]) for o in others
                         if o["keypoints"][3 * j + 2] > 0]
                best = max(swaps, default=(0.0, 0))
                error, other = ("swap", best[1]) if best[0] >= MATCH_KS else ("miss", 0)
            rows.append({"detection": i, "image_id": det["image_id"], "gt_id": gt_id, "keypoint": int(j),
                         "name": cat["keypoints"][j], "ks": ks, "error": error, "other_gt_id": other,
                         "gt_x": float(kp[j, 0]), "gt_y": float(kp[j, 1])})
    columns = ["detection", "image_id", "gt_id", "keypoint", "name", "ks", "error", "other_gt_id", "gt_x", "gt_y"]
    return pd.DataFrame(rows, columns=columns)


def correct(detections: list[dict], keypoints: pd.DataFrame, errors) -> list[dict]:
    """A copy of ``detections`` with every keypoint whose error is in ``errors`` moved onto its ground truth."""
    out = copy.deepcopy(detections)
    for r in keypoints[keypoints["error"].isin(list(errors))].itertuples():
        kps = out[r.detection]["keypoints"] = list(out[r.detection]["keypoints"])
        kps[3 * r.keypoint], kps[3 * r.keypoint + 1] = r.gt_x, r.gt_y
    return out


def _ap_and_pr(ev: COCOeval | None) -> tuple[dict, np.ndarray]:
    """(AP over OKS .50:.95 and AP50, as COCOeval's summarize), and precision [threshold, recall point]."""
    if ev is None:  # nothing left to evaluate: no recall, no precision
        return {"AP": 0.0, "AP50": 0.0}, np.zeros((len(Params(iouType="keypoints").iouThrs), 101))
    prec = ev.eval["precision"][:, :, 0, 0, -1]  # one category, area "all", maxDets 20

    def mean(s):
        return float(s[s > -1].mean()) if (s > -1).any() else -1.0
    return {"AP": mean(prec), "AP50": mean(prec[0])}, prec


def steps() -> list[tuple[str, str, frozenset]]:
    """(mode, fix, set of fixes applied) for the original, each fix alone, and the cumulative fixes."""
    every = FIXES + ("background_fp", "false_negatives")
    return ([("original", "none", frozenset())] + [("individual", f, frozenset([f])) for f in every]
            + [("cumulative", f, frozenset(every[:i + 1])) for i, f in enumerate(every)])


def analyze(gt: COCO | dict, detections: list[dict]) -> dict:
    """The whole analysis: counts, by_keypoint, keypoints, background_fp, false_negatives, ap, pr (DataFrames)
    and totals. ``gt``: a COCO or a COCO dataset dict; ``detections``: COCO keypoint results."""
    gt = gt if isinstance(gt, COCO) else coco_from_dataset(gt)
    cat = check_inputs(gt, detections)
    ev = evaluate(gt, detections, cat["id"])
    matched, ignored, missed = match(ev)
    kps = classify(gt, detections, matched, ignored, cat)
    fps = [i for i, g in sorted(matched.items()) if not g]
    counts = kps["error"].value_counts().reindex(list(ERRORS), fill_value=0)
    counts = pd.DataFrame({"error": list(ERRORS), "count": counts.to_numpy(),
                           "percent": 100 * counts.to_numpy() / max(len(kps), 1)})
    ignore_fn, missed_set, fp_set = copy.deepcopy(gt.dataset), set(missed), set(fps)
    for a in ignore_fn["annotations"]:
        if a["id"] in missed_set:
            a["num_keypoints"] = 0
    gt_fn, cache, ap_rows, pr_rows = coco_from_dataset(ignore_fn), {}, [], []
    recall = Params(iouType="keypoints").recThrs
    for mode, fix, fixes in steps():
        if fixes not in cache:
            dets = correct(detections, kps, fixes & set(FIXES))
            if "background_fp" in fixes:
                dets = [d for i, d in enumerate(dets) if i not in fp_set]
            truth = gt_fn if "false_negatives" in fixes else gt
            cache[fixes] = _ap_and_pr(evaluate(truth, dets, cat["id"]) if dets else None)
        ap, prec = cache[fixes]
        ap_rows.append({"mode": mode, "fix": fix, **ap})
        for oks, p in (("0.5", prec[0]), ("0.50:0.95", np.where(prec > -1, prec, np.nan).mean(0))):
            pr_rows += [{"mode": mode, "fix": fix, "oks": oks, "recall": r, "precision": v} for r, v in zip(recall, p)]
    return {
        "counts": counts, "by_keypoint": pd.crosstab(kps["name"], kps["error"]).reindex(
            index=cat["keypoints"], columns=list(ERRORS), fill_value=0),
        "keypoints": kps, "ap": pd.DataFrame(ap_rows), "pr": pd.DataFrame(pr_rows),
        "background_fp": pd.DataFrame([{"detection": i, "image_id": detections[i]["image_id"],
                                        "score": float(detections[i]["score"])} for i in fps],
                                      columns=["detection", "image_id", "score"]),
        "false_negatives": pd.DataFrame([{"gt_id": g, "image_id": gt.anns[g]["image_id"]} for g in missed],
                                        columns=["gt_id", "image_id"]),
        "totals": {"detections": len(detections), "evaluated": len(matched), "not_evaluated": len(detections)
                   - len(matched), "matched": sum(1 for i, g in matched.items() if g and i not in ignored),
                   "matched_ignored": len(ignored), "background_fp": len(fps), "false_negatives": len(missed),
                   "keypoints": len(kps)},
    }


def to_json(result: dict) -> dict:
    """The JSON-able summary written by the CLI (everything but the per-keypoint rows and PR curves)."""
    return {"totals": result["totals"], "counts": result["counts"].to_dict(orient="records"),
            "by_keypoint": {name: {e: int(n) for e, n in row.items()}
                            for name, row in result["by_keypoint"].to_dict(orient="index").items()},
            "ap": result["ap"].to_dict(orient="records"),
            "background_fp": result["background_fp"].to_dict(orient="records"),
            "false_negatives": result["false_negatives"].to_dict(orient="records"),
            "settings": {"match_oks": MATCH_KS, "good_ks": GOOD_KS,
                         "max_dets": int(Params(iouType="keypoints").maxDets[-1]),
                         "sigmas": [float(s) for s in SIGMAS], "fix_order": list(FIXES)}}
