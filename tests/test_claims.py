"""lthsteps.claims: every claim module's verdicts on constructed tables (real formats, small configs), the
noise rules, the CLI's outputs and bad inputs, and every claim on the real results/ tree when it is there."""
from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest

from lthsteps.claims import (
    BY_ID, CLAIMS, FAILS, HOLDS, NOISE, NOT_PRODUCED, VERDICTS, ClaimResult, ClaimsError, check_all,
)
from lthsteps.claims.cli import main
from lthsteps.claims.core import Point, judge, noise_of, overall
from lthsteps.claims.imagenet import interpolate

REPO = Path(__file__).resolve().parents[1]
NAN = float("nan")


# ------------------------------------------------------------------ constructed tables and configs


def write(root: Path, name: str, rows: list[dict]) -> None:
    (root / "tables").mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_csv(root / "tables" / f"{name}.csv", index=False)


def row(prune, sparsity, metrics: dict, seeds=1, **extra) -> dict:
    """A row of an experiment / transfer / ablation table: ``metrics`` maps a column to mean or (mean, std)."""
    out = {"prune_percent": prune, **extra, "seeds": seeds, "network_sparsity_mean": sparsity,
           "network_sparsity_std": NAN}
    for metric, value in metrics.items():
        mean, std = value if isinstance(value, tuple) else (value, NAN)
        out[f"{metric}_mean"], out[f"{metric}_std"] = mean, std
    return out


def config(**sections) -> dict:
    """Two datasets, COCO-format and VOC-format models (real model config files, read only for their depth)."""
    base = {
        "datasets": {"coco": {"format": "coco"}, "voc": {"format": "voc"}},
        "models": {
            "m18": {"config": "config/models/mask-rcnn_r18-fpn_tiny.py", "dataset": "coco", "rewind_iter": 200},
            "m50": {"config": "config/models/mask-rcnn_r50-fpn_tiny.py", "dataset": "coco", "rewind_iter": 200},
            "fr": {"config": "config/models/faster-rcnn_r18-c4_tiny.py", "dataset": "voc", "rewind_iter": 600},
        },
        "experiments": {}, "imagenet_transfers": {}, "comparisons": {}, "task_transfers": {}, "ablations": {},
        "analyses": {},
    }
    base.update(sections)
    return base


def check(claim_id: str, cfg: dict, root: Path, noise: float = 1.0) -> ClaimResult:
    result = BY_ID[claim_id].check(cfg, root, noise)
    assert result.verdict in VERDICTS and result.claim_id == claim_id
    return result


# ------------------------------------------------------------------ the core's rules


def test_verdict_rules_and_boundaries():
    assert [judge("beats", d, 1.0) for d in (1.5, 1.0, 0.0, -1.0, -1.5)] == [HOLDS, NOISE, NOISE, NOISE, FAILS]
    assert [judge("not_below", d, 1.0) for d in (2.0, 0.0, -1.0, -1.5)] == [HOLDS, HOLDS, HOLDS, FAILS]
    assert [judge("approx", d, 1.0) for d in (-1.0, 0.5, 1.0, 1.5)] == [HOLDS, HOLDS, HOLDS, FAILS]
    assert overall([]) == NOT_PRODUCED and overall([HOLDS, HOLDS]) == HOLDS
    assert overall([HOLDS, NOISE]) == NOISE and overall([HOLDS, NOISE, FAILS]) == FAILS


def test_noise_rule_seed_std_or_threshold():
    assert noise_of([Point(1, 0.3, 2), Point(2, 0.4, 3)], 1.0) == (pytest.approx(0.5), "seeds")
    assert noise_of([Point(1, 0.3, 2), Point(2, NAN, 1)], 1.0) == (1.0, "threshold")
    assert noise_of([Point(1, 0.3, 2), Point(2, 0.4, 1)], 2.5) == (2.5, "threshold")


def test_registry_is_in_paper_order_with_quotes():
    assert len(CLAIMS) == 16 and len(BY_ID) == 16
    assert CLAIMS[0].id == "imagenet_tickets_coco_vs_voc" and CLAIMS[-1].id == "tickets_converge_faster"
    for c in CLAIMS:
        assert c.claim and c.paper_item and '"' in c.doc, c.id  # every docstring quotes the paper


# ------------------------------------------------------------------ §4.2 and Appendix A: ImageNet transfers


def _transfers(root: Path, voc_seeds=1, voc_std=NAN):
    write(root, "coco_t", [row(0, 0.0, {"bbox mAP": 30.0, "segm mAP": 27.0}),
                           row(50, 17.5, {"bbox mAP": 28.0, "segm mAP": 26.5}),
                           row(80, 28.0, {"bbox mAP": 20.0, "segm mAP": 20.0})])
    write(root, "voc_t", [row(0, 0.0, {"VOC mAP": (70.0, voc_std), "bbox mAP": 40.0}, seeds=voc_seeds),
                          row(50, 44.0, {"VOC mAP": (70.5, voc_std), "bbox mAP": 40.0}, seeds=voc_seeds),
                          row(80, 70.0, {"VOC mAP": (69.25, voc_std), "bbox mAP": 40.0}, seeds=voc_seeds),
                          row(90, 79.0, {"VOC mAP": (60.0, voc_std), "bbox mAP": 40.0}, seeds=voc_seeds)])
    return config(imagenet_transfers={
        "coco_t": {"classifier": "c", "model": "m18", "mode": "ticket", "prune_percents": [50, 80], "seeds": [0]},
        "voc_t": {"classifier": "c", "model": "fr", "mode": "ticket", "prune_percents": [50, 80, 90], "seeds": [0]}})


def test_imagenet_tickets_coco_vs_voc_threshold(tmp_path):
    cfg = _transfers(tmp_path)
    got = check("imagenet_tickets_coco_vs_voc", cfg, tmp_path)
    # COCO at 50%: bbox dense 30 − ticket 28 = 2 > 1 holds, segm 0.5 within noise; VOC 50%, 80% keep dense.
    assert got.verdict == NOISE
    assert got.numbers["COCO coco_t 50% (17.5% sparse) bbox mAP"] == {
        "a": 30.0, "b": 28.0, "diff": 2.0, "noise": 1.0, "kind": "beats", "verdict": HOLDS}
    assert got.numbers["COCO coco_t 50% (17.5% sparse) segm mAP"]["verdict"] == NOISE
    assert got.numbers["VOC voc_t 80% (70.0% sparse) VOC mAP"]["diff"] == -0.75
    assert not any("90%" in k for k in got.numbers)  # the VOC part stops at 80%
    assert got.entries == ("imagenet_transfers.coco_t", "imagenet_transfers.voc_t")
    assert got.noise_rule.startswith("threshold: --noise 1 (mAP points")
    # A smaller threshold: the segm drop now counts, the VOC 80% ticket's drop too.
    strict = check("imagenet_tickets_coco_vs_voc", cfg, tmp_path, noise=0.25)
    assert strict.verdict == FAILS and strict.numbers["VOC voc_t 80% (70.0% sparse) VOC mAP"]["verdict"] == FAILS
    assert "VOC voc_t 80% (70.0% sparse) VOC mAP: ticket 69.25 vs dense 70.00 (\u22120.75 points)" in strict.evidence


def test_imagenet_tickets_voc_seed_std_rule(tmp_path):
    cfg = _transfers(tmp_path, voc_seeds=2, voc_std=0.3)
    cfg["imagenet_transfers"].pop("coco_t")
    got = check("imagenet_tickets_coco_vs_voc", cfg, tmp_path, noise=5.0)
    # sqrt(0.3² + 0.3²) = 0.4243 < 0.75: the 80% ticket's drop is beyond the seeds' noise (threshold 5 unused).
    assert got.verdict == FAILS
    assert got.numbers["VOC voc_t 80% (70.0% sparse) VOC mAP"]["noise"] == pytest.approx(0.4243, abs=1e-4)
    assert got.noise_rule.startswith("seed std") and "COCO part not produced" in got.evidence


def test_interpolation_of_the_direct_curve():
    curve = pd.DataFrame([row(0, 0.0, {"bbox mAP": (40.0, 1.0)}, seeds=2),
                          row(80, 60.0, {"bbox mAP": (34.0, 3.0)}, seeds=2)])
    assert interpolate(curve, "bbox mAP", 30.0) == Point(37.0, 2.0, 2)
    assert interpolate(curve, "bbox mAP", 60.0) == Point(34.0, 3.0, 2)
    assert interpolate(curve, "bbox mAP", 0.0) == Point(40.0, 1.0, 2)
    assert interpolate(curve, "bbox mAP", 70.0) is None


def test_direct_beats_imagenet(tmp_path):
    write(tmp_path, "e18", [row(0, 0.0, {"bbox mAP": 40.0}), row(80, 60.0, {"bbox mAP": 34.0})])
    write(tmp_path, "coco_t", [row(0, 0.0, {"bbox mAP": 40.0}), row(50, 30.0, {"bbox mAP": 35.0}),
                               row(80, 45.0, {"bbox mAP": 35.0}), row(90, 70.0, {"bbox mAP": 30.0})])
    cfg = config(experiments={"e18": {"model": "m18", "strategy": "s", "prune_percents": [80], "seeds": [0]}},
                 imagenet_transfers={"coco_t": {"classifier": "c", "model": "m18", "mode": "ticket",
                                                "prune_percents": [50, 80, 90], "seeds": [0]}})
    got = check("direct_beats_imagenet", cfg, tmp_path)
    # At 30% the direct curve is at 37 (+2 over the ticket: holds); at 45% at 35.5 (+0.5: within noise).
    assert got.numbers["e18 vs coco_t 50% at 30.0% sparse bbox mAP"] == {
        "a": 37.0, "b": 35.0, "diff": 2.0, "noise": 1.0, "kind": "beats", "verdict": HOLDS}
    assert got.numbers["e18 vs coco_t 80% at 45.0% sparse bbox mAP"]["a"] == 35.5
    assert got.verdict == NOISE and "not compared (sparser than every direct ticket): coco_t 90%" in got.evidence
    assert got.entries == ("imagenet_transfers.coco_t", "experiments.e18")


def test_mask_transfer_like_ticket(tmp_path):
    write(tmp_path, "coco_t", [row(0, 0.0, {"bbox mAP": 40.0}), row(50, 30.0, {"bbox mAP": 35.0}),
                               row(80, 45.0, {"bbox mAP": 35.0})])
    write(tmp_path, "mask_t", [row(0, 0.0, {"bbox mAP": 40.0}), row(50, 30.0, {"bbox mAP": 35.5}),
                               row(80, 45.0, {"bbox mAP": 33.0})])
    transfer = {"classifier": "c", "model": "m18", "prune_percents": [50, 80], "seeds": [0]}
    cfg = config(imagenet_transfers={"coco_t": {**transfer, "mode": "ticket"},
                                     "mask_t": {**transfer, "mode": "mask", "strategy": "s"}})
    got = check("mask_transfer_like_ticket", cfg, tmp_path)
    assert got.numbers["mask_t vs coco_t 50% bbox mAP"]["verdict"] == HOLDS  # |0.5| <= 1
    assert got.numbers["mask_t vs coco_t 80% bbox mAP"]["diff"] == -2.0 and got.verdict == FAILS


# ------------------------------------------------------------------ §4.3 and §4.4: direct pruning


def test_direct_pruning_80(tmp_path):
    write(tmp_path, "e_voc", [row(0, 0.0, {"VOC mAP": (70.0, 0.5)}, seeds=2),
                              row(50, 44.0, {"VOC mAP": (69.0, 0.5)}, seeds=2),
                              row(90, 79.0, {"VOC mAP": (60.0, 0.5)}, seeds=2)])
    write(tmp_path, "e_high", [row(0, 0.0, {"bbox mAP": 30.0}), row(90, 80.0, {"bbox mAP": 10.0})])
    cfg = config(experiments={"e_voc": {"model": "fr", "strategy": "s", "prune_percents": [50, 90], "seeds": [0, 1]},
                              "e_high": {"model": "m18", "strategy": "s", "prune_percents": [90], "seeds": [0]}})
    got = check("direct_pruning_80", cfg, tmp_path)
    # The highest prune percent <= 80 is 50; noise sqrt(0.5² + 0.5²) = 0.7071 < 1: the drop does not hold.
    number = got.numbers["e_voc 50% (44.0% sparse) VOC mAP"]
    assert number["diff"] == -1.0 and number["noise"] == pytest.approx(0.7071) and got.verdict == FAILS
    assert "no prune percent <= 80 in: e_high" in got.evidence and got.noise_rule.startswith("seed std")
    assert check("direct_pruning_80", cfg, tmp_path, noise=0.1).verdict == FAILS  # the threshold is not used


def test_resnet50_holds_resnet18_gains(tmp_path):
    write(tmp_path, "e18", [row(0, 0.0, {"bbox mAP": 20.0}), row(80, 78.0, {"bbox mAP": 22.0}),
                            row(90, 88.0, {"bbox mAP": 15.0})])
    write(tmp_path, "e50", [row(0, 0.0, {"bbox mAP": 25.0}), row(80, 74.0, {"bbox mAP": 25.5}),
                            row(90, 83.0, {"bbox mAP": 24.0})])
    experiment = {"strategy": "s", "prune_percents": [80, 90], "seeds": [0]}
    cfg = config(experiments={"e18": {**experiment, "model": "m18"}, "e50": {**experiment, "model": "m50"}})
    got = check("resnet50_holds_resnet18_gains", cfg, tmp_path)
    held = got.numbers["holds longer, 90% bbox mAP change vs own dense (e50 vs e18)"]
    gained = got.numbers["gains more, 80% bbox mAP change vs own dense (e18 vs e50)"]
    assert (held["a"], held["b"], held["diff"]) == (-1.0, -5.0, 4.0)
    assert (gained["a"], gained["b"], gained["diff"]) == (2.0, 0.5, 1.5)
    assert got.verdict == HOLDS and got.entries == ("experiments.e18", "experiments.e50")
    cfg["experiments"]["e50"]["strategy"] = "other"  # another strategy: no pair
    assert check("resnet50_holds_resnet18_gains", cfg, tmp_path).verdict == NOT_PRODUCED


# ------------------------------------------------------------------ §4.3 ablations


def _voc_experiment(root: Path) -> dict:
    write(root, "e_voc", [row(0, 0.0, {"VOC mAP": 70.0}), row(80, 70.8, {"VOC mAP": 69.75})])
    return {"e_voc": {"model": "fr", "strategy": "s", "prune_percents": [80], "seeds": [0]}}


def test_late_resetting(tmp_path):
    experiments = _voc_experiment(tmp_path)
    write(tmp_path, "rewind", [row(0, 0.0, {"VOC mAP": 70.0}, rewind_iter=NAN),
                               row(80, 70.8, {"VOC mAP": 69.0}, rewind_iter=0.0),
                               row(80, 70.8, {"VOC mAP": 69.5}, rewind_iter=600.0)])
    entry = {"experiment": "e_voc", "setting": "rewind_iter", "values": [0, 600], "prune_percents": [80]}
    cfg = config(experiments=experiments, ablations={"rewind": entry})
    got = check("late_resetting_not_needed", cfg, tmp_path)
    assert got.verdict == HOLDS and got.numbers["rewind 80% VOC mAP"]["diff"] == -0.5
    assert "rewind to 0 69.00 vs rewind to iteration 600 69.50" in got.evidence
    # Without the model's own rewind point among the values: the experiment's own ticket (69.75).
    write(tmp_path, "rewind", [row(0, 0.0, {"VOC mAP": 70.0}, rewind_iter=NAN),
                               row(80, 70.8, {"VOC mAP": 68.5}, rewind_iter=0.0)])
    entry["values"] = [0]
    got = check("late_resetting_not_needed", cfg, tmp_path)
    assert got.numbers["rewind 80% VOC mAP"]["b"] == 69.75 and got.verdict == FAILS  # −1.25
    assert "e_voc's table" in got.evidence and "experiments.e_voc" in got.entries


def test_prune_heads_not_backbone_top(tmp_path):
    write(tmp_path, "t3", [row(0, 0.0, {"VOC mAP": 70.0}, modules="dense"),
                           row(80, 0.5, {"VOC mAP": 70.25}, modules="box_head"),
                           row(80, 8.0, {"VOC mAP": 68.5}, modules="rpn"),
                           row(80, 53.0, {"VOC mAP": 68.0}, modules="backbone_top"),
                           row(80, 17.0, {"VOC mAP": 65.0}, modules="backbone_base")])
    cfg = config(experiments=_voc_experiment(tmp_path), ablations={
        "t3": {"experiment": "e_voc", "setting": "modules", "values": ["backbone_base"], "prune_percents": [80]}})
    got = check("prune_heads_not_backbone_top", cfg, tmp_path)
    assert set(got.numbers) == {"t3 box_head 80% VOC mAP", "t3 rpn 80% VOC mAP", "t3 backbone_top 80% VOC mAP"}
    assert got.numbers["t3 rpn 80% VOC mAP"]["verdict"] == FAILS and got.verdict == FAILS
    assert got.numbers["t3 backbone_top 80% VOC mAP"] == {
        "a": 70.0, "b": 68.0, "diff": 2.0, "noise": 1.0, "kind": "beats", "verdict": HOLDS}


def test_early_bird(tmp_path):
    def table(iou):
        write(tmp_path, "eb", [row(0, 0.0, {"VOC mAP": 70.0}, fraction=NAN, iou_mean=NAN, iou_std=NAN),
                               row(80, 70.8, {"VOC mAP": 66.0}, fraction=0.25, iou_mean=0.8, iou_std=NAN),
                               row(80, 70.8, {"VOC mAP": 69.25}, fraction=0.5, iou_mean=iou, iou_std=NAN),
                               row(80, 70.8, {"VOC mAP": 69.5}, fraction=1.0, iou_mean=1.0, iou_std=NAN)])
    cfg = config(experiments=_voc_experiment(tmp_path), ablations={
        "eb": {"experiment": "e_voc", "setting": "early_bird", "values": [0.25, 0.5, 1.0], "prune_percents": [80]}})
    table(0.95)
    got = check("early_bird_masks", cfg, tmp_path)
    assert got.verdict == HOLDS and got.numbers["eb 80% IoU at 0.5"]["iou"] == 0.95
    assert got.numbers["eb 80% VOC mAP at 0.5"]["diff"] == -0.25
    assert "mask IoU: a fixed bound >= 0.9" in got.noise_rule
    table(0.85)
    got = check("early_bird_masks", cfg, tmp_path)
    assert got.verdict == FAILS and "0.850 (< 0.9)" in got.evidence


def test_one_shot_beats_iterative(tmp_path):
    write(tmp_path, "rounds", [row(0, 0.0, {"VOC mAP": 70.0}, rounds=NAN),
                               row(80, 70.8, {"VOC mAP": 69.5}, rounds=1.0),
                               row(80, 70.8, {"VOC mAP": 69.0}, rounds=2.0)])
    cfg = config(experiments=_voc_experiment(tmp_path), ablations={
        "rounds": {"experiment": "e_voc", "setting": "rounds", "values": [1, 2], "prune_percents": [80]}})
    got = check("one_shot_beats_iterative", cfg, tmp_path)
    assert got.verdict == NOISE and got.numbers["rounds 80% VOC mAP 1 vs 2 rounds"]["diff"] == 0.5
    assert check("one_shot_beats_iterative", cfg, tmp_path, noise=0.25).verdict == HOLDS


def test_global_beats_layerwise(tmp_path):
    write(tmp_path, "scope", [row(0, 0.0, {"VOC mAP": 70.0}, scope=None),
                              row(50, 44.0, {"VOC mAP": 70.0}, scope="global"),
                              row(50, 44.0, {"VOC mAP": 69.5}, scope="layerwise"),
                              row(80, 70.8, {"VOC mAP": 69.0}, scope="global"),
                              row(80, 70.8, {"VOC mAP": 60.0}, scope="layerwise")])
    cfg = config(experiments=_voc_experiment(tmp_path), ablations={
        "scope": {"experiment": "e_voc", "setting": "scope", "values": ["global", "layerwise"],
                  "prune_percents": [50, 80]}})
    got = check("global_beats_layerwise", cfg, tmp_path)
    assert got.numbers["scope 50% (44.0% sparse) VOC mAP"]["kind"] == "approx"
    assert got.numbers["scope 80% (70.8% sparse) VOC mAP"]["kind"] == "beats" and got.verdict == HOLDS


# ------------------------------------------------------------------ §4.4 analyses


def size_row(task, bucket, prune, dense, change, seeds=1, std=NAN):
    return {"task": task, "bucket": bucket, "prune_percent": prune, "seeds": seeds, "network_sparsity_mean": 88.0,
            "network_sparsity_std": NAN, "dense_ap_mean": dense, "dense_ap_std": NAN,
            "ticket_ap_mean": dense * (1 + change / 100), "ticket_ap_std": NAN, "change_mean": change,
            "change_std": std}


def category_row(category, prune, dense, change, **key):
    return {"category": category, **key, "prune_percent": prune, "seeds": 1, "network_sparsity_mean": 88.0,
            "network_sparsity_std": NAN, "dense_ap_mean": dense, "dense_ap_std": NAN,
            "ticket_ap_mean": dense * (1 + change / 100), "ticket_ap_std": NAN, "change_mean": change,
            "change_std": NAN}


def test_small_and_rare_lose_most_threshold_rule(tmp_path):
    write(tmp_path, "size", [size_row("bbox", "small", 90, 10.0, -30.0), size_row("bbox", "medium", 90, 20.0, -10.0),
                             size_row("bbox", "large", 90, 40.0, -5.0), size_row("bbox", "small", 80, 10.0, 50.0),
                             size_row("keypoints", "medium", 90, 40.0, -1.0)])
    cats = [("a", 1, 50.0, -40.0), ("b", 2, 50.0, -20.0), ("c", 3, 10.0, 0.0), ("d", 4, 10.0, 0.0),
            ("e", 5, 100.0, -10.0), ("f", 6, 100.0, 0.0)]
    write(tmp_path, "freq", [category_row(c, 90, d, ch, train_instances=n) for c, n, d, ch in cats])
    cfg = config(analyses={"size": {"analysis": "object_size", "experiment": "e"},
                           "freq": {"analysis": "category_frequency", "experiment": "e", "task": "bbox"}})
    got = check("small_and_rare_lose_most", cfg, tmp_path)
    # Noise as % of each dense AP: small 100/10 = 10, medium 5, large 2.5, combined in quadrature.
    medium = got.numbers["size bbox 90% medium vs small"]
    assert (medium["diff"], medium["noise"]) == (20.0, pytest.approx(math.hypot(10, 5), abs=1e-4))
    assert got.numbers["size bbox 90% large vs small"]["noise"] == pytest.approx(math.hypot(10, 2.5), abs=1e-4)
    freq = got.numbers["freq 90% frequent vs rare third"]
    # rarest 2 (a, b): −30 ± sqrt(2² + 2²)/2; most frequent 2 (e, f): −5 ± sqrt(1 + 1)/2.
    assert (freq["a"], freq["b"], freq["diff"]) == (-5.0, -30.0, 25.0)
    assert freq["noise"] == pytest.approx(math.hypot(math.sqrt(8) / 2, math.sqrt(2) / 2), abs=1e-4)
    assert freq["rare"] == ["a", "b"] and freq["frequent"] == ["e", "f"]
    assert got.verdict == HOLDS and len(got.numbers) == 3  # the keypoints task has no small bucket
    assert "as a percent of each dense AP" in got.noise_rule


def test_small_objects_seed_std_rule(tmp_path):
    write(tmp_path, "size", [size_row("segm", "small", 90, 10.0, -30.0, seeds=2, std=3.0),
                             size_row("segm", "medium", 90, 20.0, -27.0, seeds=2, std=4.0)])
    cfg = config(analyses={"size": {"analysis": "object_size", "experiment": "e"}})
    got = check("small_and_rare_lose_most", cfg, tmp_path)
    assert got.numbers["size segm 90% medium vs small"]["noise"] == 5.0 and got.verdict == NOISE  # +3 <= 5
    assert got.noise_rule.startswith("seed std of the % changes")


def test_hard_categories_lose_most(tmp_path):
    def table(hard):
        write(tmp_path, "diff", [category_row("e1", 90, 40.0, -10.0, group="easy"),
                                 category_row("e2", 90, 50.0, -20.0, group="easy"),
                                 category_row("h1", 90, 5.0, hard[0], group="hard"),
                                 category_row("h2", 90, 10.0, hard[1], group="hard")])
    cfg = config(analyses={"diff": {"analysis": "category_difficulty", "experiment": "e", "task": "segm"}})
    noise = math.hypot(math.hypot(2.5, 2.0) / 2, math.hypot(20.0, 10.0) / 2)  # 11.29
    table((-30.0, -50.0))
    got = check("hard_categories_lose_most", cfg, tmp_path)
    number = got.numbers["diff segm 90% easy vs hard"]
    assert (number["diff"], number["noise"]) == (25.0, pytest.approx(noise, abs=1e-4)) and got.verdict == HOLDS
    table((-20.0, -30.0))
    assert check("hard_categories_lose_most", cfg, tmp_path).verdict == NOISE  # 10 < 11.29


# ------------------------------------------------------------------ appendices


def test_keypoint_transfer_direction(tmp_path):
    def tt(target, source, mAP):
        return {"target_task": target, "source_task": source, "seeds": 1, "network_sparsity_mean": 78.0,
                "network_sparsity_std": NAN, "mAP_mean": mAP, "mAP_std": NAN, "AP50_mean": 50.0, "AP50_std": NAN}
    write(tmp_path, "tt", [tt("Det", "Det/Seg", 30.0), tt("Det", "Keypoint", 24.0), tt("Seg", "Det/Seg", 28.0),
                           tt("Seg", "Keypoint", 27.5), tt("Keypoint", "Det/Seg", 58.0),
                           tt("Keypoint", "Keypoint", 59.0)])
    cfg = config(task_transfers={"tt": {"experiments": ["a", "b"], "prune_percent": 80}})
    got = check("keypoint_transfer_direction", cfg, tmp_path)
    det = got.numbers["tt Det drop from Keypoint vs Keypoint drop from Det/Seg"]
    assert (det["a"], det["b"], det["verdict"]) == (6.0, 1.0, HOLDS)
    seg = got.numbers["tt Seg drop from Keypoint vs Keypoint drop from Det/Seg"]
    assert (seg["diff"], seg["verdict"]) == (-0.5, NOISE) and got.verdict == NOISE


def value_rows(group, values: dict, prune, sparsity=74.0):
    return [{"group": group, "measure": m, "prune_percent": prune, "seeds": 1, "network_sparsity_mean": sparsity,
             "network_sparsity_std": NAN, "value_mean": v, "value_std": NAN} for m, v in values.items()]


TIDE_DENSE = {"Cls": 5.0, "Loc": 11.0, "Both": 0.1, "Dupe": 0.7, "Bkg": 0.4, "Miss": 9.0}


def test_error_types_alike(tmp_path):
    def tide(ticket):
        write(tmp_path, "tide", value_rows("AP50", {"AP50": 48.0}, 0) + value_rows("main error dAP", TIDE_DENSE, 0)
              + value_rows("AP50", {"AP50": 44.0}, 80) + value_rows("main error dAP", ticket, 80))
    write(tmp_path, "kp", value_rows("keypoints (%)", {"Good": 65.0, "Jitter": 20.0, "Inversion": 1.0, "Swap": 2.0,
                                                       "Miss": 11.0}, 0)
          + value_rows("keypoints (%)", {"Good": 75.0, "Jitter": 10.0, "Inversion": 0.5, "Swap": 1.5, "Miss": 9.0}, 80))
    cfg = config(analyses={"tide": {"analysis": "tide", "experiment": "e", "task": "bbox", "prune_percent": 80},
                           "kp": {"analysis": "keypoint_errors", "experiment": "e", "prune_percent": 80}})
    # Ranking differs (Both and Bkg swap) but no dAP shifts by more than 1: alike. Keypoints: same ranking
    # although Jitter shifts by 10 points.
    tide({**TIDE_DENSE, "Cls": 4.0, "Loc": 11.5, "Both": 0.2, "Dupe": 1.0, "Bkg": 0.1, "Miss": 9.5})
    got = check("error_types_alike", cfg, tmp_path)
    assert got.verdict == HOLDS
    assert got.numbers["tide bbox 80%"]["same_ranking"] is False and got.numbers["tide bbox 80%"]["shift"] == -1.0
    assert got.numbers["kp keypoints 80%"]["same_ranking"] is True and got.numbers["kp keypoints 80%"]["bound"] == 2.0
    tide({**TIDE_DENSE, "Miss": 12.0})  # Miss overtakes Loc by 3 dAP points
    got = check("error_types_alike", cfg, tmp_path)
    assert got.verdict == FAILS and "largest shift Miss +3.00 dAP (bound 1.00)" in got.evidence


def test_segm_fewer_loc_more_bkg(tmp_path):
    write(tmp_path, "tide_segm", value_rows("main error dAP", TIDE_DENSE, 0)
          + value_rows("main error dAP", {**TIDE_DENSE, "Loc": 9.0, "Bkg": 0.9}, 80))
    cfg = config(analyses={"tide_segm": {"analysis": "tide", "experiment": "e", "task": "segm", "prune_percent": 80},
                           "tide_bbox": {"analysis": "tide", "experiment": "e", "task": "bbox", "prune_percent": 80}})
    got = check("segm_fewer_loc_more_bkg", cfg, tmp_path)  # tide_bbox is not read: it has no table here
    assert got.numbers["tide_segm segm 80% Loc dAP"]["verdict"] == HOLDS  # 11 − 9 = 2 > 1
    assert got.numbers["tide_segm segm 80% Bkg dAP"]["diff"] == pytest.approx(0.5) and got.verdict == NOISE


def test_tickets_converge_faster(tmp_path):
    def curve(run, prune, points):
        return [{"run": run, "prune_percent": prune, "iter": i, "progress": float(i), "seeds": 1, "loss_mean": v,
                 "loss_std": NAN, "loss_cls_mean": v / 2, "loss_cls_std": NAN} for i, v in points]
    dense = [(0, 4.0), (10, 3.5), (20, 3.0), (30, 2.9), (40, 2.8), (50, 2.7), (60, 2.6), (70, 2.5), (80, 2.0625),
             (90, 2.0), (100, 2.0)]
    ticket = [(50, 3.0), (60, 2.0625), (70, 2.0), (80, 2.0), (90, 2.0), (100, 2.0)]
    write(tmp_path, "conv", curve("dense", 0.0, dense) + curve("ticket 80%", 80.0, ticket))
    cfg = config(analyses={"conv": {"analysis": "convergence", "experiment": "e", "prune_percent": 80}})
    got = check("tickets_converge_faster", cfg, tmp_path)
    assert got.numbers["conv 80%"] == {"a": 80.0, "b": 60.0, "diff": 20.0, "noise": 5.0, "kind": "beats",
                                       "verdict": HOLDS, "ticket_start": 50.0, "interval": 10.0}
    assert got.verdict == HOLDS and "ticket trains from 50.0%" in got.evidence
    write(tmp_path, "conv", curve("dense", 0.0, dense) + curve("ticket 80%", 80.0, [(50, 3.0), (80, 2.0625),
                                                                                   (100, 2.0)]))
    assert check("tickets_converge_faster", cfg, tmp_path).verdict == NOISE  # the same point, 80%


# ------------------------------------------------------------------ not produced, bad input, the CLI


def test_every_claim_not_produced_without_entries(tmp_path):
    (tmp_path / "tables").mkdir()
    results = check_all(config(), tmp_path, 1.0)
    assert [r.claim_id for r in results] == [c.id for c in CLAIMS]
    assert all(r.verdict == NOT_PRODUCED and r.evidence.startswith("needs ") for r in results)
    assert BY_ID["one_shot_beats_iterative"].check(config(), tmp_path, 1.0).evidence.startswith(
        "needs an ablations entry with setting: rounds")


def test_a_missing_table_is_an_error(tmp_path):
    cfg = config(experiments={"gone": {"model": "m18", "strategy": "s", "prune_percents": [80], "seeds": [0]}})
    with pytest.raises(ClaimsError, match="gone.csv does not exist"):
        check_all(cfg, tmp_path, 1.0)


def _cli(tmp_path, cfg, noise="1.0", text=None):
    (tmp_path / "config.json").write_text(json.dumps(cfg) if text is None else text)
    out = tmp_path / "out"
    code = main(["--config-json", str(tmp_path / "config.json"), "--results", str(tmp_path), "--noise", noise,
                 "--csv", str(out / "claims.csv"), "--markdown", str(out / "claims.md")])
    return code, out


def test_cli_writes_csv_and_markdown(tmp_path, capsys):
    cfg = config(experiments=_voc_experiment(tmp_path))
    code, out = _cli(tmp_path, cfg)
    assert code == 0
    table = pd.read_csv(out / "claims.csv")
    assert list(table.columns) == ["claim_id", "claim", "paper_item", "evidence", "numbers", "verdict", "noise_rule",
                                   "entries"]
    assert list(table.claim_id) == [c.id for c in CLAIMS]
    direct = table.set_index("claim_id").loc["direct_pruning_80"]
    assert direct.verdict == HOLDS and json.loads(direct.entries) == ["experiments.e_voc"]
    assert json.loads(direct.numbers)["e_voc 80% (70.8% sparse) VOC mAP"]["diff"] == -0.25
    text = (out / "claims.md").read_text()
    assert text.startswith("### Claims of the paper, checked on this run\n\n| # | Claim | Paper | Evidence | Verdict |")
    assert "| 2 | Direct pruning finds tickets" in text and "**holds**" in text
    assert text.rstrip().splitlines()[-1].startswith("Noise: ") and "threshold --noise 1 (mAP points)" in text


@pytest.mark.parametrize("breaking, message", [
    ("config", "is not valid JSON"), ("table", "does not exist"), ("noise", "--noise -1.0 is not"),
])
def test_cli_bad_input_writes_nothing(tmp_path, capsys, breaking, message):
    cfg = config(experiments=_voc_experiment(tmp_path))
    if breaking == "table":
        (tmp_path / "tables" / "e_voc.csv").unlink()
    code, out = _cli(tmp_path, cfg, noise="-1.0" if breaking == "noise" else "1.0",
                     text="{not json" if breaking == "config" else None)
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and err[0].startswith("error: ") and message in err[0]
    assert not out.exists() or not any(out.iterdir())


# ------------------------------------------------------------------ the real results/ tree


def test_every_claim_on_the_real_results():
    import yaml
    from snakemake.utils import validate

    tables = REPO / "results" / "tables"
    if not tables.is_dir():
        pytest.skip("no results/tables: the embedded default has not run here")
    cfg = yaml.safe_load((REPO / "config/config.yaml").read_text())
    validate(cfg, str(REPO / "workflow/schemas/config.schema.yaml"))  # the schema's defaults, as the Snakefile
    # A pipeline may still be running: leave out the entries whose table is not there yet (and those reading them).
    missing = set()
    for sec in ("experiments", "imagenet_transfers", "task_transfers", "ablations", "analyses", "comparisons"):
        for name in list(cfg.get(sec, {})):
            entry = cfg[sec][name]
            refs = [entry.get("experiment"), *entry.get("experiments", [])]
            if not (tables / f"{name}.csv").is_file() or missing & set(refs):
                missing.add(name)
                del cfg[sec][name]
    results = check_all(cfg, REPO / "results", 1.0)
    assert [r.claim_id for r in results] == [c.id for c in CLAIMS]
    assert all(r.verdict in VERDICTS and r.evidence for r in results)
    if not missing:  # the default configures every claim's results
        assert not [r.claim_id for r in results if r.verdict == NOT_PRODUCED]
