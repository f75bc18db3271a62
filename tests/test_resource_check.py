"""Start-up check of GPU requests: sinfo parsing and the messages that name the problem and the fix
(the same checks against a real SLURM are in test_slurm.py)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from lthsteps.resource_check import Request, check_requests, gres_gpus, limit_problems, parse_sinfo, slurm_problems

REPO = Path(__file__).resolve().parents[1]
SINFO_OUTPUT = "cpu*|(null)\ngpu|gpu:a100:4(S:0-1),shard:8\ngpu|gpu:a100:8(S:0-1)\nsmall|gpu:2\n"


@pytest.mark.parametrize(("gres", "gpus"), [
    ("(null)", 0), ("gpu", 1), ("gpu:2", 2), ("gpu:a100:4(S:0-1),shard:8", 4), ("gpu:t4:1,gpu:v100:2", 3),
    ("shard:8", 0),
])
def test_gpus_are_read_from_every_gres_form(gres, gpus):
    assert gres_gpus(gres) == gpus


def test_sinfo_gives_the_largest_node_of_each_partition_and_the_default():
    assert parse_sinfo(SINFO_OUTPUT) == ({"cpu": 0, "gpu": 8, "small": 2}, "cpu")


def test_requests_a_partition_can_run_pass():
    partitions, default = parse_sinfo(SINFO_OUTPUT)
    requests = {Request("train_round", 8, "gpu"), Request("make_mask", 0), Request("train_dense", 2, "small")}
    assert slurm_problems(requests, partitions, default) == []
    assert limit_problems(requests, None) == [] and limit_problems(requests, 8) == []


def test_more_gpus_than_a_node_has_names_rule_partition_and_fix():
    partitions, default = parse_sinfo(SINFO_OUTPUT)
    [problem] = slurm_problems({Request("train_round", 4, "small")}, partitions, default)
    assert "rule train_round asks for gpu=4" in problem and "'small' have at most 2 GPUs" in problem
    assert "profiles/slurm/config.yaml" in problem
    [problem] = slurm_problems({Request("train_round", 1)}, partitions, default)  # default partition: no GPUs
    assert "'cpu' have at most 0 GPUs" in problem


def test_missing_partition_lists_the_existing_ones():
    partitions, default = parse_sinfo(SINFO_OUTPUT)
    [problem] = slurm_problems({Request("train_dense", 0, "gpu-long")}, partitions, default)
    assert "slurm_partition 'gpu-long' of rule train_dense does not exist" in problem and "cpu, gpu, small" in problem
    [problem] = slurm_problems({Request("train_dense", 0)}, partitions, None)
    assert "no default partition" in problem


def test_request_above_the_runs_gpu_limit_is_an_error_not_a_silent_cut():
    with pytest.raises(ValueError, match=r"rule train_dense asks for gpu=1 per job, but this run allows gpu=0"):
        check_requests({Request("train_dense", 1), Request("make_mask", 0)}, gpu_limit=0, on_slurm=False)
    check_requests({Request("train_dense", 2)}, gpu_limit=2, on_slurm=False)


def test_workflow_stops_before_any_job_when_a_gpu_request_would_be_cut(tmp_path):
    # profiles/default says this machine has no GPUs (gpu: 0); a config asking for one must not run without it.
    config = yaml.safe_load((REPO / "config/tiny.yaml").read_text())
    config["resources"]["train"]["gpu"] = 1
    config["results_dir"] = str(tmp_path / "results")
    (tmp_path / "gpu.yaml").write_text(yaml.safe_dump(config))
    env = os.environ | {"PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    proc = subprocess.run([sys.executable, "-m", "snakemake", "--cores", "1", "--configfile",
                           str(tmp_path / "gpu.yaml")], cwd=REPO, env=env, capture_output=True, text=True)
    assert proc.returncode != 0
    assert "rule train_dense asks for gpu=1 per job, but this run allows gpu=0" in proc.stdout + proc.stderr
    assert "--resources gpu=N" in proc.stdout + proc.stderr and not (tmp_path / "results").exists()
