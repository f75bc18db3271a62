"""The §4.3 ablations' job plan (lthsteps.plan) and their start-up checks (lthsteps.config_check) on
constructed configs: which runs each setting trains, what it shares with its experiment, and bad
values stopped before any job."""
from __future__ import annotations

import copy
from pathlib import Path

import pytest

from lthsteps import plan
from lthsteps.config_check import ConfigError, check

REPO = Path(__file__).resolve().parents[1]
BASE = {"scope": "global", "rounds": 1, "groups": ["backbone_base", "backbone_top"], "kinds": ["conv", "linear"],
        "exclude": []}
CONFIG = {
    "results_dir": "out",
    "models": {"det": {"rewind_iter": 600, "config": "config/models/faster-rcnn_r18-c4_tiny.py", "dataset": "voc"}},
    "datasets": {},
    "classifiers": {},
    "strategies": {"oneshot": BASE, "groupwise_all": {**BASE, "scope": "groupwise",
                                                      "groups": ["backbone_base", "backbone_top", "rpn", "box_head"]}},
    "experiments": {"direct": {"model": "det", "strategy": "oneshot", "prune_percents": [50, 80], "seeds": [0, 1]}},
    "ablations": {
        "table3": {"experiment": "direct", "setting": "modules", "scope": "groupwise",
                   "values": ["backbone_base", "backbone_top", "rpn", "box_head"], "prune_percents": [80], "seeds": [0]},
        "rewind": {"experiment": "direct", "setting": "rewind_iter", "values": [0, 300, 600], "prune_percents": [80],
                   "seeds": [0]},
        "layers": {"experiment": "direct", "setting": "layer_sparsity", "prune_percents": [20, 80]},
        "rounds": {"experiment": "direct", "setting": "rounds", "values": [1, 3], "prune_percents": [80], "seeds": [0]},
        "scope": {"experiment": "direct", "setting": "scope", "values": ["global", "layerwise"],
                  "prune_percents": [50], "seeds": [0]},
        "early": {"experiment": "direct", "setting": "early_bird", "values": [0.25, 0.5, 1.0], "prune_percents": [80],
                  "seeds": [0]},
        "controls": {"experiment": "direct", "setting": "controls", "values": ["random_mask", "reinit"],
                     "prune_percents": [80], "seeds": [0]},
    },
}
NET = "out/runs/det/seed0"


def test_table3_has_every_combination_of_the_modules_in_the_papers_module_order():
    values = plan.ablation_values(CONFIG["ablations"]["table3"])
    assert len(values) == 15 and values[0] == "backbone_base" and values[-1] == "backbone_base+backbone_top+rpn+box_head"
    # Each combination is a strategy of its own; the one equal to a configured strategy is that one (shared runs).
    name, spec = plan.derived_strategy(CONFIG, CONFIG["ablations"]["table3"], "rpn+box_head")
    assert name == "oneshot_modules_rpn_box" and spec["groups"] == ["rpn", "box_head"] and spec["scope"] == "groupwise"
    assert plan.derived_strategy(CONFIG, CONFIG["ablations"]["table3"], "backbone_base+backbone_top+rpn+box_head")[0] \
        == "groupwise_all"


def test_ablation_runs_share_the_experiments_own_ticket():
    rewind = plan.ablation_runs(CONFIG, "rewind")
    assert rewind == [("0", 80, 0, f"{NET}/oneshot/p80/round1/branches/rewind0"),
                      ("300", 80, 0, f"{NET}/oneshot/p80/round1/branches/rewind300"),
                      ("600", 80, 0, f"{NET}/oneshot/p80/round1")]  # the model's own rewind point: the ticket
    early = plan.ablation_runs(CONFIG, "early")
    assert [f for *_, f in early] == [f"{NET}/oneshot/p80/round1/branches/early_bird25",
                                      f"{NET}/oneshot/p80/round1/branches/early_bird50", f"{NET}/oneshot/p80/round1"]
    assert [v for v, *_ in plan.ablation_runs(CONFIG, "controls")] == ["ticket", "random_mask", "reinit"]
    assert [f for *_, f in plan.ablation_runs(CONFIG, "rounds")] == [f"{NET}/oneshot/p80/round1",
                                                                      f"{NET}/oneshot_rounds3/p80/round3"]
    assert [f for *_, f in plan.ablation_runs(CONFIG, "scope")] == [f"{NET}/oneshot/p50/round1",
                                                                     f"{NET}/oneshot_layerwise/p50/round1"]
    layers = plan.ablation_runs(CONFIG, "layers")  # the experiment's seeds, its own strategy (one shot)
    assert [(p, s, f) for _, p, s, f in layers] == [(20, 0, f"{NET}/oneshot/p20/round1"), (80, 0, f"{NET}/oneshot/p80/round1"),
                                                    (20, 1, "out/runs/det/seed1/oneshot/p20/round1"),
                                                    (80, 1, "out/runs/det/seed1/oneshot/p80/round1")]


def test_training_runs_train_each_folder_once_and_branches_from_their_rewind_point():
    runs = plan.training_runs(CONFIG)
    folders = [r.folder for r in runs]
    assert len(folders) == len(set(folders))
    dense = [r for r in runs if r.rule == "train_dense"]
    assert [r.folder for r in dense] == ["out/runs/det/seed0/dense", "out/runs/det/seed1/dense"]  # shared by all
    branches = {r.folder.rsplit("/", 1)[1]: r.start_iter for r in runs if r.rule == "train_branch"}
    assert branches == {"rewind0": 0, "rewind300": 300, "early_bird25": 600, "early_bird50": 600,
                        "random_mask": 600, "reinit": 600}
    rounds = {r.folder for r in runs if r.rule == "train_round"}
    assert {f"{NET}/oneshot_rounds3/p80/round{r}" for r in (1, 2, 3)} <= rounds
    assert f"{NET}/oneshot/p20/round1" not in rounds  # Fig 2c ranks masks only
    assert sum(r.rule == "train_round" and "modules" in r.folder for r in runs) == 14  # 15 combinations, one shared
    restarted = copy.deepcopy(CONFIG)
    restarted["models"]["det"]["restart_schedule"] = True
    assert {r.start_iter for r in plan.training_runs(restarted) if r.rule == "train_branch"} == {0}


def test_snapshots_are_the_rewind_points_and_early_bird_iterations_of_that_seed():
    assert plan.snapshot_iters(CONFIG, "det", 0, max_iters=1200) == [0, 300, 600]  # rewind 0, 300; early 300, 600
    assert plan.snapshot_iters(CONFIG, "det", 1, max_iters=1200) == []  # no ablation trains seed 1
    assert plan.early_bird_fraction("early_bird25") == 0.25 and plan.branch_name("early_bird", "0.1") == "early_bird10"


def test_targets_have_a_table_and_figure_per_ablation():
    targets = plan.targets(CONFIG)
    for name in CONFIG["ablations"]:
        assert {f"out/tables/{name}.csv", f"out/tables/{name}.md", f"out/figures/{name}.png"} <= set(targets)


def _config_with(**ablation):
    config = copy.deepcopy(CONFIG)
    config["datasets"] = {"voc": {"format": "voc", "synthetic": True, "root": "x", "splits": {}}}
    config.update(synthetic={}, imagenet_transfers={}, comparisons={}, task_transfers={})
    config["ablations"] = {"bad": {"experiment": "direct", "prune_percents": [80], **ablation}}
    return config


@pytest.mark.parametrize("ablation, message", [
    ({"setting": "rewind_iter", "values": [1200]}, "rewind iteration 1200 is not a whole iteration in [0, 1200)"),
    ({"setting": "rewind_iter", "values": [-1]}, "rewind iteration -1"),
    ({"setting": "modules", "values": ["backbone_base", "box_heads"]}, "unknown module 'box_heads': did you mean 'box_head'?"),
    ({"setting": "early_bird", "values": [0, 0.5]}, "fraction of training 0 is outside (0, 1]"),
    ({"setting": "early_bird", "values": [1.5]}, "fraction of training 1.5 is outside (0, 1]"),
    ({"setting": "controls", "values": ["random"]}, "unknown control 'random'"),
    ({"setting": "scope", "values": ["local"]}, "unknown scope 'local'"),
    ({"setting": "rounds", "values": [0]}, "rounds 0 is not a whole number >= 1"),
    ({"setting": "layer_sparsity", "values": [1]}, "layer_sparsity has no values"),
    ({"setting": "rounds"}, "setting rounds needs values"),
])
def test_bad_ablation_values_stop_at_start_up(ablation, message, tmp_path):
    config = _config_with(**ablation)
    config["results_dir"] = str(tmp_path)
    with pytest.raises(ConfigError) as err:
        check(config, REPO)
    assert any(message in p and p.startswith("ablations.bad") for p in err.value.problems), err.value.problems


def test_early_bird_needs_a_one_shot_experiment(tmp_path):
    config = _config_with(setting="early_bird", values=[0.5])
    config["results_dir"] = str(tmp_path)
    config["strategies"]["oneshot"] = {**BASE, "rounds": 2}
    with pytest.raises(ConfigError, match="early-bird masks are ranked one shot"):
        check(config, REPO)
