"""GPU-hour estimate: a config's training jobs, exactly, and their hours."""
from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from lthsteps.gpu_hours import Schedule, check_estimable, gpu_hours_table, main, seconds_per_image
from lthsteps.plan import training_runs

REPO = Path(__file__).resolve().parents[1]
CONFIG = {
    "models": {"a": {"config": "a.py", "rewind_iter": 100}, "b": {"config": "b.py", "rewind_iter": 50}},
    "strategies": {"oneshot": {"rounds": 1}, "imp": {"rounds": 3}},
    "experiments": {
        "a_imp": {"model": "a", "strategy": "imp", "prune_percents": [50, 80], "seeds": [0, 1]},
        "b_oneshot": {"model": "b", "strategy": "oneshot", "prune_percents": [80], "seeds": [0, 1]},
    },
    "task_transfers": {"a_b": {"experiments": ["a_imp", "b_oneshot"], "prune_percent": 80}},
    "imagenet_transfers": {"t": {"model": "a", "prune_percents": [50, 80, 90], "seeds": [0, 2]}},
}
# a: 1000 iterations of 9 images at 0.4 s = 1 GPU-hour; b: 550 of 4 images at 0.45 s = 0.275 GPU-hours.
SCHEDULES = {"a": Schedule(1000, 9, 0.4), "b": Schedule(550, 4, 0.45)}


def test_training_jobs_are_those_of_the_dag():
    jobs = Counter((j.rule, j.model, j.start_iter) for j in training_runs(CONFIG))
    assert jobs == {
        ("train_dense", "a", 0): 3,  # seeds 0, 1 of a_imp and seed 2 of the ImageNet transfer
        ("train_dense", "b", 0): 2,
        ("train_round", "a", 100): 12,  # 2 seeds x 2 prune percents x 3 rounds, from the rewind point
        ("train_round", "b", 50): 2,
        ("train_task_transfer", "b", 50): 2,  # a's tickets into b, per seed
        ("train_task_transfer", "a", 100): 2,
        ("train_imagenet_transfer", "a", 0): 6,  # 3 prune percents x 2 seeds, the whole schedule
    }


def test_gpu_hours_per_rule_and_model():
    table = gpu_hours_table(training_runs(CONFIG), SCHEDULES)
    rows = {(r.rule, r.model): (r.jobs, r.iterations_per_job, r.images_per_iter, r.gpu_hours)
            for r in table.itertuples()}
    expected = {
        ("train_dense", "a"): (3, 1000, 9, 3.0), ("train_dense", "b"): (2, 550, 4, 0.55),
        ("train_round", "a"): (12, 900, 9, 10.8), ("train_round", "b"): (2, 500, 4, 0.5),
        ("train_task_transfer", "b"): (2, 500, 4, 0.5), ("train_task_transfer", "a"): (2, 900, 9, 1.8),
        ("train_imagenet_transfer", "a"): (6, 1000, 9, 6.0),
    }
    assert rows.keys() == expected.keys()
    for key, (jobs, iterations, images, hours) in expected.items():
        assert rows[key][:3] == (jobs, iterations, images) and rows[key][3] == pytest.approx(hours), key
    assert table.gpu_hours.sum() == pytest.approx(23.15)


def test_what_cannot_be_estimated_is_refused():
    with pytest.raises(ValueError, match="no assumed time per image for model config mine.py"):
        seconds_per_image("config/models/mine.py")
    assert seconds_per_image("config/models/mask-rcnn_r50-fpn_coco.py") == pytest.approx(0.261 / 2)
    with pytest.raises(ValueError, match=r"classifiers \['r18'\] train in the workflow"):
        check_estimable({"classifiers": {"r18": {"arch": "resnet18"}, "r50": {"weights": "r50.pth"}}})
    check_estimable({"classifiers": {"r50": {"weights": "r50.pth"}}})


def test_cli_error_is_one_line(capsys, monkeypatch):
    monkeypatch.chdir(REPO)
    assert main(["config/tiny.yaml"]) == 2
    assert capsys.readouterr().err.startswith("error: config/tiny.yaml: classifiers ['resnet18_w16'] train")


def test_paper_configs_total(capsys, monkeypatch):
    monkeypatch.chdir(REPO)
    assert main(["config/paper/voc_faster_rcnn_r18.yaml", "config/paper/coco_tasks.yaml"]) == 0
    out = capsys.readouterr().out
    assert "295 training jobs, 1,555 V100 GPU-hours" in out  # VOC: 10 dense, 45 + 125 rounds, 75 branches, 40 ImageNet
    assert "50 training jobs, 2,679 V100 GPU-hours" in out  # COCO: 4 dense, 20 rounds, 2 transfers, 24 ImageNet
    assert "All configs: 345 training jobs, 4,235 V100 GPU-hours" in out
