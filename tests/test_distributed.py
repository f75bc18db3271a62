"""Several GPUs: the launch command follows the train rules' gpu resource, masks are compared across
ranks, and a masked round trains on two ranks of a CPU process group (gloo, torchrun)."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
import yaml
from snakemake.utils import validate

from conftest import FAST, REPO, TINY_CONFIG
from lthsteps.checkpoints import load_state_dict
from lthsteps.distributed import check_same_on_every_rank, mask_digest, rank_mismatch
from lthsteps.plan import training_runs
from lthsteps.launch import train_command
from lthsteps.masks import load_masks, magnitude_masks, prunable_weights, save_masks, zeros_violations
from lthsteps.mm import bind_dataset, build_model, load_config

# torchrun and `python -m` find this interpreter's packages, as in a Snakemake job (common.smk).
ENV = os.environ | {"PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}


def test_one_gpu_or_none_keeps_the_single_process_command():
    for gpus in (0, 1):
        assert train_command("--config c.py --seed 0", gpus) == "python -m lthsteps.train --config c.py --seed 0"


def test_several_gpus_start_one_rank_each_under_torchrun():
    assert train_command("--config c.py", 4) == (
        "torchrun --standalone --nproc_per_node 4 -m lthsteps.train --launcher pytorch --config c.py")


def test_mask_digest_changes_with_any_bit_name_or_shape():
    mask = {"a.weight": torch.tensor([[True, False], [False, True]]), "b.weight": torch.ones(3, dtype=torch.bool)}
    assert mask_digest(mask) == mask_digest({k: v.clone() for k, v in reversed(mask.items())})
    flipped = mask | {"b.weight": torch.tensor([True, True, False])}
    renamed = {"c.weight" if k == "a.weight" else k: v for k, v in mask.items()}
    reshaped = mask | {"a.weight": mask["a.weight"].reshape(4)}
    assert len({mask_digest(m) for m in (mask, flipped, renamed, reshaped)}) == 4


def test_rank_mismatch_names_the_ranks_that_differ_from_rank_0():
    assert rank_mismatch(["abc", "abc", "abc"], "mask m.npz") is None
    message = rank_mismatch(["abc", "abc", "xyz"], "mask m.npz")
    assert message.startswith("mask m.npz differs between ranks: rank 2 has xyz, rank 0 has abc")


def test_one_process_compares_with_itself():
    assert check_same_on_every_rank("abc", "mask m.npz") == ["abc"]


def _run(command: str, timeout: int) -> subprocess.CompletedProcess:
    return subprocess.run(command, shell=True, cwd=REPO, env=ENV, capture_output=True, text=True, timeout=timeout)


def test_masked_round_on_two_cpu_ranks(voc_descriptor, tmp_path):
    state = build_model(bind_dataset(load_config(TINY_CONFIG), voc_descriptor)).state_dict()
    masks = magnitude_masks(prunable_weights(state, ["backbone_base", "backbone_top", "rpn", "box_head"]), 0.8)
    save_masks(tmp_path / "mask.npz", masks, {"sparsity": 0.8})
    arguments = (f"--config {TINY_CONFIG} --dataset {voc_descriptor['path']} --seed 0 --work-dir {tmp_path / 'work'}"
                 f" --mask {tmp_path / 'mask.npz'} --rewind-iter 2 --rewind-out {tmp_path / 'rewind.pth'}"
                 f" --out {tmp_path / 'weights.pth'} --report {tmp_path / 'train.json'} --threads 2"
                 f" --cfg-options {' '.join(f'{k}={v}' for k, v in FAST.items())}")
    proc = _run(train_command(arguments, 2), timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]

    trained, rewind = load_state_dict(tmp_path / "weights.pth"), load_state_dict(tmp_path / "rewind.pth")
    assert zeros_violations(trained, masks) == {} and zeros_violations(rewind, masks) == {}
    name = "backbone.layer1.0.conv1.weight"
    assert not torch.equal(trained[name], rewind[name])  # the two steps after the rewind point happened
    report = json.loads((tmp_path / "train.json").read_text())
    assert report["iterations"] == FAST["train_cfg.max_iters"] and report["zeros_violations"] == {}
    # Both ranks trained under this mask, and their trained weights have the same zeros.
    ranks = report["ranks"]
    assert ranks["world_size"] == 2 and ranks["mask_sha256"] == [mask_digest(masks)] * 2
    assert len(ranks["nonzero_sha256"]) == 2 and len(set(ranks["nonzero_sha256"])) == 1
    log = next((tmp_path / "work").glob("*/*.log")).read_text()
    assert "Distributed training: True" in log and f"sha256 {mask_digest(masks)}, the same on all 2 ranks" in log


def test_a_different_mask_on_one_rank_stops_every_rank_with_a_clear_error(tmp_path):
    keep = torch.tensor([[True, False, True], [False, True, False]])
    save_masks(tmp_path / "rank0.npz", {"weight": keep}, {})
    save_masks(tmp_path / "rank1.npz", {"weight": keep ^ torch.eye(2, 3, dtype=torch.bool)}, {})
    start = time.perf_counter()
    proc = _run(f"torchrun --standalone --nproc_per_node 2 {REPO / 'tests/rank_mask_worker.py'} "
                f"{tmp_path / 'rank0.npz'} {tmp_path / 'rank1.npz'}", timeout=300)
    assert proc.returncode != 0
    output = proc.stdout + proc.stderr
    assert f"RankMismatch: mask {tmp_path / 'rank0.npz'} differs between ranks: rank 1 has" in output
    assert f"RankMismatch: mask {tmp_path / 'rank1.npz'} differs between ranks: rank 1 has" in output
    assert time.perf_counter() - start < 120  # an error on both ranks, not a wait for a timeout


@pytest.mark.parametrize("gpus, launch", [(0, "python -m lthsteps.train --config"),
                                          (2, "torchrun --standalone --nproc_per_node 2 -m lthsteps.train")])
def test_train_rules_launch_by_their_gpu_resource(gpus, launch, tmp_path):
    config = yaml.safe_load((REPO / "config/tiny.yaml").read_text())
    config["resources"]["train"]["gpu"] = gpus
    config["results_dir"] = str(tmp_path / "results")
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    proc = subprocess.run([sys.executable, "-m", "snakemake", "-n", "-p", "--configfile", str(tmp_path / "config.yaml")],
                          cwd=REPO, env=ENV, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    commands = [line for line in proc.stdout.splitlines() if "-m lthsteps.train" in line]
    validate(config, str(REPO / "workflow/schemas/config.schema.yaml"))  # the defaults the Snakefile sets
    assert len(commands) == len(training_runs(config))  # every detector training job
    # With GPUs, the job first checks it was granted them (lthsteps.resource_check; here it would stop: gpu=0 granted).
    guard = re.compile(rf"python -m lthsteps.resource_check grant --rule train_\w+ --wanted {gpus} --granted 0 2> \S+ && ")
    for line in commands:
        command = line.removeprefix("Shell command: ")
        assert bool(guard.match(command)) == (gpus > 0), command
        assert guard.sub("", command, count=1).startswith(launch), command
