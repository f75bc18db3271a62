"""The ticket's controls (lthsteps.branches): a random mask with exactly the ticket's per-layer counts,
and re-initialised weights that keep the ticket's mask and change every weight it keeps."""
from __future__ import annotations

import json

import pytest
import torch

from conftest import TINY_CONFIG
from lthsteps.branches import main, random_mask, reinit_weights
from lthsteps.checkpoints import load_state_dict, save_state_dict
from lthsteps.masks import load_masks, magnitude_masks, prunable_weights, save_masks, zeros_violations


def test_random_mask_has_the_tickets_count_in_every_tensor_at_other_positions():
    gen = torch.Generator().manual_seed(0)
    ticket = {"a": torch.rand(64, 32, generator=gen) > 0.8, "b": torch.rand(10, generator=gen) > 0.3,
              "dense": torch.ones(5, dtype=torch.bool), "empty": torch.zeros(4, dtype=torch.bool)}
    masks = random_mask(ticket, seed=0)
    for name, mask in ticket.items():
        assert masks[name].shape == mask.shape and masks[name].dtype == torch.bool
        assert int((~masks[name]).sum()) == int((~mask).sum())
    assert not torch.equal(masks["a"], ticket["a"])
    assert torch.equal(masks["a"], random_mask(ticket, seed=0)["a"])  # seeded: the same file again
    assert not torch.equal(masks["a"], random_mask(ticket, seed=1)["a"])


def test_random_mask_cli_writes_mask_and_report(tmp_path):
    weights = {"backbone.layer1.0.conv1.weight": torch.randn(4, 4, 3, 3)}
    save_state_dict(tmp_path / "w.pth", weights)
    ticket = magnitude_masks(weights, 0.75)
    save_masks(tmp_path / "ticket.npz", ticket, {"sparsity": 0.75})
    assert main(["random-mask", "--ticket", str(tmp_path / "ticket.npz"), "--weights", str(tmp_path / "w.pth"),
                 "--seed", "3", "--out", str(tmp_path / "r.npz"), "--report", str(tmp_path / "r.json")]) == 0
    masks, meta = load_masks(tmp_path / "r.npz")
    assert meta["control"] == "random_mask" and meta["sparsity"] == 0.75
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["layers"]["backbone.layer1.0.conv1.weight"]["pruned"] == 108  # 3/4 of 144, as the ticket


def test_random_mask_cli_rejects_a_mask_of_another_model(tmp_path, capsys):
    save_state_dict(tmp_path / "w.pth", {"x.weight": torch.randn(3, 3)})
    save_masks(tmp_path / "ticket.npz", {"y.weight": torch.ones(3, 3, dtype=torch.bool)}, {})
    assert main(["random-mask", "--ticket", str(tmp_path / "ticket.npz"), "--weights", str(tmp_path / "w.pth"),
                 "--seed", "0", "--out", str(tmp_path / "r.npz"), "--report", str(tmp_path / "r.json")]) == 2
    assert "error:" in capsys.readouterr().err and not (tmp_path / "r.npz").exists()


def test_reinit_keeps_the_mask_and_changes_every_kept_weight(voc_descriptor, tmp_path):
    pytest.importorskip("mmdet")
    from lthsteps.datasets import load_descriptor
    from lthsteps.mm import bind_dataset, build_model, load_config

    def config():  # sized for the dataset's classes, as training builds it
        return bind_dataset(load_config(TINY_CONFIG), load_descriptor(voc_descriptor["path"]))

    torch.manual_seed(0)
    trained = build_model(config(), init_weights=True).state_dict()
    masks = magnitude_masks(prunable_weights(trained, ["backbone_base", "backbone_top", "rpn", "box_head"]), 0.8)
    save_masks(tmp_path / "mask.npz", masks, {"sparsity": 0.8})
    assert main(["reinit", "--config", str(TINY_CONFIG), "--dataset", voc_descriptor["path"], "--mask", str(tmp_path / "mask.npz"), "--seed", "0",
                 "--out", str(tmp_path / "init.pth")]) == 0
    fresh = load_state_dict(tmp_path / "init.pth")
    assert fresh.keys() == trained.keys()
    assert zeros_violations(fresh, masks) == {}
    for name, mask in masks.items():
        assert bool((fresh[name][mask] != trained[name][mask]).all()), name
    again = reinit_weights(config(), masks, seed=0)
    assert all(torch.equal(again[k], fresh[k]) for k in fresh)  # seeded
