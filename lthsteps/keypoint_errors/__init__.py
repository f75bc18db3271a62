r"""Keypoint error analysis (the paper's Fig. 9, Appendix C.2) after Ronchi & Perona, "Benchmarking and
Error Diagnosis in Multi-Instance Pose Estimation", ICCV 2017 (the paper's [43]).

    python -m lthsteps.keypoint_errors --gt person_keypoints_val2017.json \
        --detections keypoints.json --out errors.json [--pr-csv pr.csv]

No maintained package does this: the authors' ``coco-analyze`` ships its own patched copy of
pycocotools and breaks on numpy >= 1.24. This is a re-implementation on top of the real pycocotools
(``COCO``, ``COCOeval(iouType="keypoints")``): matching, AP and PR curves are COCOeval's own.

Inputs: a COCO ground truth with one category that names its ``keypoints`` (the 17 COCO keypoints;
left/right mates are paired by their ``left_``/``right_`` prefixes) and detections in COCO results
format, ``[{"image_id", "category_id", "keypoints": [x, y, score] * 17, "score"}]``.

Definitions
-----------
* Matching: COCOeval's greedy matching (highest score first, each person once) at OKS 0.5, area
  range "all", ``maxDets`` 20 per image (``evalImgs[...]["dtMatches"][0]``). Detections ranked below the
  20th of their image are not evaluated by COCOeval and not analysed here (``not_evaluated``).
* Keypoint similarity of keypoint j against a person keypoint p (COCOeval's formula):
  ``ks = exp(-d^2 / (2 * area * (2 * sigma_j)^2))``, ``area`` the ground-truth area of that person,
  sigma COCOeval's ``kpt_oks_sigmas``. Only keypoints visible in the matched person (v > 0) are classified.
* Good: ks >= 0.85. Jitter: 0.5 <= ks < 0.85. Inversion: ks < 0.5, but ks >= 0.5 against the left/right
  mate of j of the same person (visible). Swap: not an inversion, but ks >= 0.5 against keypoint j
  (visible) of another ground-truth annotation of the same image, scaled by that person's area.
  Miss: ks < 0.5 and none of these. The rules are tried in this order.
* Background false positive: an evaluated detection matched to no person at OKS 0.5 (a duplicate
  detection of an already matched person is one too). Detections matched to an ignored person (crowd,
  or no visible keypoints) are neither errors nor false positives (``matched_ignored``).
* False negative: a person that COCOeval does not ignore (not crowd, ``num_keypoints`` > 0) and that
  no detection matches at OKS 0.5.

Corrections (``ap`` and ``pr``): each error type T is fixed by moving every keypoint of type T onto
keypoint j of its matched person (the keypoint score and the detection score are kept), then
COCOeval is run again on the corrected detections. ``mode`` says how fixes combine:
``individual`` = T alone on the original detections (Fig. 9's "fix each error" curves);
``cumulative`` = miss, swap, inversion, jitter, background_fp, false_negatives fixed in that order,
each row with all the fixes up to and including its own. ``background_fp`` removes the original's
background false positives; ``false_negatives`` marks the original's false negatives as ignored (their
``num_keypoints`` set to 0, as COCOeval ignores persons without keypoints), i.e. recall counts only the
persons matched at OKS 0.5. Matches, errors and false positives/negatives are always those of the
original detections.

Output (``--out`` JSON): ``counts`` (per error: count, percent of all classified keypoints, i.e. the
visible keypoints of matched detections), ``by_keypoint`` (counts per keypoint name), ``ap`` (per mode
and fix: ``AP`` = COCO keypoint mAP over OKS 0.50:0.95, ``AP50``), ``background_fp`` (detection index
in the input list, image, score), ``false_negatives`` (annotation id, image), and the totals.
``--pr-csv``: long table ``mode, fix, oks, recall, precision`` at COCOeval's 101 recall points, ``oks``
"0.5" or "0.50:0.95" (precision averaged over the ten thresholds). Read a fix's gain as its AP minus
the original's AP: the error types whose fix gains most are what limits the model.
"""

from lthsteps.keypoint_errors.cli import main
from lthsteps.keypoint_errors.core import (ERRORS, FIXES, analyze, classify, coco_from_dataset, correct, evaluate,
                                           flip_map, match, to_json)

__all__ = ["ERRORS", "FIXES", "analyze", "classify", "coco_from_dataset", "correct", "evaluate", "flip_map",
           "main", "match", "to_json"]
