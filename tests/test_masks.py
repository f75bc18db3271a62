"""Tests of lthsteps.masks: pruning arithmetic, groups, mask files, reports and the CLI."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from lthsteps.checkpoints import save_state_dict
from lthsteps.masks import (
    GROUPS,
    apply_masks,
    check_masks_fit,
    group_of,
    group_params,
    iterative_sparsities,
    kept_factors,
    kind_of,
    load_masks,
    magnitude_masks,
    main,
    mask_iou,
    network_params,
    prunable_weights,
    save_masks,
    sparsity_report,
    zero_pruned,
    zeros_violations,
)

REPO = Path(__file__).resolve().parents[1]


def n_pruned(masks: dict[str, torch.Tensor]) -> int:
    return sum(int((~m).sum()) for m in masks.values())


def randn(*shape: int, seed: int = 0, scale: float = 1.0) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed)) * scale


def odd_weights() -> dict[str, torch.Tensor]:
    """Tensors of odd and tiny sizes: 135 + 77 + 1 + 26 = 239 weights."""
    return {
        "a.weight": randn(3, 5, 3, 3, seed=1),
        "b.weight": randn(7, 11, seed=2),
        "c.weight": randn(1, 1, 1, 1, seed=3),
        "d.weight": randn(2, 13, seed=4),
    }


def detector_state_dict() -> dict[str, torch.Tensor]:
    """A tiny state dict with the parameter names of an MMDetection FPN Faster R-CNN."""
    shapes = {
        "backbone.conv1.weight": (8, 3, 7, 7),
        "backbone.bn1.weight": (8,),
        "backbone.bn1.bias": (8,),
        "backbone.bn1.running_mean": (8,),
        "backbone.bn1.running_var": (8,),
        "backbone.layer1.0.conv1.weight": (8, 8, 3, 3),
        "backbone.layer4.0.conv1.weight": (16, 8, 3, 3),
        "neck.lateral_convs.0.conv.weight": (8, 16, 1, 1),
        "neck.lateral_convs.0.conv.bias": (8,),
        "rpn_head.rpn_conv.weight": (8, 8, 3, 3),
        "rpn_head.rpn_conv.bias": (8,),
        "rpn_head.rpn_cls.weight": (3, 8, 1, 1),
        "roi_head.bbox_head.shared_fcs.0.weight": (32, 72),
        "roi_head.bbox_head.fc_cls.weight": (4, 32),
        "roi_head.bbox_head.fc_cls.bias": (4,),
    }
    state = {name: randn(*shape, seed=i) for i, (name, shape) in enumerate(shapes.items())}
    state["backbone.bn1.num_batches_tracked"] = torch.tensor(7)
    return state


# ---------------------------------------------------------------------------------------------
# magnitude_masks


@pytest.mark.parametrize("sparsity", [0.0, 0.1, 0.37, 0.5, 0.8, 0.99])
def test_global_prunes_exact_count_and_smallest(sparsity):
    weights = odd_weights()
    masks = magnitude_masks(weights, sparsity)
    total = sum(w.numel() for w in weights.values())
    assert n_pruned(masks) == round(sparsity * total)
    assert all(masks[n].dtype == torch.bool and masks[n].shape == w.shape for n, w in weights.items())
    pruned = torch.cat([w[~masks[n]].abs() for n, w in weights.items()])
    kept = torch.cat([w[masks[n]].abs() for n, w in weights.items()])
    if len(pruned) and len(kept):
        assert pruned.max() <= kept.min()


@pytest.mark.parametrize("sparsity", [0.0, 0.25, 0.5, 0.9])
def test_layerwise_prunes_exact_count_per_tensor(sparsity):
    weights = odd_weights()
    masks = magnitude_masks(weights, sparsity, scope="layerwise")
    for name, w in weights.items():
        assert int((~masks[name]).sum()) == round(sparsity * w.numel())
        if (~masks[name]).any() and masks[name].any():
            assert w[~masks[name]].abs().max() <= w[masks[name]].abs().min()


@pytest.mark.parametrize("scope", ["global", "layerwise"])
def test_ties_are_exact_and_broken_by_flat_index(scope):
    weights = {"z.weight": torch.zeros(5, 7), "y.weight": torch.zeros(3, 3, 3, 3)}
    masks = magnitude_masks(weights, 0.5, scope=scope)
    if scope == "global":
        assert not masks["z.weight"].any()  # earlier tensor first
        expected_y = round(0.5 * (35 + 81)) - 35
    else:
        assert int((~masks["z.weight"]).sum()) == round(0.5 * 35)
        expected_y = round(0.5 * 81)
    flat = masks["y.weight"].reshape(-1)
    assert not flat[:expected_y].any() and flat[expected_y:].all()


def test_ties_at_the_threshold_only_prune_what_is_needed():
    weights = {"w.weight": torch.tensor([[2.0, 1.0, -1.0, 1.0, 3.0, -1.0]])}
    mask = magnitude_masks(weights, 0.5)["w.weight"]
    assert mask.tolist() == [[True, False, False, False, True, True]]


def test_global_prunes_small_magnitude_layer_more_than_layerwise():
    weights = {"small.weight": randn(20, 20, seed=1, scale=0.01), "large.weight": randn(40, 40, seed=2)}
    glob = magnitude_masks(weights, 0.5, scope="global")
    layer = magnitude_masks(weights, 0.5, scope="layerwise")
    assert n_pruned(glob) == n_pruned(layer) == 1000
    assert int((~glob["small.weight"]).sum()) == 400  # the whole small layer goes first
    assert int((~layer["small.weight"]).sum()) == 200


def two_group_weights() -> dict[str, torch.Tensor]:
    """Backbone convs (one small-scale stem, one unit-scale layer) and a box-head FC 100x larger."""
    return {
        "backbone.conv1.weight": randn(4, 3, 3, 3, seed=1, scale=0.01),  # 108
        "backbone.layer3.0.conv1.weight": randn(6, 4, 3, 3, seed=2),  # 216
        "roi_head.bbox_head.shared_fcs.0.weight": randn(20, 30, seed=3, scale=100.0),  # 600
    }


def test_groupwise_prunes_exact_count_per_group_ranked_within_it():
    weights = two_group_weights()
    masks = magnitude_masks(weights, 0.5, scope="groupwise")
    stem, layer3, fc = (masks[n] for n in weights)
    assert int((~stem).sum()) + int((~layer3).sum()) == round(0.5 * 324)  # backbone_base: 162
    assert int((~fc).sum()) == 300  # box_head: its own half, whatever the backbone's scale
    assert not stem.any()  # within the backbone group the small stem goes first (global ranking)
    for names in (["backbone.conv1.weight", "backbone.layer3.0.conv1.weight"], ["roi_head.bbox_head.shared_fcs.0.weight"]):
        kept = torch.cat([weights[n][masks[n]].abs() for n in names])
        pruned = torch.cat([weights[n][~masks[n]].abs() for n in names])
        assert pruned.max() <= kept.min()
    # Global ranking over both groups empties the backbone first: the imbalance groupwise avoids.
    glob = magnitude_masks(weights, 0.5, scope="global")
    assert not glob["backbone.layer3.0.conv1.weight"].any()
    assert int((~glob["roi_head.bbox_head.shared_fcs.0.weight"]).sum()) == 462 - 324


def test_groupwise_rounds_are_nested_and_exact_per_group():
    weights = two_group_weights()
    masks = None
    for i, sparsity in enumerate(iterative_sparsities(0.9, 3)):
        trained = {n: randn(*w.shape, seed=10 * i + j) for j, (n, w) in enumerate(weights.items())}
        new = magnitude_masks(trained, sparsity, scope="groupwise", previous=masks)
        if masks is not None:
            assert all(not (new[n] & ~masks[n]).any() for n in weights)
        masks = new
        fc = masks["roi_head.bbox_head.shared_fcs.0.weight"]
        assert int((~fc).sum()) == round(sparsity * 600)
        assert n_pruned(masks) - int((~fc).sum()) == round(sparsity * 324)


@pytest.mark.parametrize("scope", ["global", "layerwise"])
def test_previous_pruned_stay_pruned_even_if_large(scope):
    weights = odd_weights()
    # The previous round pruned the LARGEST weights of every tensor: they must stay pruned.
    previous = {n: w.abs() < w.abs().flatten().kthvalue(max(1, w.numel() // 2)).values for n, w in weights.items()}
    previous["c.weight"] = torch.ones(1, 1, 1, 1, dtype=torch.bool)
    masks = magnitude_masks(weights, 0.9, scope=scope, previous=previous)
    for name in weights:
        assert not (masks[name] & ~previous[name]).any(), "a pruned weight came back"
    if scope == "global":
        assert n_pruned(masks) == round(0.9 * 239)
    else:
        assert all(int((~m).sum()) == round(0.9 * m.numel()) for m in masks.values())


def test_previous_equal_to_target_is_unchanged():
    weights = odd_weights()
    previous = magnitude_masks(weights, 0.4)
    retrained = {n: randn(*w.shape, seed=10 + i) for i, (n, w) in enumerate(weights.items())}
    masks = magnitude_masks(retrained, 0.4, previous=previous)
    assert all(torch.equal(masks[n], previous[n]) for n in weights)


# ---------------------------------------------------------------------------------------------
# iterative schedule


@pytest.mark.parametrize("target,rounds", [(0.8, 1), (0.8, 3), (0.2, 5), (0.9, 10), (0.0, 4)])
def test_iterative_sparsities_prune_same_fraction_of_remaining(target, rounds):
    schedule = iterative_sparsities(target, rounds)
    assert len(schedule) == rounds and schedule[-1] == target
    remaining = [1.0] + [1.0 - s for s in schedule]
    fractions = [1 - after / before for before, after in zip(remaining, remaining[1:], strict=False)]
    assert fractions == pytest.approx([1 - (1 - target) ** (1 / rounds)] * rounds)
    assert schedule == sorted(schedule)


def test_iterative_sparsities_one_round_is_one_shot():
    assert iterative_sparsities(0.8, 1) == [0.8]


@pytest.mark.parametrize("scope", ["global", "layerwise"])
def test_round_by_round_pruning_reaches_exact_target(scope):
    weights = odd_weights()
    total = sum(w.numel() for w in weights.values())
    masks = None
    for i, sparsity in enumerate(iterative_sparsities(0.8, 4)):
        # Training changes the weights between rounds; pruned sets must still be nested.
        trained = {n: randn(*w.shape, seed=100 * i + j) for j, (n, w) in enumerate(weights.items())}
        new = magnitude_masks(trained, sparsity, scope=scope, previous=masks)
        if masks is not None:
            assert all(not (new[n] & ~masks[n]).any() for n in weights)
        masks = new
        if scope == "global":
            assert n_pruned(masks) == round(sparsity * total)
    if scope == "global":
        assert n_pruned(masks) == round(0.8 * total)
    else:
        assert all(int((~masks[n]).sum()) == round(0.8 * w.numel()) for n, w in weights.items())


# ---------------------------------------------------------------------------------------------
# errors of the pruning functions


@pytest.mark.parametrize("sparsity", [-0.1, 1.0, 1.5, 80])
def test_sparsity_out_of_range(sparsity):
    with pytest.raises(ValueError, match=r"sparsity must be in \[0, 1\).*e\.g\. 0\.8 for 80%"):
        magnitude_masks(odd_weights(), sparsity)
    with pytest.raises(ValueError, match=r"sparsity must be in \[0, 1\)"):
        iterative_sparsities(sparsity, 2)


@pytest.mark.parametrize("rounds", [0, -1, 1.5, True])
def test_rounds_must_be_positive_int(rounds):
    with pytest.raises(ValueError, match="rounds must be an integer >= 1.*use 1 for one-shot"):
        iterative_sparsities(0.5, rounds)


def test_unknown_scope():
    with pytest.raises(ValueError, match="unknown pruning scope 'local': use one of global, groupwise, layerwise"):
        magnitude_masks(odd_weights(), 0.5, scope="local")


def test_a_scope_is_one_registry_entry_and_a_cli_choice(monkeypatch, tmp_path, checkpoint):
    from lthsteps.masks import SCOPES

    def keep_all(scores, weights, sparsity):  # a trivial scope: prunes nothing
        return {name: torch.ones_like(weights[name], dtype=torch.bool) for name in scores}

    monkeypatch.setitem(SCOPES, "dense", keep_all)
    assert n_pruned(magnitude_masks(odd_weights(), 0.5, scope="dense")) == 0
    out = tmp_path / "mask.npz"
    argv = ["--weights", checkpoint, "--sparsity", "0.5", "--groups", "neck", "--scope", "dense"]
    assert run_cli("prune", *argv, "--out", out, "--report", tmp_path / "r.json") == 0
    assert n_pruned(load_masks(out)[0]) == 0


def test_empty_weights():
    with pytest.raises(ValueError, match="no weights to prune: select groups/kinds"):
        magnitude_masks({}, 0.5)


def test_previous_sparser_than_target():
    weights = odd_weights()
    previous = magnitude_masks(weights, 0.6)
    with pytest.raises(ValueError, match="already prunes 143 of 239 .* more than the 96 .*raise the sparsity"):
        magnitude_masks(weights, 0.4, previous=previous)
    previous = magnitude_masks(weights, 0.6, scope="layerwise")
    with pytest.raises(ValueError, match="already prunes 81 of 135 weights of a.weight"):
        magnitude_masks(weights, 0.4, scope="layerwise", previous=previous)


def test_previous_names_and_shapes_must_match():
    weights = odd_weights()
    previous = magnitude_masks(weights, 0.2)
    missing = {n: m for n, m in previous.items() if n != "b.weight"}
    with pytest.raises(ValueError, match="not in the mask: b.weight.*same groups and kinds"):
        magnitude_masks(weights, 0.5, previous=missing)
    extra = {**previous, "e.weight": torch.ones(3, dtype=torch.bool)}
    with pytest.raises(ValueError, match="not in the weights: e.weight"):
        magnitude_masks(weights, 0.5, previous=extra)
    reshaped = {**previous, "b.weight": previous["b.weight"].reshape(11, 7)}
    with pytest.raises(ValueError, match=r"shape mismatch \(mask vs weights\): b.weight \[11, 7\] vs \[7, 11\]"):
        magnitude_masks(weights, 0.5, previous=reshaped)
    as_int = {**previous, "a.weight": previous["a.weight"].to(torch.uint8)}
    with pytest.raises(ValueError, match="not bool masks: a.weight is torch.uint8"):
        magnitude_masks(weights, 0.5, previous=as_int)


def test_nan_and_integer_weights():
    with pytest.raises(ValueError, match="weight w.weight contains NaN: the checkpoint is broken"):
        magnitude_masks({"w.weight": torch.tensor([[1.0, math.nan]])}, 0.5)
    with pytest.raises(ValueError, match="is torch.int64, not floating point: prune parameters, not buffers"):
        magnitude_masks({"w.weight": torch.ones(2, 2, dtype=torch.int64)}, 0.5)


# ---------------------------------------------------------------------------------------------
# groups and kinds


@pytest.mark.parametrize(
    "name,group",
    [
        # C4 (ResNet layer1-3 backbone, layer4 as shared RoI head)
        ("backbone.conv1.weight", "backbone_base"),
        ("backbone.layer3.5.conv2.weight", "backbone_base"),
        ("roi_head.shared_head.layer4.0.conv1.weight", "backbone_top"),
        ("roi_head.shared_head.layer4.0.downsample.1.running_var", "backbone_top"),
        ("rpn_head.rpn_conv.weight", "rpn"),
        ("rpn_head.rpn_reg.bias", "rpn"),
        ("roi_head.bbox_head.fc_cls.weight", "box_head"),
        ("roi_head.bbox_head.fc_reg.bias", "box_head"),
        # FPN
        ("backbone.layer1.0.bn1.weight", "backbone_base"),
        ("backbone.layer4.1.conv2.weight", "backbone_top"),
        ("neck.lateral_convs.0.conv.weight", "neck"),
        ("neck.fpn_convs.3.conv.bias", "neck"),
        ("roi_head.bbox_head.shared_fcs.1.weight", "box_head"),
        ("roi_head.mask_head.convs.0.conv.weight", "mask_head"),
        ("roi_head.mask_head.conv_logits.weight", "mask_head"),
        ("roi_head.keypoint_head.convs.0.conv.weight", "keypoint_head"),
        ("data_preprocessor.mean", "other"),
        ("roi_head.some_new_head.weight", "other"),
        # torchvision ResNet classifier
        ("conv1.weight", "backbone_base"),
        ("layer3.1.downsample.0.weight", "backbone_base"),
        ("layer4.0.conv1.weight", "backbone_top"),
        ("fc.weight", "other"),
    ],
)
def test_group_of_mmdetection_names(name, group):
    assert group_of(name) == group


def test_group_params_lists_every_group_in_order():
    names = ["neck.a.weight", "backbone.layer4.b.weight", "backbone.conv1.weight", "x.weight"]
    groups = group_params(names)
    assert tuple(groups) == GROUPS
    assert groups["backbone_top"] == ["backbone.layer4.b.weight"]
    assert groups["other"] == ["x.weight"] and groups["rpn"] == []


def test_kinds_and_prunable_weights():
    state = detector_state_dict()
    assert kind_of("backbone.conv1.weight", state["backbone.conv1.weight"]) == "conv"
    assert kind_of("x.weight", torch.zeros(2, 3, 4)) == "conv"
    assert kind_of("roi_head.bbox_head.fc_cls.weight", state["roi_head.bbox_head.fc_cls.weight"]) == "linear"
    assert kind_of("backbone.bn1.weight", state["backbone.bn1.weight"]) is None
    assert kind_of("rpn_head.rpn_conv.bias", state["rpn_head.rpn_conv.bias"]) is None
    assert kind_of("x.running_mean", torch.zeros(2, 2)) is None
    assert list(prunable_weights(state, ["backbone_base", "rpn"], ["conv"])) == [
        "backbone.conv1.weight",
        "backbone.layer1.0.conv1.weight",
        "rpn_head.rpn_conv.weight",
        "rpn_head.rpn_cls.weight",
    ]
    assert list(prunable_weights(state, ["box_head"])) == [
        "roi_head.bbox_head.shared_fcs.0.weight",
        "roi_head.bbox_head.fc_cls.weight",
    ]
    assert prunable_weights(state, ["box_head"], ["conv"]) == {}


def test_prunable_weights_rejects_unknown_groups_and_kinds():
    state = detector_state_dict()
    with pytest.raises(ValueError, match="unknown group.*'head'.*valid groups are backbone_base, backbone_top"):
        prunable_weights(state, ["rpn", "head"])
    with pytest.raises(ValueError, match="unknown kind.*'bn'.*valid kinds are conv, linear"):
        prunable_weights(state, ["rpn"], ["bn"])
    with pytest.raises(ValueError, match="must be a list of names.*pass \\['rpn'\\]"):
        prunable_weights(state, "rpn")


def test_network_params_exclude_batchnorm_statistics():
    names = set(network_params(detector_state_dict()))
    assert "backbone.bn1.weight" in names and "backbone.bn1.bias" in names
    assert not names & {"backbone.bn1.running_mean", "backbone.bn1.running_var", "backbone.bn1.num_batches_tracked"}


# ---------------------------------------------------------------------------------------------
# mask files


def test_save_load_round_trip_is_bit_exact(tmp_path):
    masks = {
        "one.weight": torch.tensor([[False]]),
        "seven.weight": torch.rand(7, generator=torch.Generator().manual_seed(0)) > 0.5,
        "odd.weight": torch.rand(3, 5, 3, 3, generator=torch.Generator().manual_seed(1)) > 0.3,
        "dense.weight": torch.ones(9, 1, dtype=torch.bool),
    }
    meta = {"sparsity": 0.8, "scope": "global", "groups": ["rpn"], "round": 1, "rounds": 3, "source_checkpoint": "x"}
    path = tmp_path / "sub" / "mask.npz"
    save_masks(path, masks, meta)
    loaded, loaded_meta = load_masks(path)
    assert list(loaded) == list(masks) and loaded_meta == meta
    for name, mask in masks.items():
        assert loaded[name].dtype == torch.bool and torch.equal(loaded[name], mask)
    assert [p.name for p in path.parent.iterdir()] == ["mask.npz"]  # no temporary left behind


def test_file_is_readable_with_numpy_alone(tmp_path):
    mask = torch.rand(4, 3, 3, 3, generator=torch.Generator().manual_seed(2)) > 0.5
    path = tmp_path / "mask.bin"  # np.savez would have appended ".npz" to this name
    save_masks(path, {"a.weight": mask}, {"sparsity": 0.5})
    with np.load(path, allow_pickle=False) as npz:
        header = json.loads(str(npz["__meta__"]))
        bits = np.unpackbits(npz["mask/a.weight"], count=mask.numel(), bitorder="little")
    assert header == {
        "format": "lthsteps.masks",
        "version": 1,
        "names": ["a.weight"],
        "shapes": {"a.weight": [4, 3, 3, 3]},
        "sparsity": 0.5,
    }
    assert np.array_equal(bits.astype(bool).reshape(4, 3, 3, 3), mask.numpy())


@pytest.mark.parametrize("sparsity", [0.5, 0.8])
def test_mask_file_is_at_most_a_25th_of_the_weights(tmp_path, sparsity):
    weights = {"a.weight": randn(256, 256, 3, 3, seed=5), "b.weight": randn(1024, 1024, seed=6)}  # 1.64M
    masks = magnitude_masks(weights, sparsity)
    save_masks(tmp_path / "m.npz", masks, {"sparsity": sparsity})
    fp32_bytes = 4 * sum(w.numel() for w in weights.values())
    assert (tmp_path / "m.npz").stat().st_size <= fp32_bytes / 25


def test_save_masks_rejects_bad_input(tmp_path):
    with pytest.raises(ValueError, match=r"meta keys \['names'\] are reserved"):
        save_masks(tmp_path / "m.npz", {"a": torch.ones(2, dtype=torch.bool)}, {"names": []})
    with pytest.raises(ValueError, match="a is torch.float32.*convert them with .bool()"):
        save_masks(tmp_path / "m.npz", {"a": torch.ones(2)}, {})
    assert not list(tmp_path.iterdir())


def test_load_masks_rejects_other_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_masks(tmp_path / "missing.npz")
    text = tmp_path / "text.npz"
    text.write_text("hello")
    checkpoint = tmp_path / "weights.pth"
    save_state_dict(checkpoint, {"a": torch.ones(2)})  # a zip archive too
    plain = tmp_path / "plain.npz"
    np.savez(plain, a=np.zeros(3))
    array = tmp_path / "array.npy"
    np.save(array, np.zeros(3))
    foreign = tmp_path / "foreign.npz"
    np.savez(foreign, __meta__=np.array(json.dumps({"format": "other"})))
    for path in (text, checkpoint, plain, array, foreign):
        with pytest.raises(ValueError, match="is not a mask file of this workflow: make one with"):
            load_masks(path)


def test_load_masks_rejects_other_versions_and_corrupt_files(tmp_path):
    path = tmp_path / "m.npz"
    meta = {"format": "lthsteps.masks", "version": 2, "names": [], "shapes": {}}
    np.savez(path, __meta__=np.array(json.dumps(meta)))
    with pytest.raises(ValueError, match="of version 2; this code reads version 1: regenerate"):
        load_masks(path)
    meta = {**meta, "version": 1, "names": ["a"], "shapes": {"a": [20]}}
    np.savez(path, __meta__=np.array(json.dumps(meta)), **{"mask/a": np.zeros(2, np.uint8)})
    with pytest.raises(ValueError, match="is corrupt: mask/a holds 2 uint8 values, not the bits of shape"):
        load_masks(path)


# ---------------------------------------------------------------------------------------------
# reports, IoU, applying masks


def test_sparsity_report_arithmetic():
    state = detector_state_dict()
    weights = prunable_weights(state, ["backbone_base", "box_head"])
    masks = magnitude_masks(weights, 0.5, scope="layerwise")
    report = sparsity_report(state, masks)
    json.dumps(report)
    total = sum(t.numel() for n, t in state.items() if not n.endswith(("running_mean", "running_var", "tracked")))
    pruned = n_pruned(masks)
    assert report["network"] == {"params": total, "pruned": pruned, "sparsity": pruned / total}
    base = report["groups"]["backbone_base"]
    base_params = 8 * 3 * 49 + 8 + 8 + 8 * 8 * 9  # conv1 + bn1 weight/bias + layer1 conv
    base_pruned = round(0.5 * 8 * 3 * 49) + round(0.5 * 8 * 8 * 9)
    assert base == {
        "params": base_params,
        "prunable": 8 * 3 * 49 + 8 * 8 * 9,
        "pruned": base_pruned,
        "sparsity": base_pruned / base_params,
        "prunable_sparsity": 0.5,
    }
    assert report["groups"]["rpn"]["pruned"] == 0 and report["groups"]["rpn"]["prunable_sparsity"] == 0
    assert "mask_head" not in report["groups"]
    assert sum(g["params"] for g in report["groups"].values()) == total
    assert report["layers"]["roi_head.bbox_head.fc_cls.weight"] == {
        "group": "box_head",
        "numel": 128,
        "pruned": 64,
        "sparsity": 0.5,
    }
    assert set(report["layers"]) == set(masks)


def test_mask_iou():
    a = {"w": torch.tensor([True, False, False, True]), "v": torch.tensor([[False, True]])}
    b = {"w": torch.tensor([True, False, True, False]), "v": torch.tensor([[False, True]])}
    assert mask_iou(a, b) == pytest.approx(2 / 4)  # pruned: a {w1, w2, v0}, b {w1, w3, v0}
    assert mask_iou(a, a) == 1.0
    dense = {"w": torch.ones(4, dtype=torch.bool)}
    assert mask_iou(dense, dense) == 1.0
    assert mask_iou({"w": torch.tensor([False, True])}, {"w": torch.tensor([True, False])}) == 0.0


def test_mask_iou_rejects_different_layouts():
    a = {"w": torch.ones(4, dtype=torch.bool)}
    with pytest.raises(ValueError, match="masks cover different weights.*not in the mask: v.*same model"):
        mask_iou(a, {**a, "v": torch.ones(1, dtype=torch.bool)})
    with pytest.raises(ValueError, match=r"shape mismatch.*w \[4\] vs \[2, 2\]"):
        mask_iou(a, {"w": torch.ones(2, 2, dtype=torch.bool)})


def test_apply_masks_zeroes_pruned_in_place_on_a_module():
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.Linear(5, 6))
    state = model.state_dict()
    masks = magnitude_masks(prunable_weights(state, ["other"]), 0.6)
    before = {n: t.clone() for n, t in state.items()}
    violations = zeros_violations(state, masks)
    assert violations == {n: int((~m).sum()) for n, m in masks.items()}
    apply_masks(state, masks)
    assert zeros_violations(model.state_dict(), masks) == {}
    assert torch.count_nonzero(model[0].weight) == int(masks["0.weight"].sum())
    for name, mask in masks.items():
        assert torch.equal(state[name][mask], before[name][mask])  # kept entries untouched
    assert torch.equal(state["0.bias"], before["0.bias"])


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_zero_pruned_gives_masked_fill_s_numbers_in_the_weight_s_dtype(dtype):
    torch.manual_seed(0)
    params = {"w": torch.nn.Parameter(torch.randn(3, 4).to(dtype)), "v": torch.nn.Parameter(torch.randn(5).to(dtype))}
    masks = {"w": torch.rand(3, 4) > 0.5, "v": torch.tensor([True, False, True, True, False])}
    expected = {n: params[n].detach().masked_fill(~masks[n], 0) for n in masks}
    kept = kept_factors(params, masks)
    assert [(param is params[n], keep.dtype) for (param, keep), n in zip(kept, masks)] == [(True, dtype)] * 2
    zero_pruned(kept)
    for name in masks:
        assert torch.equal(params[name].detach(), expected[name])  # kept entries untouched, pruned ones 0
        assert int(torch.count_nonzero(params[name][~masks[name]])) == 0


def test_check_masks_fit_lists_mismatches():
    state = detector_state_dict()
    masks = {f"roi_head.bbox_head.fcs.{i}.weight": torch.ones(2, dtype=torch.bool) for i in range(7)}
    masks["backbone.conv1.weight"] = torch.ones(8, 3, 3, 3, dtype=torch.bool)
    with pytest.raises(ValueError) as err:
        check_masks_fit(masks, state)
    message = str(err.value)
    assert "fcs.0.weight" in message and "and 2 more" in message and "fcs.6.weight" not in message
    assert "backbone.conv1.weight [8, 3, 3, 3] vs [8, 3, 7, 7]" in message
    assert "made for another model or config; regenerate it" in message
    with pytest.raises(ValueError, match="made for another model"):
        apply_masks(state, masks)
    with pytest.raises(ValueError, match="made for another model"):
        sparsity_report(state, masks)
    check_masks_fit({}, state)


# ---------------------------------------------------------------------------------------------
# command line


@pytest.fixture
def checkpoint(tmp_path) -> Path:
    path = tmp_path / "weights.pth"
    save_state_dict(path, detector_state_dict())
    return path


def run_cli(*argv: str) -> int:
    return main([str(a) for a in argv])


def test_prune_cli_writes_mask_and_report(tmp_path, checkpoint):
    out, report = tmp_path / "mask.npz", tmp_path / "report.json"
    args = ["--weights", checkpoint, "--sparsity", "0.6", "--groups", "backbone_base,backbone_top,rpn"]
    assert run_cli("prune", *args, "--kinds", "conv", "--out", out, "--report", report) == 0
    masks, meta = load_masks(out)
    weights = prunable_weights(detector_state_dict(), ["backbone_base", "backbone_top", "rpn"], ["conv"])
    assert list(masks) == list(weights)
    assert n_pruned(masks) == round(0.6 * sum(w.numel() for w in weights.values()))
    assert meta["groups"] == ["backbone_base", "backbone_top", "rpn"] and meta["kinds"] == ["conv"]
    assert meta["scope"] == "global" and meta["round"] == meta["rounds"] == 1
    assert meta["source_checkpoint"] == str(checkpoint)
    data = json.loads(report.read_text())
    assert data["meta"] == meta and data["network"]["pruned"] == n_pruned(masks)
    assert {p.name for p in tmp_path.iterdir()} == {"weights.pth", "mask.npz", "report.json"}


def test_prune_cli_iterative_rounds_reach_target(tmp_path, checkpoint):
    previous: list[str] = []
    weights = prunable_weights(detector_state_dict(), ["box_head", "neck"])
    for i in (1, 2, 3):
        out = tmp_path / f"mask{i}.npz"
        argv = ["--weights", checkpoint, "--sparsity", "0.7", "--groups", "box_head,neck", "--scope", "layerwise"]
        argv += ["--round", i, "--rounds", 3, *previous, "--out", out, "--report", tmp_path / f"r{i}.json"]
        assert run_cli("prune", *argv) == 0
        previous = ["--previous", out]
    masks, meta = load_masks(out)
    assert meta["round_sparsity"] == meta["sparsity"] == 0.7
    assert all(int((~masks[n]).sum()) == round(0.7 * w.numel()) for n, w in weights.items())
    first, _ = load_masks(tmp_path / "mask1.npz")
    assert load_masks(tmp_path / "mask1.npz")[1]["round_sparsity"] == pytest.approx(1 - 0.3 ** (1 / 3))
    assert all(not (masks[n] & ~first[n]).any() for n in masks)


@pytest.mark.parametrize(
    "change,message",
    [
        ({"--sparsity": "1.2"}, "sparsity must be in [0, 1)"),
        ({"--groups": "rpn,heads"}, "unknown group(s) 'heads'"),
        ({"--kinds": "conv,bn"}, "unknown kind(s) 'bn'"),
        ({"--groups": "mask_head"}, "no weights to prune"),
        ({"--round": "2", "--rounds": "3"}, "pass its mask with --previous"),
        ({"--round": "4", "--rounds": "3"}, "--round must be in 1..3"),
        ({"--rounds": "0"}, "rounds must be an integer >= 1"),
        ({"--weights": "missing.pth"}, "does not exist"),
        ({"--previous": "PREVIOUS_OTHER_GROUPS"}, "previous mask does not match the weights to prune"),
        ({"--previous": "PREVIOUS_DENSER_TARGET", "--sparsity": "0.1"}, "masks only grow"),
    ],
)
def test_prune_cli_bad_input_exits_2_without_outputs(tmp_path, checkpoint, capsys, change, message):
    other = tmp_path / "other.npz"
    save_masks(other, magnitude_masks(prunable_weights(detector_state_dict(), ["neck"]), 0.5), {})
    denser = tmp_path / "denser.npz"
    save_masks(denser, magnitude_masks(prunable_weights(detector_state_dict(), ["rpn"]), 0.5), {})
    options = {"--weights": checkpoint, "--sparsity": "0.5", "--groups": "rpn"}
    options.update(change)
    replace = {"PREVIOUS_OTHER_GROUPS": other, "PREVIOUS_DENSER_TARGET": denser, "missing.pth": tmp_path / "no.pth"}
    argv = [x for k, v in options.items() for x in (k, replace.get(v, v))]
    out, report = tmp_path / "out" / "mask.npz", tmp_path / "out" / "report.json"
    assert run_cli("prune", *argv, "--out", out, "--report", report) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and err.startswith("error: ")
    assert not (tmp_path / "out").exists()


def test_cli_user_error_has_no_traceback(tmp_path):
    argv = ["--weights", tmp_path / "none.pth", "--sparsity", "0.5", "--groups", "rpn"]
    argv += ["--out", tmp_path / "m.npz", "--report", tmp_path / "r.json"]
    result = subprocess.run(
        [sys.executable, "-m", "lthsteps.masks", "prune", *map(str, argv)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and "does not exist" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_report_cli_refuses_weights_that_break_their_mask(tmp_path, checkpoint, capsys):
    mask_path, report_path = tmp_path / "mask.npz", tmp_path / "report.json"
    argv = ["--weights", checkpoint, "--sparsity", "0.5", "--groups", "rpn,box_head"]
    assert run_cli("prune", *argv, "--out", mask_path, "--report", tmp_path / "prune.json") == 0
    masks, meta = load_masks(mask_path)
    trained = detector_state_dict()
    apply_masks(trained, masks)
    save_state_dict(tmp_path / "trained.pth", trained)
    assert run_cli("report", "--weights", tmp_path / "trained.pth", "--mask", mask_path, "--out", report_path) == 0
    report = json.loads(report_path.read_text())
    assert report["zeros_violations"] == {}
    assert report["meta"] == meta and report["network"]["pruned"] == n_pruned(masks)
    report_path.unlink()
    trained["rpn_head.rpn_cls.weight"].fill_(1.0)  # a training step that ignored the mask
    save_state_dict(tmp_path / "trained.pth", trained)
    assert run_cli("report", "--weights", tmp_path / "trained.pth", "--mask", mask_path, "--out", report_path) == 2
    n = int((~masks["rpn_head.rpn_cls.weight"]).sum())
    assert f"not zero where {mask_path} prunes: {n:,} non-zero weights in rpn_head.rpn_cls.weight ({n})" in \
        capsys.readouterr().err
    assert not report_path.exists()


def test_report_cli_rejects_mask_of_another_model(tmp_path, checkpoint, capsys):
    mask_path = tmp_path / "mask.npz"
    save_masks(mask_path, {"backbone.conv1.weight": torch.ones(3, dtype=torch.bool)}, {})
    out = tmp_path / "report.json"
    assert run_cli("report", "--weights", checkpoint, "--mask", mask_path, "--out", out) == 2
    assert "made for another model or config" in capsys.readouterr().err
    assert not out.exists()


FASTER_RCNN_R18_FPN = """
model = dict(
    type='FasterRCNN',
    data_preprocessor=dict(type='DetDataPreprocessor', mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375],
                           bgr_to_rgb=True, pad_size_divisor=32),
    backbone=dict(type='ResNet', depth=18, num_stages=4, out_indices=(0, 1, 2, 3), frozen_stages=1,
                  norm_cfg=dict(type='BN', requires_grad=True), norm_eval=True, style='pytorch', init_cfg=None),
    neck=dict(type='FPN', in_channels=[64, 128, 256, 512], out_channels=64, num_outs=5),
    rpn_head=dict(
        type='RPNHead', in_channels=64, feat_channels=64,
        anchor_generator=dict(type='AnchorGenerator', scales=[8], ratios=[0.5, 1.0, 2.0], strides=[4, 8, 16, 32, 64]),
        bbox_coder=dict(type='DeltaXYWHBBoxCoder', target_means=[0.0] * 4, target_stds=[1.0] * 4),
        loss_cls=dict(type='CrossEntropyLoss', use_sigmoid=True, loss_weight=1.0),
        loss_bbox=dict(type='L1Loss', loss_weight=1.0)),
    roi_head=dict(
        type='StandardRoIHead',
        bbox_roi_extractor=dict(
            type='SingleRoIExtractor', roi_layer=dict(type='RoIAlign', output_size=7, sampling_ratio=0),
            out_channels=64, featmap_strides=[4, 8, 16, 32]),
        bbox_head=dict(
            type='Shared2FCBBoxHead', in_channels=64, fc_out_channels=128, roi_feat_size=7, num_classes=20,
            bbox_coder=dict(type='DeltaXYWHBBoxCoder', target_means=[0.0] * 4, target_stds=[0.1, 0.1, 0.2, 0.2]),
            reg_class_agnostic=False,
            loss_cls=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0),
            loss_bbox=dict(type='L1Loss', loss_weight=1.0))),
    train_cfg=None,
    test_cfg=dict(
        rpn=dict(nms_pre=1000, max_per_img=1000, nms=dict(type='nms', iou_threshold=0.7), min_bbox_size=0),
        rcnn=dict(score_thr=0.05, nms=dict(type='nms', iou_threshold=0.5), max_per_img=100)))
"""


def test_groups_cli_on_a_faster_rcnn_config(tmp_path, capsys):
    pytest.importorskip("mmdet", reason="mmdet is not importable")
    config = tmp_path / "faster_rcnn_r18_fpn.py"
    config.write_text(FASTER_RCNN_R18_FPN)
    assert run_cli("groups", config, "--cfg-options", "model.roi_head.bbox_head.num_classes=3") == 0
    data = json.loads(capsys.readouterr().out)
    groups = data["groups"]
    assert list(groups) == ["backbone_base", "backbone_top", "neck", "rpn", "box_head"]  # no "other"
    assert sum(g["params"] for g in groups.values()) == data["total_params"]
    assert sum(g["share"] for g in groups.values()) == pytest.approx(1.0)
    assert groups["backbone_top"]["prunable"]["conv"] == 512 * 256 * 9 + 512 * 512 * 9 * 3 + 512 * 256  # ResNet-18 C5
    assert groups["backbone_top"]["prunable"]["linear"] == 0
    fc_cls, fc_reg = (3 + 1) * 128, 4 * 3 * 128  # num_classes overridden to 3
    assert groups["box_head"]["prunable"] == {"conv": 0, "linear": 64 * 49 * 128 + 128 * 128 + fc_cls + fc_reg}


def test_exclude_patterns_leave_matching_weights_dense():
    state = {"backbone.layer2.0.conv1.weight": torch.randn(4, 4, 3, 3),
             "backbone.layer2.0.downsample.0.weight": torch.randn(4, 4, 1, 1),
             "backbone.layer2.0.downsample.1.weight": torch.randn(4)}
    weights = prunable_weights(state, ["backbone_base"], exclude=[r"\.downsample\."])
    assert list(weights) == ["backbone.layer2.0.conv1.weight"]
    assert len(prunable_weights(state, ["backbone_base"])) == 2
    with pytest.raises(ValueError, match="not a regular expression"):
        prunable_weights(state, ["backbone_base"], exclude=["(unclosed"])
    with pytest.raises(ValueError, match="list of patterns"):
        prunable_weights(state, ["backbone_base"], exclude=r"\.downsample\.")


def test_prune_cli_exclude_keeps_matches_dense_and_records_it(tmp_path, checkpoint, capsys):
    out, report = tmp_path / "mask.npz", tmp_path / "report.json"
    args = ["prune", "--weights", checkpoint, "--sparsity", "0.5", "--groups", "backbone_base,rpn"]
    assert run_cli(*args, "--exclude", r"^rpn_head\.", "--out", out, "--report", report) == 0
    masks, meta = load_masks(out)
    assert masks and not any(name.startswith("rpn_head.") for name in masks)
    assert meta["exclude"] == [r"^rpn_head\."]
    bad = tmp_path / "bad.npz"
    assert run_cli(*args, "--exclude", "(", "--out", bad, "--report", tmp_path / "bad.json") == 2
    assert "not a regular expression" in capsys.readouterr().err and not bad.exists()
