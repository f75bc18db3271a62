"""Tests of lthsteps.inspect on small artifacts written by the project's own writers."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from lthsteps import paths
from lthsteps.inspect import (InspectError, diff_masks, diff_weights, inspect_path, summarize_mask, summarize_run,
                              summarize_tree, summarize_weights)
from lthsteps.inspect.cli import main
from lthsteps.inspect.layout import classify, find_runs, mask_of
from lthsteps.masks import load_masks, mask_iou, save_masks, save_masks_and_report, zeros_violations

REPO = Path(__file__).resolve().parents[1]


def detector_weights() -> dict[str, torch.Tensor]:
    """A toy detector state dict: 167 network parameters (4 BatchNorm statistics are not), no zero."""
    shapes = {
        "backbone.conv1.weight": (4, 3, 3, 3),  # 108, backbone_base
        "backbone.bn1.weight": (4,),
        "backbone.bn1.bias": (4,),
        "backbone.layer4.0.conv1.weight": (4, 4, 1, 1),  # 16, backbone_top
        "rpn_head.rpn_conv.weight": (2, 4, 1, 1),  # 8, rpn
        "roi_head.bbox_head.fc_cls.weight": (3, 8),  # 24, box_head
        "roi_head.bbox_head.fc_cls.bias": (3,),
    }
    state = {name: torch.arange(1, torch.Size(shape).numel() + 1, dtype=torch.float32).reshape(shape) / 7
             for name, shape in shapes.items()}
    state["backbone.bn1.running_mean"] = torch.zeros(4)
    state["backbone.bn1.running_var"] = torch.ones(4)
    state["backbone.bn1.num_batches_tracked"] = torch.tensor(5)
    return state


def ticket_masks() -> dict[str, torch.Tensor]:
    """Prunes the first 54 of conv1's 108, 12 of layer4's 16 and 6 of fc_cls's 24 weights: 72 of 148."""
    masks = {}
    for name, shape, pruned in (("backbone.conv1.weight", (4, 3, 3, 3), 54),
                                ("backbone.layer4.0.conv1.weight", (4, 4, 1, 1), 12),
                                ("roi_head.bbox_head.fc_cls.weight", (3, 8), 6)):
        flat = torch.ones(torch.Size(shape).numel(), dtype=torch.bool)
        flat[:pruned] = False
        masks[name] = flat.reshape(shape)
    return masks


META = {"sparsity": 0.5, "scope": "global", "groups": ["backbone_base", "backbone_top", "box_head"],
        "kinds": ["conv", "linear"], "exclude": [], "round": 1, "rounds": 1, "source_checkpoint": "dense/weights.pth"}


def masked(state: dict, masks: dict) -> dict:
    return {name: t.masked_fill(~masks[name], 0) if name in masks else t.clone() for name, t in state.items()}


def write_run(folder: Path, weights: dict | None, masks: dict | None = None, metrics: dict | None = None,
              name: str = "weights.pth") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    if masks is not None:
        save_masks_and_report(folder / "mask.npz", folder / "mask.json", masks, META, weights or detector_weights())
    if weights is not None:
        torch.save(weights, folder / name)
        violations = zeros_violations(weights, masks) if masks else {}
        (folder / "train.json").write_text(json.dumps({"iterations": 8, "start_iter": 2, "train_seconds": 1.5,
                                                       "zeros_violations": violations}))
    metrics = metrics or {"bbox": {"mAP": 0.25, "AP50": 0.5}, "segm": None, "keypoints": None,
                          "voc": {"mAP": 0.5, "mode": "11points"}}
    (folder / "metrics.json").write_text(json.dumps(metrics))
    return folder


@pytest.fixture
def tree(tmp_path) -> Path:
    """A results tree: a dense run, a round, a rewind branch (the round's mask), a random-mask branch
    (its own), an imported classifier ticket."""
    results = tmp_path / "results"
    network = paths.detector(str(results), "toy_det", 0)
    state, masks = detector_weights(), ticket_masks()
    write_run(Path(paths.dense_dir(network)), state)
    torch.save(state, Path(paths.dense_dir(network)) / "rewind.pth")
    round1 = paths.round_dir(network, "glob", 50, 1)
    write_run(Path(round1), masked(state, masks), masks)
    write_run(Path(paths.branch_dir(round1, "rewind0")), masked(state, masks))
    other = {name: m.flip(-1) for name, m in masks.items()}
    write_run(Path(paths.branch_dir(round1, "random_mask")), masked(state, other), other)
    classifier = {"conv1.weight": torch.ones(2, 3, 3, 3), "fc.weight": torch.ones(5, 2)}
    clf_mask = {"conv1.weight": torch.ones(2, 3, 3, 3, dtype=torch.bool)}
    clf_mask["conv1.weight"][0] = False
    write_run(Path(paths.imported_ticket_dir(str(results), "toy_clf", 80)), masked(classifier, clf_mask), clf_mask)
    return results


def round_dir(results: Path) -> Path:
    return Path(paths.round_dir(paths.detector(str(results), "toy_det", 0), "glob", 50, 1))


def test_run_folders_are_recognised_by_the_paths_module(tree):
    network = paths.detector(str(tree), "toy_det", 0)
    round1 = paths.round_dir(network, "glob", 50, 1)
    cases = {
        paths.dense_dir(network): ("dense", {"model": "toy_det", "seed": "0"}),
        round1: ("round", {"strategy": "glob", "prune": "50", "round": "1"}),
        paths.branch_dir(round1, "rewind0"): ("branch", {"branch": "rewind0"}),
        paths.imagenet_transfer_dir(str(tree), "toy_det", 0, "tt", 12.5): ("imagenet_transfer", {"prune": "12.5"}),
        paths.task_transfer_dir(str(tree), "toy_det", 0, "xfer", "mask"): ("task_transfer", {"source": "mask"}),
        paths.imported_ticket_dir(str(tree), "toy_clf", 80): ("imported", {"classifier": "toy_clf"}),
        paths.dense_dir(paths.classifier(str(tree), "toy_clf")): ("dense", {"classifier": "toy_clf"}),
        paths.snapshots_dir(network): ("snapshots", {}),
    }
    for folder, (kind, where) in cases.items():
        found = classify(folder)
        assert found is not None and found.kind == kind and where.items() <= found.where.items(), folder
    assert classify(tree) is None and classify(Path(round1) / "detections") is None
    assert [r.kind for r in find_runs(tree)] == ["imported", "dense", "round", "branch", "branch"]
    # A rewind branch trains under its round's mask; a random-mask branch under its own.
    assert mask_of(paths.branch_dir(round1, "rewind0")) == Path(round1) / "mask.npz"
    assert mask_of(paths.branch_dir(round1, "random_mask")) == Path(paths.branch_dir(round1, "random_mask")) / "mask.npz"
    assert mask_of(paths.dense_dir(network)) is None


def test_mask_summary_exact_numbers(tree):
    s = summarize_mask(round_dir(tree) / "mask.npz", layers=True)
    assert (s.tensors, s.masked, s.pruned) == (3, 148, 72) and s.fraction == pytest.approx(72 / 148)
    assert s.groups == {"backbone_base": {"masked": 108, "pruned": 54, "fraction": 0.5},
                        "backbone_top": {"masked": 16, "pruned": 12, "fraction": 0.75},
                        "box_head": {"masked": 24, "pruned": 6, "fraction": 0.25}}
    assert s.layers["roi_head.bbox_head.fc_cls.weight"] == {"group": "box_head", "numel": 24, "pruned": 6,
                                                             "fraction": 0.25}
    assert s.meta["scope"] == "global" and s.report == {"params": 167, "pruned": 72, "sparsity": 72 / 167}
    assert summarize_mask(round_dir(tree) / "mask.npz").layers is None


def test_weights_summary_exact_numbers_and_the_mask_beside_it(tree):
    s = summarize_weights(round_dir(tree) / "weights.pth", round_dir(tree) / "mask.npz", layers=True)
    assert (s.tensors, s.numel) == (10, 167 + 8 + 1)
    assert s.network == {"params": 167, "zeros": 72, "sparsity": 72 / 167}
    assert s.groups == {"backbone_base": {"params": 116, "zeros": 54, "fraction": 54 / 116},
                        "backbone_top": {"params": 16, "zeros": 12, "fraction": 0.75},
                        "rpn": {"params": 8, "zeros": 0, "fraction": 0.0},
                        "box_head": {"params": 27, "zeros": 6, "fraction": 6 / 27}}
    assert "backbone.bn1.running_mean" not in s.layers and s.layers["backbone.conv1.weight"]["zeros"] == 54
    assert s.violations == {} and s.ok
    # The path alone finds the mask beside it.
    assert inspect_path(round_dir(tree) / "weights.pth").mask == str(round_dir(tree) / "mask.npz")


def test_a_good_tree_and_run_folder_pass(tree, capsys):
    run = summarize_run(round_dir(tree))
    assert run.ok and run.kind == "round" and run.metrics == {"bbox mAP": 0.25, "VOC mAP": 0.5}
    assert run.train == {"iterations": 8, "start_iter": 2, "train_seconds": 1.5, "zeros_violations": {}}
    assert [Path(w.path).name for w in run.weights] == ["weights.pth"] and run.weights[0].violations == {}
    summary = summarize_tree(tree)
    assert summary.ok and summary.offending == [] and summary.weights_checked == 4  # dense: no mask
    assert main([str(tree)]) == 0
    out = capsys.readouterr().out
    assert "OK: 4 weights files checked against their masks" in out
    assert main([str(round_dir(tree))]) == 0 and "OK: 1 weights file(s) exactly zero" in capsys.readouterr().out


def test_one_nonzero_weight_off_the_mask_is_reported(tree, capsys):
    branch = Path(paths.branch_dir(str(round_dir(tree)), "rewind0"))
    weights = torch.load(branch / "weights.pth", weights_only=True)
    weights["backbone.layer4.0.conv1.weight"].view(-1)[3] = 1e-8  # pruned by the round's mask
    torch.save(weights, branch / "weights.pth")
    s = summarize_weights(branch / "weights.pth", round_dir(tree) / "mask.npz")
    assert s.violations == {"backbone.layer4.0.conv1.weight": 1} and not s.ok
    assert main([str(branch / "weights.pth")]) == 1
    assert "VIOLATION: 1 weights not zero" in capsys.readouterr().out
    summary = summarize_tree(tree)
    assert not summary.ok and len(summary.offending) == 1
    assert str(branch / "weights.pth") in summary.offending[0] and "backbone.layer4.0.conv1.weight (1)" in summary.offending[0]
    assert main([str(tree)]) == 1
    out = capsys.readouterr().out
    assert "VIOLATION" in out and "PROBLEMS (1):" in out and "backbone.layer4.0.conv1.weight (1)" in out


def test_a_mask_from_another_model_is_reported(tree, capsys):
    other = {"backbone.conv1.weight": torch.ones(8, 3, 7, 7, dtype=torch.bool), "neck.conv.weight":
             torch.zeros(4, 4, 1, 1, dtype=torch.bool)}
    alien = tree / "alien_mask.npz"
    save_masks(alien, other, META)
    weights = round_dir(tree) / "weights.pth"
    with pytest.raises(InspectError, match="is not a mask of .*shape mismatch.*regenerate"):
        summarize_weights(weights, alien)
    assert main([str(weights), "--mask", str(alien)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not in the weights: neck.conv.weight" in err and "Traceback" not in err
    # In a run folder: inspecting the run fails with the same line; the tree lists it and fails.
    save_masks(round_dir(tree) / "mask.npz", other, META)
    assert main([str(round_dir(tree))]) == 2 and "is not a mask of" in capsys.readouterr().err
    summary = summarize_tree(tree)
    assert not summary.ok and any("is not a mask of" in p for p in summary.offending)
    assert main([str(tree)]) == 1 and "PROBLEM" in capsys.readouterr().out
    # diff says so too.
    d = diff_masks(Path(paths.branch_dir(str(round_dir(tree)), "random_mask")) / "mask.npz", alien)
    assert not d.same_model and d.shape_mismatch == {"backbone.conv1.weight": [[4, 3, 3, 3], [8, 3, 7, 7]]}
    assert main(["diff", str(round_dir(tree) / "mask.npz"), str(tree / "imported.npz")]) == 2  # absent
    capsys.readouterr()
    assert main(["diff", str(Path(paths.branch_dir(str(round_dir(tree)), "random_mask")) / "mask.npz"),
                 str(alien)]) == 1
    assert "DIFFERENT MODELS" in capsys.readouterr().out


def test_diff_iou_of_constructed_masks(tmp_path, capsys):
    x_a, x_b = torch.ones(10, 1, dtype=torch.bool), torch.ones(10, 1, dtype=torch.bool)
    x_a[0:6], x_b[3:9] = False, False  # pruned {0..5} and {3..8}: 3 in both, 9 in either
    y = torch.tensor([[False, False, True, True]])  # the same 2 pruned in both
    a = {"backbone.layer1.0.conv1.weight": x_a, "roi_head.bbox_head.fc_cls.weight": y}
    b = {"backbone.layer1.0.conv1.weight": x_b, "roi_head.bbox_head.fc_cls.weight": y.clone()}
    save_masks(tmp_path / "a.npz", a, {})
    save_masks(tmp_path / "b.npz", b, {})
    d = diff_masks(tmp_path / "a.npz", tmp_path / "b.npz")
    assert d.iou == pytest.approx(5 / 11) == pytest.approx(mask_iou(a, b)) and d.same_model
    assert d.layers["backbone.layer1.0.conv1.weight"]["iou"] == pytest.approx(3 / 9)
    assert d.groups["backbone_base"]["iou"] == pytest.approx(1 / 3) and d.groups["box_head"]["iou"] == 1.0
    # A tensor masked in one only is dense in the other: its pruned weights join the union.
    z = torch.tensor([[False, True], [False, True]])
    save_masks(tmp_path / "c.npz", {**a, "rpn_head.rpn_conv.weight": z}, {})
    d = diff_masks(tmp_path / "c.npz", tmp_path / "b.npz")
    assert d.iou == pytest.approx(5 / 13) and d.only_a == ["rpn_head.rpn_conv.weight"] and d.same_model
    assert main(["diff", str(tmp_path / "a.npz"), str(tmp_path / "b.npz"), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["type"] == "MaskDiff" and doc["iou"] == pytest.approx(5 / 11)


def test_diff_of_weights_files(tmp_path):
    a = detector_weights()
    b = {name: t.clone() for name, t in a.items() if name != "rpn_head.rpn_conv.weight"}
    b["backbone.conv1.weight"].view(-1)[:27] += 0.5
    b["backbone.conv1.weight"].view(-1)[0] -= 2.5
    b["extra.weight"] = torch.ones(2)
    torch.save(a, tmp_path / "a.pth")
    torch.save(b, tmp_path / "b.pth")
    d = diff_weights(tmp_path / "a.pth", tmp_path / "b.pth")
    assert list(d.differ) == ["backbone.conv1.weight"] and d.compared == 9 and d.identical == 8
    assert d.differ["backbone.conv1.weight"]["fraction"] == 0.25
    assert d.differ["backbone.conv1.weight"]["max_abs"] == pytest.approx(2.0)
    assert d.only_a == ["rpn_head.rpn_conv.weight"] and d.only_b == ["extra.weight"] and d.same_model


def test_json_output_parses_for_every_kind(tree, capsys):
    for target, kind in ((tree, "TreeSummary"), (round_dir(tree), "RunSummary"),
                         (round_dir(tree) / "mask.npz", "MaskSummary"), (round_dir(tree) / "weights.pth",
                                                                         "WeightsSummary")):
        assert main([str(target), "--json", "--layers"]) == 0
        doc = json.loads(capsys.readouterr().out)
        assert doc["type"] == kind and doc["ok"] is True, target
    assert len(doc["layers"]) == 7 and doc["network"]["zeros"] == 72


def test_bad_inputs_are_one_line_errors(tree, tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("hello")
    (tmp_path / "fake.pth").write_text("not a checkpoint")
    np.savez(tmp_path / "plain.npz", x=np.zeros(3))
    (tmp_path / "empty_dir").mkdir()
    cases = {tmp_path / "missing.pth": "does not exist", tmp_path / "notes.txt": "neither a mask file nor a weights",
             tmp_path / "fake.pth": "not a readable PyTorch weights file", tmp_path / "plain.npz": "not a mask file",
             tmp_path / "empty_dir": "not a run folder or a results tree"}
    for path, message in cases.items():
        assert main([str(path)]) == 2, path
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1 and err.startswith("error: "), err
    assert main(["diff", str(round_dir(tree) / "mask.npz"), str(round_dir(tree) / "weights.pth")]) == 2
    assert "diff compares two masks or two weights files" in capsys.readouterr().err


def test_module_entry_point(tree):
    """``python -m lthsteps.inspect``: exit status and no traceback on bad input."""
    run = [sys.executable, "-m", "lthsteps.inspect"]
    ok = subprocess.run([*run, str(tree)], capture_output=True, text=True, cwd=REPO)
    assert ok.returncode == 0 and "OK: 4 weights files checked" in ok.stdout
    assert "mmdet" not in subprocess.run([sys.executable, "-c", "import sys, lthsteps.inspect.cli; print(sorted(sys.modules))"],
                                         capture_output=True, text=True, cwd=REPO).stdout
    bad = subprocess.run([*run, str(tree / "nothing")], capture_output=True, text=True, cwd=REPO)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr and bad.stderr.startswith("error: ")


def test_reports_match_the_masks_module(tree):
    """The numbers are those of lthsteps.masks: sparsity_report's network line, zeros_violations."""
    masks, _ = load_masks(round_dir(tree) / "mask.npz")
    report = json.loads((round_dir(tree) / "mask.json").read_text())
    s = summarize_weights(round_dir(tree) / "weights.pth", round_dir(tree) / "mask.npz")
    assert s.network["zeros"] == report["network"]["pruned"] and s.network["params"] == report["network"]["params"]
