"""The classification stage: schedule, resumable data order, masked training, bad input."""
from __future__ import annotations

import json

import pytest
import torch

from lthsteps.checkpoints import load_state_dict
from lthsteps.classifier import batches, build_classifier, image_folders, learning_rate, main
from lthsteps.masks import magnitude_masks, prunable_weights, save_masks, zeros_violations


def test_learning_rate_warms_up_then_decays_to_zero():
    assert learning_rate(0, 100, 0.1, 10) == pytest.approx(0.01)
    assert learning_rate(9, 100, 0.1, 10) == pytest.approx(0.1)
    assert learning_rate(10, 100, 0.1, 10) == pytest.approx(0.1)
    assert learning_rate(55, 100, 0.1, 10) == pytest.approx(0.05)
    assert learning_rate(100, 100, 0.1, 10) == pytest.approx(0.0)


def test_batches_resume_where_the_dense_run_was():
    data = [(torch.tensor([float(i)]), i) for i in range(10)]
    dense = batches(data, 3, seed=0, start_iter=0)
    seen = [next(dense)[1].tolist() for _ in range(7)]  # 3 batches per epoch: crosses two epochs
    resumed = batches(data, 3, seed=0, start_iter=4)
    assert [next(resumed)[1].tolist() for _ in range(3)] == seen[4:]
    assert sorted(sum(seen[:3], [])) != list(range(10))  # drop_last: 9 of 10 per epoch
    assert seen[:3] != seen[3:6]  # each epoch reshuffled


def test_cached_images_give_the_same_batches(synthetic_root):
    plain, _ = image_folders(synthetic_root / "classification", 32)
    cached, _ = image_folders(synthetic_root / "classification", 32, cache_images=True)
    assert len(cached.loader.__self__) == len(plain)  # every training image decoded once, up front

    def first_batch(dataset):  # random crops and flips: the same draws for both
        torch.manual_seed(0)
        return next(batches(dataset, 4, seed=0, start_iter=0))

    (plain_images, plain_labels), (cached_images, cached_labels) = first_batch(plain), first_batch(cached)
    assert torch.equal(plain_images, cached_images) and torch.equal(plain_labels, cached_labels)


def test_cached_images_give_the_same_weights(dense, synthetic_root, tmp_path):
    assert main(_args(synthetic_root, tmp_path, "--cache-images")) == 0
    cached, plain = load_state_dict(tmp_path / "weights.pth"), load_state_dict(dense / "weights.pth")
    assert all(torch.equal(cached[k], plain[k]) for k in plain)


def _args(synthetic_root, out, *extra):
    return ["--data", str(synthetic_root / "classification"), "--arch", "resnet18", "--width", "8",
            "--image-size", "64", "--iters", "4", "--batch-size", "4", "--out", str(out / "weights.pth"),
            "--report", str(out / "train.json"), *extra]


@pytest.fixture(scope="module")
def dense(synthetic_root, tmp_path_factory):
    out = tmp_path_factory.mktemp("classifier")
    assert main(_args(synthetic_root, out, "--rewind-iter", "2", "--rewind-out", str(out / "rewind.pth"))) == 0
    return out


def test_dense_run_writes_weights_rewind_and_accuracy(dense):
    report = json.loads((dense / "train.json").read_text())
    assert report["iterations"] == 4 and 0 <= report["val_top1"] <= 1 and len(report["classes"]) == 10
    final, rewind = load_state_dict(dense / "weights.pth"), load_state_dict(dense / "rewind.pth")
    assert final.keys() == rewind.keys() and not torch.equal(final["conv1.weight"], rewind["conv1.weight"])


def test_masked_round_keeps_pruned_weights_zero(dense, synthetic_root, tmp_path):
    weights = prunable_weights(load_state_dict(dense / "weights.pth"), ["backbone_base", "backbone_top"], ["conv"])
    masks = magnitude_masks(weights, 0.8)
    assert len(masks) == 1 + 16 + 3  # stem, 8 blocks x 2 convs, 3 projection shortcuts
    save_masks(tmp_path / "mask.npz", masks, {})
    assert main(_args(synthetic_root, tmp_path, "--init", str(dense / "rewind.pth"), "--start-iter", "2",
                      "--mask", str(tmp_path / "mask.npz"))) == 0
    trained = load_state_dict(tmp_path / "weights.pth")
    assert zeros_violations(trained, masks) == {}
    report = json.loads((tmp_path / "train.json").read_text())
    assert report["network"]["pruned"] == sum(int((~m).sum()) for m in masks.values())


def test_bad_input_fails_before_training(dense, synthetic_root, tmp_path, capsys):
    wide = build_classifier("resnet18", 16, 10).state_dict()
    torch.save(wide, tmp_path / "wide.pth")
    cases = ((["--init", str(tmp_path / "wide.pth")], "do not fit resnet18 at width 8"),
             (["--start-iter", "2"], "give them with --init"))
    for extra, message in cases:
        assert main(_args(synthetic_root, tmp_path, *extra)) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: ") and message in err and "Traceback" not in err
    assert main(_args(tmp_path, tmp_path)) == 2
    err = capsys.readouterr().err
    assert "ImageFolder" in err and err.count("\n") == 1
    assert not (tmp_path / "weights.pth").exists()


@pytest.mark.parametrize("native", [True, False])
def test_bfloat16_forward_passes_only_where_native(native, dense, synthetic_root, tmp_path, monkeypatch, capsys):
    import lthsteps.autocast

    monkeypatch.setattr(lthsteps.autocast, "native_bfloat16", lambda: native)
    masks = magnitude_masks(prunable_weights(load_state_dict(dense / "weights.pth"), ["backbone_base"], ["conv"]), 0.5)
    save_masks(tmp_path / "mask.npz", masks, {})
    assert main(_args(synthetic_root, tmp_path, "--autocast", "bfloat16", "--init", str(dense / "rewind.pth"),
                      "--start-iter", "2", "--mask", str(tmp_path / "mask.npz"))) == 0
    report = json.loads((tmp_path / "train.json").read_text())
    trained = load_state_dict(tmp_path / "weights.pth")
    assert report["autocast"] == ("bfloat16" if native else None)
    assert ("no native bfloat16" in capsys.readouterr().err) is not native
    assert all(t.dtype == torch.float32 for t in trained.values() if t.is_floating_point())  # weights stay float32
    assert zeros_violations(trained, masks) == {}
    if not native:  # float32 where bfloat16 would be emulated: the same weights as without the option
        assert main(_args(synthetic_root, tmp_path / "fp32", "--init", str(dense / "rewind.pth"), "--start-iter", "2",
                          "--mask", str(tmp_path / "mask.npz"))) == 0
        plain = load_state_dict(tmp_path / "fp32" / "weights.pth")
        assert all(torch.equal(plain[k], trained[k]) for k in plain)
