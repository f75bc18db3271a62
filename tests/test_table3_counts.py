"""Table 3 on the embedded Faster R-CNN: every combination of the four modules, each ticked module
losing exactly 80% of its conv and linear weights, and Param % / network sparsity computed exactly
from the parameter counts that `python -m lthsteps.masks groups` prints."""
from __future__ import annotations

import json

import pytest
import torch

from conftest import TINY_CONFIG
from lthsteps import plan
from lthsteps.masks import cli as masks_cli
from lthsteps.masks import magnitude_masks, prunable_weights, sparsity_report

pytest.importorskip("mmdet")

CONFIG = {
    "results_dir": "out", "models": {"det": {"rewind_iter": 600}},
    "strategies": {"base_top": {"scope": "global", "rounds": 1, "groups": ["backbone_base", "backbone_top"],
                                "kinds": ["conv"], "exclude": []}},
    "experiments": {"direct": {"model": "det", "strategy": "base_top", "prune_percents": [80], "seeds": [0]}},
    "ablations": {"table3": {"experiment": "direct", "setting": "modules", "scope": "groupwise",
                             "values": list(plan.TABLE3_MODULES), "prune_percents": [80]}},
}


def test_each_ticked_module_loses_exactly_80_percent(capsys):
    from lthsteps.mm import build_model, load_config

    assert masks_cli.main(["groups", str(TINY_CONFIG)]) == 0
    groups = json.loads(capsys.readouterr().out)
    total = groups["total_params"]
    torch.manual_seed(0)
    state = build_model(load_config(TINY_CONFIG), init_weights=True).state_dict()
    ablation = CONFIG["ablations"]["table3"]
    values = plan.ablation_values(ablation)
    assert len(values) == 15
    for value in values:
        _, strategy = plan.derived_strategy(CONFIG, ablation, value)
        assert strategy["kinds"] == ["conv", "linear"]  # the Box/Cls head is two FCs
        ticked = value.split("+")
        weights = prunable_weights(state, strategy["groups"], strategy["kinds"], strategy["exclude"])
        report = sparsity_report(state, magnitude_masks(weights, 0.8, strategy["scope"]))
        prunable = {g: sum(groups["groups"][g]["prunable"].values()) for g in ticked}
        for g in plan.TABLE3_MODULES:
            expected = round(0.8 * prunable[g]) if g in ticked else 0
            assert report["groups"][g]["pruned"] == expected, (value, g)
            assert report["groups"][g]["params"] == groups["groups"][g]["params"]
        assert report["network"]["params"] == total
        assert report["network"]["pruned"] == sum(round(0.8 * n) for n in prunable.values())
        param_percent = 100 * sum(groups["groups"][g]["params"] for g in ticked) / total
        # Network sparsity = 0.8 x Param % up to the parameters that are not weights (biases, BN).
        assert report["network"]["sparsity"] * 100 <= 0.8 * param_percent + 1e-9
        assert report["network"]["sparsity"] * 100 == pytest.approx(0.8 * param_percent, rel=0.02)
