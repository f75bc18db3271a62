"""The job plan (lthsteps.plan) and the result layout (lthsteps.paths) on a constructed config."""
from __future__ import annotations

from lthsteps import paths, plan

CONFIG = {
    "results_dir": "out",
    "models": {"det": {"rewind_iter": 10}, "kp": {"rewind_iter": 20}},
    "classifiers": {
        "trained": {"tickets": {"strategy": "imp", "prune_percents": [80]}},
        "given": {"weights": "/w/r18.pth", "imported_tickets": [{"prune_percent": 90, "weights": "/w/t90.pth"}]},
    },
    "strategies": {"imp": {"rounds": 2}, "oneshot": {"rounds": 1}},
    "experiments": {
        "det_imp": {"model": "det", "strategy": "imp", "prune_percents": [80], "seeds": [0]},
        "kp_oneshot": {"model": "kp", "strategy": "oneshot", "prune_percents": [80, 12.5], "seeds": [0]},
    },
    "imagenet_transfers": {
        "ticket": {"classifier": "trained", "model": "det", "mode": "ticket", "prune_percents": [80], "seeds": [1]},
        "mask": {"classifier": "given", "model": "det", "mode": "mask", "strategy": "oneshot",
                 "prune_percents": [90], "seeds": [1]},
    },
    "task_transfers": {"swap": {"experiments": ["det_imp", "kp_oneshot"], "prune_percent": 80}},
}


def test_paths_take_wildcards_or_values():
    assert paths.round_dir(paths.detector("out", "{model}", "{seed}"), "{strategy}", "{prune}", "{round}") == \
        "out/runs/{model}/seed{seed}/{strategy}/p{prune}/round{round}"
    assert paths.round_dir(paths.detector("out", "det", 0), "imp", 12.5, 2) == "out/runs/det/seed0/imp/p12.5/round2"
    assert paths.imagenet_transfer_dir("out", "det", 1, "ticket", 80.0) == "out/runs/det/seed1/imagenet_transfers/ticket/p80"


def test_training_runs_each_once_from_their_first_iteration():
    runs = {(r.rule, r.folder, r.start_iter) for r in plan.training_runs(CONFIG)}
    assert runs == {
        ("train_dense", "out/runs/det/seed0/dense", 0),
        ("train_dense", "out/runs/det/seed1/dense", 0),  # the ImageNet transfers' seed
        ("train_dense", "out/runs/kp/seed0/dense", 0),
        ("train_round", "out/runs/det/seed0/imp/p80/round1", 10),
        ("train_round", "out/runs/det/seed0/imp/p80/round2", 10),
        ("train_round", "out/runs/kp/seed0/oneshot/p80/round1", 20),
        ("train_round", "out/runs/kp/seed0/oneshot/p12.5/round1", 20),
        ("train_task_transfer", "out/runs/kp/seed0/task_transfers/swap/from_det_imp", 20),
        ("train_task_transfer", "out/runs/det/seed0/task_transfers/swap/from_kp_oneshot", 10),
        ("train_imagenet_transfer", "out/runs/det/seed1/imagenet_transfers/ticket/p80", 0),
        ("train_imagenet_transfer", "out/runs/det/seed1/imagenet_transfers/mask/p90", 0),
    }
    assert len(plan.training_runs(CONFIG)) == len(runs)


def test_imagenet_sources_by_mode_and_import():
    assert plan.imagenet_source(CONFIG, "ticket", "80") == (
        "out/classifiers/trained/imp/p80/round2/weights.pth", "out/classifiers/trained/imp/p80/round2/mask.npz")
    # Mask transfer: the imported dense weights, a one-shot mask ranked on them in the workflow.
    assert plan.imagenet_source(CONFIG, "mask", "90") == ("/w/r18.pth", "out/classifiers/given/oneshot/p90/round1/mask.npz")
    assert plan.dense_weights(CONFIG, "out/classifiers/given") == "/w/r18.pth"
    assert plan.dense_weights(CONFIG, "out/runs/det/seed0") == "out/runs/det/seed0/dense/weights.pth"
    assert plan.imagenet_ticket_dir(CONFIG, "given", 90) == "out/classifiers/given/imported/p90"


def test_tables_list_the_dense_rows_first_and_the_final_rounds():
    assert plan.table_runs(CONFIG, "det_imp") == [(0, 0, "out/runs/det/seed0/dense"),
                                                  (80, 0, "out/runs/det/seed0/imp/p80/round2")]
    assert plan.task_transfer_table_runs(CONFIG, "swap") == [
        ("out/runs/det/seed0/imp/p80/round2", "out/runs/det/seed0/imp/p80/round2"),
        ("out/runs/det/seed0/imp/p80/round2", "out/runs/kp/seed0/task_transfers/swap/from_det_imp"),
        ("out/runs/kp/seed0/oneshot/p80/round1", "out/runs/kp/seed0/oneshot/p80/round1"),
        ("out/runs/kp/seed0/oneshot/p80/round1", "out/runs/det/seed0/task_transfers/swap/from_kp_oneshot"),
    ]
    assert "out/tables/swap.md" in plan.targets(CONFIG) and "out/figures/swap.png" not in plan.targets(CONFIG)
    assert "out/classifiers/trained/imp/p80/round2/mask.npz" in plan.targets(CONFIG)


def test_restart_schedule_trains_rounds_and_task_transfers_from_iteration_zero():
    config = {**CONFIG, "models": {"det": {"rewind_iter": 10, "restart_schedule": True}, "kp": {"rewind_iter": 20}}}
    starts = {(r.rule, r.model): r.start_iter for r in plan.training_runs(config)}
    assert starts[("train_round", "det")] == 0 and starts[("train_task_transfer", "det")] == 0
    assert starts[("train_round", "kp")] == 20 and starts[("train_task_transfer", "kp")] == 20
    assert plan.round_start_iter(config, "det") == 0 and plan.round_start_iter(CONFIG, "det") == 10


def test_a_task_transfer_from_the_initial_weights_trains_the_whole_schedule_from_a_snapshot_at_zero():
    config = {**CONFIG, "task_transfers": {"swap": {**CONFIG["task_transfers"]["swap"], "start": "init"}}}
    starts = {(r.rule, r.model): r.start_iter for r in plan.training_runs(config)}
    assert starts[("train_task_transfer", "kp")] == 0 and starts[("train_task_transfer", "det")] == 0
    assert starts[("train_round", "kp")] == 20  # the rounds keep their rewind point
    # Both targets' dense runs (seed 0) save their initial weights; the ImageNet transfers' seed does not.
    assert plan.snapshot_iters(config, "kp", 0, 100) == [0] and plan.snapshot_iters(config, "det", 0, 100) == [0]
    assert plan.snapshot_iters(config, "det", 1, 100) == [] and plan.snapshot_iters(CONFIG, "kp", 0, 100) == []
