"""The checks of GPU requests: a training job granted fewer GPUs than the config asks for, and a
profile's SLURM partitions against sinfo, with the messages that name the problem and the fix (the
partition check against a real SLURM is in test_slurm.py)."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from lthsteps.launch import gpu_guard
from lthsteps.resource_check import (TRAINING_RULES, Request, grant_problem, gres_gpus, workflow_config, main, parse_sinfo,
                                     profile_requests, slurm_problems)

REPO = Path(__file__).resolve().parents[1]
PROFILE = "profiles/slurm/config.yaml"
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
    assert slurm_problems(requests, partitions, default, PROFILE) == []


def test_more_gpus_than_a_node_has_names_rule_partition_and_fix():
    partitions, default = parse_sinfo(SINFO_OUTPUT)
    [problem] = slurm_problems({Request("train_round", 4, "small")}, partitions, default, PROFILE)
    assert "rule train_round asks for gpu=4" in problem and "'small' have at most 2 GPUs" in problem
    assert "profiles/slurm/config.yaml" in problem
    [problem] = slurm_problems({Request("train_round", 1)}, partitions, default, PROFILE)  # default partition: no GPUs
    assert "'cpu' have at most 0 GPUs" in problem


def test_missing_partition_lists_the_existing_ones():
    partitions, default = parse_sinfo(SINFO_OUTPUT)
    [problem] = slurm_problems({Request("train_dense", 0, "gpu-long")}, partitions, default, PROFILE)
    assert "slurm_partition 'gpu-long' of rule train_dense does not exist" in problem and "cpu, gpu, small" in problem
    [problem] = slurm_problems({Request("train_dense", 0)}, partitions, None, PROFILE)
    assert "no default partition" in problem


def test_a_job_granted_fewer_gpus_than_asked_stops_naming_the_fix(capsys):
    assert grant_problem("train_dense", 2, 2) is None and grant_problem("train_dense", 1, 4) is None
    problem = grant_problem("train_dense", 1, 0)
    assert "rule train_dense asks for gpu=1 per job" in problem and "this run granted gpu=0" in problem
    assert "--resources gpu=N" in problem and "--workflow-profile profiles/slurm" in problem
    assert main(["grant", "--rule", "train_round", "--wanted", "2", "--granted", "1"]) == 1
    assert "rule train_round asks for gpu=2 per job" in capsys.readouterr().err
    assert main(["grant", "--rule", "train_round", "--wanted", "2", "--granted", "2"]) == 0


def test_training_commands_check_their_gpus_only_when_the_config_asks_for_some():
    assert gpu_guard(0) == ""
    assert gpu_guard(2) == "python -m lthsteps.resource_check grant --rule {rule} --wanted 2 --granted {resources.gpu} 2> {log} && "


def test_training_rules_are_the_rules_with_the_training_resources():
    # The rules whose `resources:` are the config's `resources.train` (**TRAIN), from the workflow's source.
    rules = set()
    for smk in (REPO / "workflow/rules").glob("*.smk"):
        for block in re.split(r"^rule ", smk.read_text(), flags=re.M)[1:]:
            if "**TRAIN," in block:
                rules.add(block.split(":", 1)[0])
    assert rules == set(TRAINING_RULES)


def test_profile_partitions_per_rule_in_both_of_snakemakes_forms():
    config = {"resources": {"train": {"gpu": 2}, "light": {"gpu": 0}}}
    as_mappings = {"default-resources": {"slurm_partition": "cpu", "runtime": 60},
                   "set-resources": {"train_round": {"slurm_partition": "gpu"}, "make_mask": {"slurm_partition": "x"}}}
    as_lists = {"default-resources": ["slurm_partition=cpu", "runtime=60"],
                "set-resources": ["train_round:slurm_partition='gpu'", "make_mask:slurm_partition=x"]}
    for profile in (as_mappings, as_lists):
        requests = profile_requests(profile, config)
        assert Request("train_round", 2, "gpu") in requests and Request("train_dense", 2, "cpu") in requests
        assert Request("make_mask", 0, "x") in requests and len(requests) == len(TRAINING_RULES) + 1
    assert profile_requests({}, config) == {Request(rule, 2) for rule in TRAINING_RULES}


def test_config_files_replace_the_default_and_update_one_another(tmp_path):
    (tmp_path / "a.yaml").write_text(yaml.safe_dump({"resources": {"train": {"gpu": 2, "mem_mb": 1}}}))
    (tmp_path / "b.yaml").write_text(yaml.safe_dump({"resources": {"train": {"gpu": 4}}}))
    assert workflow_config([str(tmp_path / "a.yaml"), str(tmp_path / "b.yaml")]) == {
        "resources": {"train": {"gpu": 4, "mem_mb": 1}}}
    default = workflow_config([])
    assert default == yaml.safe_load((REPO / "config/config.yaml").read_text())


def test_a_training_job_granted_no_gpu_stops_before_training(tmp_path):
    # profiles/default says this machine has no GPUs (gpu: 0): Snakemake cuts a request of 1 to 0, so the
    # first training job must stop instead of training without its GPU.
    config = yaml.safe_load((REPO / "config/tiny.yaml").read_text())
    config["resources"]["train"]["gpu"] = 1
    config["results_dir"] = str(tmp_path / "results")
    (tmp_path / "gpu.yaml").write_text(yaml.safe_dump(config))
    env = os.environ | {"PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    proc = subprocess.run([sys.executable, "-m", "snakemake", "--cores", "1",
                           str(tmp_path / "results/classifiers/resnet18_w16/dense/weights.pth"),
                           "--configfile", str(tmp_path / "gpu.yaml")],
                          cwd=REPO, env=env, capture_output=True, text=True)
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "rule train_classifier asks for gpu=1 per job (config `resources.train.gpu`), but this run granted gpu=0" \
        in output and "--resources gpu=N" in output
    assert not list((tmp_path / "results").rglob("*.pth")) and not list((tmp_path / "results").rglob("train.json"))
