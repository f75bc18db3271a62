"""Importing an existing ticket: the mask given (or read off the weights' zeros) is the mask written."""
from __future__ import annotations

import json

import pytest
import torch

from lthsteps.checkpoints import load_state_dict, save_state_dict
from lthsteps.classifier import build_classifier
from lthsteps.masks import apply_masks, load_masks, magnitude_masks, prunable_weights, save_masks
from lthsteps.import_ticket import main


@pytest.fixture
def ticket(tmp_path):
    torch.manual_seed(0)
    weights = build_classifier("resnet18", 8, 10).state_dict()
    masks = magnitude_masks(prunable_weights(weights, ["backbone_base", "backbone_top"], ["conv"],
                                             exclude=[r"\.downsample\."]), 0.8)
    apply_masks(weights, masks)
    save_state_dict(tmp_path / "ticket.pth", weights)
    save_masks(tmp_path / "ticket.npz", masks, {"sparsity": 0.8})
    return weights, masks


def _run(tmp_path, *extra):
    return main(["--weights", str(tmp_path / "ticket.pth"), *extra, "--out-weights", str(tmp_path / "w.pth"),
                 "--out-mask", str(tmp_path / "m.npz"), "--report", str(tmp_path / "r.json")])


def test_imported_ticket_reproduces_exactly_the_mask_it_was_given(ticket, tmp_path):
    weights, masks = ticket
    assert _run(tmp_path, "--mask", str(tmp_path / "ticket.npz")) == 0
    written, meta = load_masks(tmp_path / "m.npz")
    assert written.keys() == masks.keys() and all(torch.equal(written[n], masks[n]) for n in masks)
    assert meta["sparsity"] == 0.8 and meta["imported_from"]["mask"] == str(tmp_path / "ticket.npz")
    assert all(torch.equal(load_state_dict(tmp_path / "w.pth")[n], weights[n]) for n in weights)
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["network"]["pruned"] == sum(int((~m).sum()) for m in masks.values())


def test_mask_read_off_the_zeros_of_the_weights(ticket, tmp_path):
    _, masks = ticket
    assert _run(tmp_path) == 0
    written, _ = load_masks(tmp_path / "m.npz")
    # Shortcuts were left dense: read off, they are all-True masks over the same pruned weights.
    assert all(torch.equal(written[n], m) for n, m in masks.items())
    assert all(bool(written[n].all()) for n in written if n not in masks)


def test_weights_that_break_the_mask_are_rejected(ticket, tmp_path, capsys):
    weights, masks = ticket
    weights["layer1.0.conv1.weight"].fill_(1.0)
    save_state_dict(tmp_path / "ticket.pth", weights)
    assert _run(tmp_path, "--mask", str(tmp_path / "ticket.npz")) == 2
    assert "not zero where its mask is zero" in capsys.readouterr().err
    assert not (tmp_path / "m.npz").exists() and not (tmp_path / "w.pth").exists()
