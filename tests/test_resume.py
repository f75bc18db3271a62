"""Resuming a killed training run: which checkpoint is chosen, and a real SIGKILL of a masked round
after an in-round checkpoint, rerun to completion from that checkpoint; a finished run leaves nothing
to resume."""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from conftest import TINY_CONFIG
from lthsteps.checkpoints import load_state_dict, save_state_dict
from lthsteps.masks import load_masks, magnitude_masks, prunable_weights, save_masks, zeros_violations
from lthsteps.resume import (RUN_FILE, checkpoint_iteration, choose_checkpoint, last_checkpoint, resume_or_start,
                             run_identity)

pytest.importorskip("mmdet")


def test_checkpoint_of_the_same_run_is_chosen(tmp_path):
    run = {"config": "a", "files": {"mask": "m1"}, "seed": 0}
    checkpoint = tmp_path / "iter_8.pth"
    assert choose_checkpoint(run, run, checkpoint) == checkpoint
    assert choose_checkpoint(run, run, None) is None  # killed before its first checkpoint
    assert choose_checkpoint(None, run, checkpoint) is None  # nobody recorded who wrote it
    assert choose_checkpoint(run | {"files": {"mask": "m2"}}, run, checkpoint) is None  # another mask
    assert choose_checkpoint(run | {"seed": 1}, run, checkpoint) is None


def test_identity_depends_on_file_contents_not_paths(tmp_path):
    (tmp_path / "a.npz").write_bytes(b"mask")
    (tmp_path / "b.npz").write_bytes(b"mask")
    (tmp_path / "c.npz").write_bytes(b"other mask")
    same = run_identity({"lr": 0.02}, {"mask": tmp_path / "a.npz"}, seed=0)
    assert same == run_identity({"lr": 0.02}, {"mask": tmp_path / "b.npz"}, seed=0)
    assert same != run_identity({"lr": 0.02}, {"mask": tmp_path / "c.npz"}, seed=0)
    assert same != run_identity({"lr": 0.01}, {"mask": tmp_path / "a.npz"}, seed=0)
    # As run.json reads it back: a tuple value equals the list JSON makes of it.
    assert run_identity({}, {}, iters=(1, 2)) == json.loads(json.dumps(run_identity({}, {}, iters=(1, 2))))


def test_another_runs_checkpoints_are_cleared_for_a_fresh_start(tmp_path):
    work = tmp_path / "work"
    old, new = {"config": "old"}, {"config": "new"}
    assert resume_or_start(work, old) is None
    (work / "iter_4.pth").write_bytes(b"checkpoint")
    (work / "last_checkpoint").write_text("/elsewhere/work/iter_4.pth")  # moved results dir: found by name
    (work / "rewind.pth").write_bytes(b"weights")
    (work / "val_loss.json").write_text('[{"iter": 2}]')  # a curve the new run must not continue
    (work / "snapshots").mkdir()
    (work / "snapshots/iter2.pth").write_bytes(b"weights")
    (work / "20261201_000000").mkdir()  # MMEngine's log folder: kept
    assert resume_or_start(work, old) == work / "iter_4.pth"
    assert resume_or_start(work, new) is None
    assert sorted(p.name for p in work.iterdir()) == ["20261201_000000", RUN_FILE]
    assert json.loads((work / RUN_FILE).read_text()) == new


def _round_inputs(voc_descriptor, tmp_path) -> tuple[Path, Path]:
    """Random init weights of the embedded Faster R-CNN and an 80% mask on them."""
    from lthsteps.mm import build_model, load_config
    from lthsteps.train import training_config

    cfg = training_config(load_config(TINY_CONFIG), voc_descriptor, seed=0, work_dir=str(tmp_path / "unused"))
    state = build_model(cfg).state_dict()
    save_state_dict(tmp_path / "init.pth", state)
    masks = magnitude_masks(prunable_weights(state, ["backbone_base", "backbone_top", "rpn", "box_head"]), 0.8)
    save_masks(tmp_path / "mask.npz", masks, {"sparsity": 0.8})
    return tmp_path / "init.pth", tmp_path / "mask.npz"


def test_killed_round_resumes_from_its_last_checkpoint(voc_descriptor, tmp_path):
    init, mask = _round_inputs(voc_descriptor, tmp_path)
    work = tmp_path / "work"
    command = [sys.executable, "-m", "lthsteps.train", "--config", str(TINY_CONFIG), "--dataset",
               voc_descriptor["path"], "--seed", "0", "--work-dir", str(work), "--init", str(init),
               "--start-iter", "2", "--mask", str(mask), "--out", str(tmp_path / "weights.pth"),
               "--report", str(tmp_path / "train.json"), "--val-loss-out", str(tmp_path / "val_loss.json"),
               "--val-loss-measurements", "4", "--cfg-options", "train_cfg.max_iters=16",
               "train_dataloader.batch_size=2", "default_hooks.logger.interval=1",
               "default_hooks.checkpoint.interval=4"]
    # SIGKILL (what SLURM sends after its grace period) as soon as the first in-round checkpoint is complete.
    first = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 600
    while last_checkpoint(work) is None and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(first.pid, signal.SIGKILL)
    assert first.wait() == -signal.SIGKILL, "training ended before it could be killed"
    killed_at = checkpoint_iteration(last_checkpoint(work))
    assert 2 < killed_at < 16 and not (tmp_path / "weights.pth").exists()

    rerun = subprocess.run(command, capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    # MMEngine itself resumed there (weights, optimizer, schedulers, iteration) and trained the rest.
    assert re.search(rf"resumed epoch: 0, iter: {killed_at}\b", rerun.stdout + rerun.stderr)
    report = json.loads((tmp_path / "train.json").read_text())
    assert report["resumed_from_iter"] == killed_at and report["iterations"] == 16
    # The validation losses measured before the kill are kept, the rest measured after: one curve.
    assert [e["iter"] for e in json.loads((tmp_path / "val_loss.json").read_text())] == [2, 4, 8, 12, 16]
    masks, _ = load_masks(mask)
    assert zeros_violations(load_state_dict(tmp_path / "weights.pth"), masks) == {}
    assert report["zeros_violations"] == {}
    assert report["network"]["pruned"] == sum(int((~m).sum()) for m in masks.values())
    # The resumed run is the uninterrupted run, bit for bit (RNG states restored with the checkpoint).
    whole = [arg.replace(str(work), str(tmp_path / "whole_work")).replace(str(tmp_path / "weights.pth"),
             str(tmp_path / "whole.pth")).replace(str(tmp_path / "train.json"), str(tmp_path / "whole.json"))
             for arg in command]
    uninterrupted = subprocess.run(whole, capture_output=True, text=True)
    assert uninterrupted.returncode == 0, uninterrupted.stderr[-3000:]
    resumed, straight = load_state_dict(tmp_path / "weights.pth"), load_state_dict(tmp_path / "whole.pth")
    assert all(torch.equal(resumed[name], straight[name]) for name in straight)
    # A finished run leaves nothing to resume: run again (snakemake --forcerun), it trains from the start.
    assert last_checkpoint(work) is None and not [*work.glob("iter_*.pth"), *work.glob(RUN_FILE)]
    again = subprocess.run(whole, capture_output=True, text=True)
    assert again.returncode == 0, again.stderr[-3000:]
    assert json.loads((tmp_path / "whole.json").read_text())["resumed_from_iter"] is None
    retrained = load_state_dict(tmp_path / "whole.pth")
    assert all(torch.equal(retrained[name], straight[name]) for name in straight)
