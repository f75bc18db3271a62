"""Training step: dense run with a rewind point, a masked round that keeps pruned weights at zero
(SGD with momentum and weight decay), and bad input rejected before training."""
from __future__ import annotations

import json

import pytest
import torch

from conftest import FAST, TINY_CONFIG
from lthsteps.checkpoints import load_state_dict, save_state_dict
from lthsteps.classifier import build_classifier
from lthsteps.masks import load_masks, magnitude_masks, prunable_weights, save_masks, zeros_violations
from lthsteps.train import main

pytest.importorskip("mmdet")


def _logged_lr(work_dir) -> dict[int, float]:
    lines = next(work_dir.glob("*/vis_data/scalars.json")).read_text().splitlines()
    return {row["iter"]: row["lr"] for row in map(json.loads, lines)}


def _options():
    return [f"{k}={v}" for k, v in FAST.items()]


@pytest.fixture(scope="module")
def dense_run(voc_descriptor, tmp_path_factory):
    out = tmp_path_factory.mktemp("dense")
    code = main(["--config", str(TINY_CONFIG), "--dataset", voc_descriptor["path"], "--seed", "0",
                 "--work-dir", str(out / "work"), "--out", str(out / "weights.pth"),
                 "--rewind-iter", "2", "--rewind-out", str(out / "rewind.pth"),
                 "--snapshot-iters", "0,2,3", "--snapshot-dir", str(out / "snapshots"),
                 "--report", str(out / "train.json"), "--metrics", str(out / "metrics.json"),
                 "--detections", str(out / "detections"), "--cfg-options", *_options()])
    assert code == 0
    return out


def test_dense_run_writes_weights_rewind_point_and_report(dense_run):
    final, rewind = load_state_dict(dense_run / "weights.pth"), load_state_dict(dense_run / "rewind.pth")
    assert final.keys() == rewind.keys()
    name = "backbone.conv1.weight"
    assert not torch.equal(final[name], rewind[name])  # two more SGD steps happened after the rewind point
    report = json.loads((dense_run / "train.json").read_text())
    assert report["iterations"] == FAST["train_cfg.max_iters"]
    assert report["network"]["pruned"] == 0 and report["network"]["params"] > 0


def test_dense_run_snapshots_are_its_weights_at_those_iterations(dense_run):
    assert sorted(p.name for p in (dense_run / "snapshots").iterdir()) == ["iter0.pth", "iter2.pth", "iter3.pth"]
    snapshot = {n: load_state_dict(dense_run / f"snapshots/iter{n}.pth") for n in (0, 2, 3)}
    rewind = load_state_dict(dense_run / "rewind.pth")  # the weights after 2 iterations
    assert all(torch.equal(snapshot[2][k], rewind[k]) for k in rewind)
    name = "backbone.layer2.0.conv1.weight"
    assert not torch.equal(snapshot[0][name], snapshot[2][name]) and not torch.equal(snapshot[2][name], snapshot[3][name])


def test_evaluation_in_the_training_job_equals_the_evaluate_step(dense_run, voc_descriptor, tmp_path):
    from lthsteps import evaluate

    code = evaluate.main(["--config", str(TINY_CONFIG), "--dataset", voc_descriptor["path"],
                          "--weights", str(dense_run / "weights.pth"), "--metrics", str(tmp_path / "metrics.json"),
                          "--detections", str(tmp_path / "detections"), "--cfg-options", *_options()])
    assert code == 0
    in_training = json.loads((dense_run / "metrics.json").read_text())
    assert in_training["bbox"]["mAP"] is not None and in_training["voc"] is not None
    assert in_training == json.loads((tmp_path / "metrics.json").read_text())
    assert (dense_run / "detections/bbox.json").read_bytes() == (tmp_path / "detections/bbox.json").read_bytes()


def test_masked_round_keeps_pruned_weights_exactly_zero(dense_run, voc_descriptor, tmp_path):
    dense = load_state_dict(dense_run / "weights.pth")
    weights = prunable_weights(dense, ["backbone_base", "backbone_top", "rpn", "box_head"])
    masks = magnitude_masks(weights, 0.8)
    save_masks(tmp_path / "mask.npz", masks, {"sparsity": 0.8})
    # The rewind weights are not zero off-mask: the hook has to zero them before the first step.
    assert zeros_violations(load_state_dict(dense_run / "rewind.pth"), masks)
    code = main(["--config", str(TINY_CONFIG), "--dataset", voc_descriptor["path"], "--seed", "0",
                 "--work-dir", str(tmp_path / "work"), "--init", str(dense_run / "rewind.pth"), "--start-iter", "2",
                 "--mask", str(tmp_path / "mask.npz"), "--out", str(tmp_path / "weights.pth"),
                 "--report", str(tmp_path / "train.json"), "--cfg-options", *_options()])
    assert code == 0
    trained = load_state_dict(tmp_path / "weights.pth")
    assert zeros_violations(trained, masks) == {}
    rewind = load_state_dict(dense_run / "rewind.pth")
    kept_changed = sum(int((trained[n][m] != rewind[n][m]).sum()) for n, m in masks.items())
    assert kept_changed > 0.5 * sum(int(m.sum()) for m in masks.values())  # the kept weights did train
    report = json.loads((tmp_path / "train.json").read_text())
    assert report["start_iter"] == 2 and report["iterations"] == FAST["train_cfg.max_iters"]
    # Late resetting resumes the dense run's schedule: same learning rate at the same iterations.
    assert _logged_lr(tmp_path / "work") == {i: lr for i, lr in _logged_lr(dense_run / "work").items() if i > 2}
    pruned = sum(int((~m).sum()) for m in masks.values())
    assert report["network"]["pruned"] == pruned and report["zeros_violations"] == {}
    assert report["network"]["sparsity"] == pytest.approx(pruned / report["network"]["params"])


def test_masked_round_with_frozen_stages_keeps_frozen_pruned_weights_zero(dense_run, voc_descriptor, tmp_path):
    """Fine-tuning settings (stem and layer1 frozen, BN statistics frozen) under a mask: the frozen
    weights get no gradient hook but are zeroed once and stay so; the others train."""
    dense = load_state_dict(dense_run / "weights.pth")
    masks = magnitude_masks(prunable_weights(dense, ["backbone_base", "backbone_top"]), 0.5)
    save_masks(tmp_path / "mask.npz", masks, {"sparsity": 0.5})
    code = main(["--config", str(TINY_CONFIG), "--dataset", voc_descriptor["path"], "--seed", "0",
                 "--work-dir", str(tmp_path / "work"), "--init", str(dense_run / "rewind.pth"), "--start-iter", "2",
                 "--mask", str(tmp_path / "mask.npz"), "--out", str(tmp_path / "weights.pth"),
                 "--cfg-options", *_options(), "model.backbone.frozen_stages=1", "model.backbone.norm_eval=True"])
    assert code == 0
    trained, rewind = load_state_dict(tmp_path / "weights.pth"), load_state_dict(dense_run / "rewind.pth")
    assert zeros_violations(trained, masks) == {}
    frozen, free = "backbone.layer1.0.conv1.weight", "backbone.layer2.0.conv1.weight"
    keep = masks[frozen]
    assert torch.equal(trained[frozen][keep], rewind[frozen][keep]) and not (trained[frozen][~keep] != 0).any()
    assert not torch.equal(trained[free][masks[free]], rewind[free][masks[free]])


def test_pretrained_classifier_backbone_is_loaded(voc_descriptor, tmp_path):
    torch.manual_seed(1)
    classifier = build_classifier("resnet18", 16, num_classes=10).state_dict()
    save_state_dict(tmp_path / "classifier.pth", classifier)
    # With a learning rate of 0 the conv weights stay what they were loaded as.
    code = main(["--config", str(TINY_CONFIG), "--dataset", voc_descriptor["path"], "--seed", "0",
                 "--work-dir", str(tmp_path / "work"), "--out", str(tmp_path / "weights.pth"),
                 "--pretrained", str(tmp_path / "classifier.pth"),
                 "--cfg-options", *_options(), "optim_wrapper.optimizer.lr=0"])
    assert code == 0
    trained = load_state_dict(tmp_path / "weights.pth")
    assert torch.equal(trained["backbone.layer1.0.conv1.weight"], classifier["layer1.0.conv1.weight"])
    assert torch.equal(trained["roi_head.shared_head.layer4.1.conv2.weight"], classifier["layer4.1.conv2.weight"])


def test_bad_input_fails_before_training_and_leaves_nothing(dense_run, voc_descriptor, tmp_path, capsys):
    dense = load_state_dict(dense_run / "weights.pth")
    save_state_dict(tmp_path / "wide_classifier.pth", build_classifier("resnet18", 32, 10).state_dict())
    wrong = {"backbone.conv1.weight": torch.ones(3, 3, dtype=torch.bool)}
    save_masks(tmp_path / "wrong.npz", wrong, {})
    truncated = dict(list(dense.items())[:5])
    save_state_dict(tmp_path / "truncated.pth", truncated)
    base = ["--config", str(TINY_CONFIG), "--dataset", voc_descriptor["path"], "--work-dir", str(tmp_path / "w"),
            "--out", str(tmp_path / "weights.pth"), "--cfg-options", *_options()]
    cases = [
        (["--mask", str(tmp_path / "wrong.npz")], "shape"),
        (["--init", str(tmp_path / "truncated.pth")], "do not fit the model"),
        (["--init", str(tmp_path / "missing.pth")], "does not exist"),
        (["--rewind-iter", "99", "--rewind-out", str(tmp_path / "r.pth")], "outside training"),
        (["--start-iter", "2"], "give them with --init"),
        (["--pretrained", str(tmp_path / "wide_classifier.pth")], "do not fit this detector's backbone"),
        (["--pretrained", str(tmp_path / "wide_classifier.pth"), "--init", str(dense_run / "rewind.pth")],
         "exclude each other"),
    ]
    for extra, message in cases:
        assert main(base[:-len(_options()) - 1] + extra + base[-len(_options()) - 1:]) == 2
        assert message in capsys.readouterr().err
        assert not (tmp_path / "weights.pth").exists() and not (tmp_path / "w").exists()


def test_mask_file_records_what_made_it(tmp_path):
    masks = {"a.weight": torch.tensor([[True, False], [False, False]])}
    save_masks(tmp_path / "m.npz", masks, {"sparsity": 0.75, "round": 1})
    loaded, meta = load_masks(tmp_path / "m.npz")
    assert torch.equal(loaded["a.weight"], masks["a.weight"]) and meta["sparsity"] == 0.75
