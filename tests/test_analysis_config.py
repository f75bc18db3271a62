"""Config `analyses` (§4.4, Appendix C): start-up checks (lthsteps.config_check) and the plan's runs,
prune percents, annotation files and targets (lthsteps.plan)."""
from __future__ import annotations

import copy

import pytest
import yaml

from conftest import REPO
from lthsteps import analysis_plan, plan
from lthsteps.config_check import ConfigError, check, check_schema

TINY = yaml.safe_load((REPO / "config/tiny.yaml").read_text())
SCHEMA = REPO / "workflow/schemas/config.schema.yaml"


def _config(analysis: dict | None = None, name: str = "a"):
    config = copy.deepcopy(TINY)
    config.setdefault("comparisons", {})
    if analysis is not None:
        config["analyses"] = {name: analysis}
    return config


def _problems(config) -> list[str]:
    with pytest.raises(ConfigError) as err:
        check(config, REPO)
    return err.value.problems


def test_the_shipped_configs_analyses_pass():
    check(_config(), REPO)
    assert len(TINY["analyses"]) == 7
    assert {a["analysis"] for a in TINY["analyses"].values()} == set(analysis_plan.ANALYSES)


@pytest.mark.parametrize("analysis, message", [
    ({"analysis": "tide", "experiment": "mask_rcnns", "prune_percent": 80},
     "analyses.a.experiment 'mask_rcnns' is not a key of `experiments`: did you mean 'mask_rcnn'?"),
    ({"analysis": "keypoint_errors", "experiment": "mask_rcnn", "prune_percent": 80},
     "analyses.a: experiment mask_rcnn's model mask_rcnn_r18_fpn has no keypoints results (its config has no "
     "roi_head.keypoint_head; it predicts bbox, segm): analyse an experiment whose model has a keypoint_head"),
    ({"analysis": "tide", "experiment": "oneshot", "task": "segm", "prune_percent": 90},
     "analyses.a: experiment oneshot's model faster_rcnn_r18_c4 has no segm results (its config has no "
     "roi_head.mask_head; it predicts bbox): analyse an experiment whose model has a mask_head, or set task to one "
     "of bbox"),
    ({"analysis": "object_size", "experiment": "keypoint_rcnn", "task": "segm"},
     "analyses.a: experiment keypoint_rcnn's model keypoint_rcnn_r18_fpn has no segm results"),
    ({"analysis": "tide", "experiment": "mask_rcnn", "prune_percent": 50},
     "analyses.a: experiment mask_rcnn has no ticket at 50% (its prune_percents: 80): pick one of those, or add it to "
     "experiments.mask_rcnn.prune_percents"),
    ({"analysis": "category_frequency", "experiment": "oneshot", "prune_percents": [50, 70, 80]},
     "analyses.a: experiment oneshot has no ticket at 70, 80% (its prune_percents: 50, 90)"),
    ({"analysis": "tide", "experiment": "mask_rcnn"},
     "analyses.a: analysis tide needs `prune_percent`, the ticket compared with the dense model (e.g. 80)"),
    ({"analysis": "convergence", "experiment": "mask_rcnn"},
     "analyses.a: analysis convergence needs `prune_percent`"),
    ({"analysis": "convergence", "experiment": "mask_rcnn", "prune_percent": 80, "task": "bbox"},
     "analyses.a.task: analysis convergence takes no `task` (it takes prune_percent): remove it"),
    ({"analysis": "tide", "experiment": "mask_rcnn", "prune_percent": 80, "top": 2},
     "analyses.a.top: analysis tide takes no `top` (it takes task, prune_percent): remove it"),
    ({"analysis": "object_size", "experiment": "mask_rcnn", "prune_percent": 80},
     "analyses.a.prune_percent: analysis object_size takes no `prune_percent` (it takes task, prune_percents): "
     "remove it"),
    ({"analysis": "keypoint_errors", "experiment": "keypoint_rcnn", "prune_percent": 80, "task": "keypoints"},
     "analyses.a.task: analysis keypoint_errors takes no `task`"),
    ({"analysis": "category_difficulty", "experiment": "keypoint_rcnn", "task": "keypoints"},
     "analyses.a.task keypoints: analysis category_difficulty takes bbox or segm"),
])
def test_a_bad_analysis_is_named_with_its_fix_before_any_job(analysis, message):
    problems = _problems(_config({"paper": "Fig x", **analysis}))
    assert any(p.startswith(message) for p in problems), problems


@pytest.mark.parametrize("name", ["mask_rcnn", "fig2b_rewind", "faster_vs_mask", "task_transfer"])
def test_an_analysis_named_like_another_table_is_rejected(name):
    problems = _problems(_config({"analysis": "object_size", "experiment": "mask_rcnn"}, name=name))
    assert f"analyses.{name}: an experiment, transfer, comparison or ablation has the same name (their tables " \
           "would collide): rename one" in problems


def test_the_schema_rejects_an_unknown_analysis_and_key():
    config = _config({"analysis": "tide_errors", "experiment": "mask_rcnn", "prune_percent": 80, "sizes": 3})
    with pytest.raises(ConfigError) as err:
        check_schema(config, SCHEMA)
    text = "\n".join(err.value.problems)
    assert "analyses.a.analysis: 'tide_errors' is not one of ['object_size'" in text
    assert "'sizes' was unexpected" in text


def test_runs_and_prune_percents_of_each_analysis():
    config = copy.deepcopy(TINY)
    config["ablations"] = {}  # the raw YAML lacks the schema defaults its derived strategies read
    config["experiments"]["oneshot"]["prune_percents"] = [50, 80, 90]
    config["experiments"]["oneshot"]["seeds"] = [0, 1]
    config["analyses"] = {
        "freq": {"analysis": "category_frequency", "experiment": "oneshot"},
        "size": {"analysis": "object_size", "experiment": "oneshot"},
        "hard": {"analysis": "category_difficulty", "experiment": "oneshot", "prune_percents": [50]},
        "tide": {"analysis": "tide", "experiment": "oneshot", "prune_percent": 80},
    }
    assert analysis_plan.analysis_prunes(config, "freq") == [80, 90]  # Fig 5a: the two highest by default
    assert analysis_plan.analysis_prunes(config, "size") == [50, 80, 90]
    assert analysis_plan.analysis_prunes(config, "hard") == [50]
    assert analysis_plan.analysis_task(config, "size") is None and analysis_plan.analysis_task(config, "tide") == "bbox"
    net = "results/tiny/runs/faster_rcnn_r18_c4"
    assert analysis_plan.analysis_runs(config, "tide") == [
        (0, 0, f"{net}/seed0/dense"), (0, 1, f"{net}/seed1/dense"),
        (80, 0, f"{net}/seed0/global_oneshot/p80/round1"), (80, 1, f"{net}/seed1/global_oneshot/p80/round1")]
    assert analysis_plan.analysis_run_files(config, "tide")[0] == f"{net}/seed0/dense/errors/tide_bbox.json"
    assert analysis_plan.analysis_run_files(config, "size") == []
    assert {"results/tiny/tables/freq.csv", "results/tiny/tables/freq.md",
            "results/tiny/figures/freq.png"} <= set(plan.targets(config))
    kp = {**copy.deepcopy(TINY), "ablations": {}}
    assert analysis_plan.analysis_run_files(kp, "fig9_keypoint_errors") == [
        f"results/tiny/runs/keypoint_rcnn_r18_fpn/seed0/{run}/errors/{file}"
        for run in ("dense", "whole_network_global/p80/round1") for file in ("keypoints.json", "keypoints_pr.csv")]


def test_annotation_files_are_those_the_descriptor_names():
    config = copy.deepcopy(TINY)
    assert analysis_plan.dataset_ann_file(config, "synthetic_coco", "val") == \
        "results/tiny/data/synthetic/coco/annotations/instances_val.json"
    assert analysis_plan.dataset_ann_file(config, "synthetic_voc", "train") == "results/tiny/datasets/synthetic_voc/train.json"
    paper = yaml.safe_load((REPO / "config/paper/coco_tasks.yaml").read_text())
    assert analysis_plan.dataset_ann_file(paper, "coco2017_keypoints", "val") == \
        "/data/coco/annotations/person_keypoints_val2017.json"
