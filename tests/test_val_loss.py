"""ValLossHook: validation losses at iterations 0, 2, 4 of a 4-iteration run (``lthsteps.train
--val-loss-out``), and training unchanged by it."""
from __future__ import annotations

import json
import math

import pytest
import torch

from conftest import FAST, TINY_CONFIG
from lthsteps.train import parse_args, prepare, train
from lthsteps.val_loss import ValLossHook, _FixedRng, loss_pipeline

pytest.importorskip("mmdet")


def _run(voc_descriptor, out, hook: dict | None, *extra: str):
    """lthsteps.train's run of the tiny config, with ``hook`` appended to its custom hooks."""
    import lthsteps.val_loss  # noqa: F401 - registers ValLossHook

    args = parse_args(["--config", str(TINY_CONFIG), "--dataset", voc_descriptor["path"], "--seed", "0",
                       "--work-dir", str(out / "work"), "--out", str(out / "weights.pth"), *extra,
                       "--cfg-options", *[f"{k}={v}" for k, v in FAST.items()]])
    torch.set_num_threads(args.threads)
    cfg, resume_from = prepare(args)
    if hook:
        cfg.custom_hooks.append(hook)
    report, weights = train(cfg, args, resume_from)
    return report, weights


@pytest.fixture(scope="module")
def runs(voc_descriptor, tmp_path_factory):
    with_hook = tmp_path_factory.mktemp("with_hook")
    return (_run(voc_descriptor, tmp_path_factory.mktemp("without_hook"), None),
            _run(voc_descriptor, with_hook, None, "--val-loss-out", str(with_hook / "val_loss.json"),
                 "--val-loss-measurements", "2"),
            with_hook / "val_loss.json")


def test_hook_writes_losses_at_0_2_4(runs, voc_descriptor):
    _, (report, _), out_file = runs
    entries = json.loads(out_file.read_text())
    assert [e["iter"] for e in entries] == [0, 2, 4] and report["iterations"] == 4
    val_images = len(json.loads(open(voc_descriptor["splits"]["val"]["ann_file"]).read())["images"])
    for entry in entries:
        assert entry["max_iters"] == 4 and entry["images"] == val_images
        assert set(entry["losses"]) == {"loss_rpn_cls", "loss_rpn_bbox", "loss_cls", "loss_bbox"}
        values = [entry["loss"], *entry["losses"].values()]
        assert all(math.isfinite(v) and v >= 0 for v in values)
        assert entry["loss"] == pytest.approx(sum(entry["losses"].values()))
    assert entries[0]["loss"] != entries[-1]["loss"]  # the weights changed in between
    print("seconds per measurement:", [e["seconds"] for e in entries], "images:", entries[0]["images"])


def test_training_is_bit_identical_with_and_without_the_hook(runs):
    (_, without), (_, with_), _ = runs
    assert without.keys() == with_.keys()
    different = [k for k in without if not torch.equal(without[k], with_[k])]
    assert not different, different  # includes BN running statistics and num_batches_tracked


def test_the_identity_test_would_see_a_hook_that_disturbs_the_rngs(runs, voc_descriptor, tmp_path, monkeypatch):
    monkeypatch.setattr(_FixedRng, "__exit__", lambda self, *exc: None)  # leave training the hook's seeded RNGs
    (_, without), _, _ = runs
    hook = dict(type="ValLossHook", interval=2, out_file=str(tmp_path / "v.json"))
    _, disturbed = _run(voc_descriptor, tmp_path, hook)
    assert any(not torch.equal(without[k], disturbed[k]) for k in without)


def test_a_round_from_the_rewind_iteration_starts_its_curve_there(runs, voc_descriptor, tmp_path):
    (_, dense), _, _ = runs
    from lthsteps.checkpoints import save_state_dict

    save_state_dict(tmp_path / "rewind.pth", dense)
    _run(voc_descriptor, tmp_path, None, "--init", str(tmp_path / "rewind.pth"), "--start-iter", "2",
         "--val-loss-out", str(tmp_path / "v.json"), "--val-loss-measurements", "2")
    assert [e["iter"] for e in json.loads((tmp_path / "v.json").read_text())] == [2, 4]


def test_loss_pipeline_is_the_train_pipeline_without_randomness():
    train_pipeline = [dict(type="LoadImageFromFile"), dict(type="LoadAnnotations", with_bbox=True),
                      dict(type="RandomChoiceResize", scales=[(1333, 640), (1333, 800)], keep_ratio=True),
                      dict(type="RandomFlip", prob=0.5), dict(type="PackDetInputs")]
    test_pipeline = [dict(type="LoadImageFromFile"), dict(type="Resize", scale=(1333, 800), keep_ratio=True),
                     dict(type="PackDetInputs", meta_keys=("img_id",))]
    assert loss_pipeline(train_pipeline, test_pipeline) == [
        dict(type="LoadImageFromFile"), dict(type="LoadAnnotations", with_bbox=True),
        dict(type="Resize", scale=(1333, 800), keep_ratio=True), dict(type="RandomFlip", prob=0.0),
        dict(type="PackDetInputs")]
    assert train_pipeline[3]["prob"] == 0.5  # the config is not changed
    with pytest.raises(ValueError, match="PhotoMetricDistortion"):
        loss_pipeline(train_pipeline[:2] + [dict(type="PhotoMetricDistortion")], test_pipeline)
    with pytest.raises(ValueError, match="no annotations"):
        loss_pipeline([dict(type="LoadImageFromFile"), dict(type="PackDetInputs")], test_pipeline)


@pytest.mark.parametrize("kwargs", [dict(interval=0), dict(interval=2, num_images=0)])
def test_bad_arguments_are_refused(kwargs, tmp_path):
    with pytest.raises(ValueError):
        ValLossHook(out_file=str(tmp_path / "v.json"), **kwargs)


@pytest.mark.parametrize("config, term", [("mask-rcnn_r18-fpn_tiny.py", "loss_mask"),
                                          ("keypoint-rcnn_r18-fpn_tiny.py", "loss_kpt")])
def test_mask_and_keypoint_models_report_their_head_losses(config, term, synthetic_root, tmp_path):
    import lthsteps.val_loss  # noqa: F401
    from conftest import REPO
    from lthsteps.datasets import prepare as prepare_dataset

    splits = {s: {"ann_file": f"annotations/instances_{s}.json", "img_dir": s} for s in ("train", "val")}
    descriptor = prepare_dataset("tiny_coco", "coco", synthetic_root / "coco", tmp_path / "data", splits)
    (tmp_path / "dataset.json").write_text(json.dumps(descriptor))
    args = parse_args(["--config", str(REPO / "config/models" / config), "--dataset", str(tmp_path / "dataset.json"),
                       "--work-dir", str(tmp_path / "work"), "--out", str(tmp_path / "weights.pth"), "--cfg-options",
                       *[f"{k}={v}" for k, v in (FAST | {"train_cfg.max_iters": 1}).items()]])
    cfg, resume_from = prepare(args)
    cfg.custom_hooks.append(dict(type="ValLossHook", interval=1, num_images=3, out_file=str(tmp_path / "v.json")))
    train(cfg, args, resume_from)
    entries = json.loads((tmp_path / "v.json").read_text())
    assert [e["iter"] for e in entries] == [0, 1] and all(e["images"] == 3 for e in entries)
    assert all(term in e["losses"] and math.isfinite(e["losses"][term]) for e in entries)


@pytest.mark.parametrize("option", [["--val-loss-measurements", "0"], ["--val-loss-images", "0"]])
def test_train_refuses_a_non_positive_val_loss_setting(option, tmp_path, capsys):
    with pytest.raises(SystemExit):
        parse_args(["--config", str(TINY_CONFIG), "--dataset", "d.json", "--work-dir", str(tmp_path), "--out",
                    str(tmp_path / "w.pth"), "--val-loss-out", str(tmp_path / "v.json"), *option])
    assert "--val-loss-measurements and --val-loss-images must be positive" in capsys.readouterr().err


def test_val_loss_interval_is_the_same_for_a_dense_run_and_its_tickets():
    from lthsteps.train import val_loss_interval

    assert val_loss_interval(1200, 10) == 120 and val_loss_interval(400, 10) == 40
    assert val_loss_interval(6, 10) == 1  # a schedule shorter than the measurements: every iteration
