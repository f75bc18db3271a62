"""The workflow on a real SLURM: a single-node cluster started on localhost (slurm_localhost.py)
and `--workflow-profile profiles/slurm`, the way the README runs it.

* the tiny config completes with the same weights, masks, metrics, detections and tables as a
  local run, and only the training rules ask SLURM for GPUs;
* a training job cancelled with scancel is resubmitted by the next Snakemake run and resumes
  from its last in-round checkpoint;
* a partition that does not exist, or more GPUs than a node has, are named by the profile check
  (`lthsteps.resource_check slurm`) before anything is submitted.
"""
from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
import yaml

from lthsteps.checkpoints import load_state_dict
from lthsteps.masks import load_masks
from lthsteps.resume import checkpoint_iteration, last_checkpoint
from slurm_localhost import FAKE_GPUS, LocalSlurm, missing_binaries

REPO = Path(__file__).resolve().parents[1]
TRAINING_RULES = {"train_dense", "train_round", "train_task_transfer", "train_imagenet_transfer", "train_classifier",
                  "train_classifier_round"}

pytestmark = [
    pytest.mark.slurm,
    pytest.mark.skipif(bool(missing_binaries()), reason=f"SLURM is not installed (no {', '.join(missing_binaries())}): "
                                                        "apt-get install slurm-wlm munge"),
]


@pytest.fixture(scope="module")
def slurm(tmp_path_factory):
    cluster = LocalSlurm(tmp_path_factory.mktemp("slurm"))
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()


def job_env(cluster: LocalSlurm) -> dict[str, str]:
    """The cluster's client environment with this interpreter's tools first on PATH."""
    return cluster.env | {"PATH": f"{Path(sys.executable).parent}{os.pathsep}{cluster.env['PATH']}"}


def snakemake(cluster: LocalSlurm, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "snakemake", *args], cwd=REPO, env=job_env(cluster),
                          capture_output=True, text=True)


# The plugin waits this long after a submission or a finished job before it asks squeue (the
# profile's 5 s is kind to a cluster), and slurm_quick_polls.py keeps every later wait at 1 s where
# the plugin adds 10 s after each check that finds nothing finished: the tests' jobs run for seconds,
# so they waited on polls more than on their jobs.
QUICK_POLLS = ("--slurm-init-seconds-before-status-checks", "1")
SNAKEMAKE_ON_SLURM = (sys.executable, str(REPO / "tests/slurm_quick_polls.py"), "--workflow-profile", "profiles/slurm",
                      *QUICK_POLLS)


def on_slurm(cluster: LocalSlurm, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*SNAKEMAKE_ON_SLURM, *args], cwd=REPO, env=job_env(cluster), capture_output=True, text=True)


def tiny_config(tmp_path: Path, name: str, change=lambda config: None) -> Path:
    """config/tiny.yaml without its ablations, analyses and repeated job kinds, with its results in ``tmp_path/name``
    and the training rules on one GPU each."""
    config = yaml.safe_load((REPO / "config/tiny.yaml").read_text())
    config["results_dir"] = str(tmp_path / name)
    config["resources"]["train"]["gpu"] = 1
    # The ablations' and analyses' jobs run the same kinds of commands as the rounds and tables
    # (test_workflow runs them end to end); without them each SLURM run here is ~50 jobs shorter.
    config.pop("ablations", None)
    config.pop("analyses", None)
    # One job of every kind is what SLURM has to show (the classifier's two rounds keep a chain of
    # rounds): the iterative experiment, a second prune percentage and the mask transfer only add
    # jobs of kinds already there (47 jobs -> 35).
    config["experiments"].pop("iterative")
    config["experiments"]["oneshot"]["prune_percents"] = [50]
    config["imagenet_transfers"].pop("imagenet_mask_faster")
    config["comparisons"]["direct_vs_imagenet"]["experiments"] = ["oneshot", "imagenet_ticket_faster"]
    change(config)
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def comparable_results(results: Path) -> dict[str, object]:
    """Every result of a run keyed by its path inside the results dir, with run-specific paths removed."""
    out = {}
    for path in sorted(results.rglob("*")):
        key = str(path.relative_to(results))
        if path.name in {"weights.pth", "rewind.pth", "init.pth"}:
            out[key] = load_state_dict(path)
        elif path.name == "mask.npz":
            out[key] = load_masks(path)[0]
        elif path.name == "metrics.json" or path.parent.name == "detections" or path.parent.name == "tables":
            out[key] = path.read_text().replace(str(results), "<results>")
    return out


def same(a, b) -> bool:
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    return a == b


def sbatch_calls(log: str) -> dict[str, str]:
    """{rule: its sbatch command} from the SLURM executor's --verbose log."""
    calls = {}
    for line in log.splitlines():
        if line.startswith("sbatch call: "):
            args = shlex.split(line.removeprefix("sbatch call: ").split(" --wrap=")[0])
            comment = args[args.index("--comment") + 1]  # rule_<rule>[_wildcards_...]
            calls[comment.removeprefix("rule_").split("_wildcards_")[0]] = line
    return calls


def test_tiny_pipeline_gives_the_local_results(slurm, tmp_path):
    # Both runs at once: the SLURM run spends much of its time waiting on submissions and polls,
    # which the local run's jobs fill (the two write to different results dirs).
    local = subprocess.Popen([sys.executable, "-m", "snakemake", "--cores", "2", "--resources", f"gpu={FAKE_GPUS}",
                              "--configfile", str(tiny_config(tmp_path, "local"))],
                             cwd=REPO, env=job_env(slurm), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        remote = on_slurm(slurm, "--verbose", "--configfile", str(tiny_config(tmp_path, "slurm")))
    finally:
        local_output = local.communicate(timeout=1800)[0]
    assert local.returncode == 0, local_output[-3000:]
    assert remote.returncode == 0, remote.stdout[-3000:] + remote.stderr[-3000:]

    expected, got = comparable_results(tmp_path / "local"), comparable_results(tmp_path / "slurm")
    assert got.keys() == expected.keys() and any(k.startswith("tables/") for k in got)
    assert [k for k in expected if not same(expected[k], got[k])] == []
    # gpu -> --gpus=N for the training rules; no GPU flag at all where gpu is 0.
    calls = sbatch_calls(remote.stdout + remote.stderr)
    assert TRAINING_RULES <= calls.keys() and {"make_mask", "summarize_experiment"} <= calls.keys()
    for rule, call in calls.items():
        assert ("--gpus=1" in call) == (rule in TRAINING_RULES) and call.count("--gpus") <= 1, call


def test_cancelled_training_resumes_from_its_checkpoint(slurm, tmp_path):
    def longer_dense_run(config):
        model = config["models"]["faster_rcnn_r18_c4"]
        del model["pretrained"]  # no classifier stage: the dense run is the only training job
        model["cfg_options"] |= {"train_cfg.max_iters": 40, "default_hooks.checkpoint.interval": 4}

    config = tiny_config(tmp_path, "results", longer_dense_run)
    run = tmp_path / "results/runs/faster_rcnn_r18_c4/seed0/dense"
    # The data locally first: on SLURM the training job is then the only one (no waits on polls).
    data = snakemake(slurm, "--cores", "2", str(tmp_path / "results/datasets/synthetic_voc/dataset.json"),
                     "--configfile", str(config))
    assert data.returncode == 0, data.stderr[-3000:]
    first = subprocess.Popen([*SNAKEMAKE_ON_SLURM,
                              f"{run}/weights.pth", "--configfile", str(config)],
                             cwd=REPO, env=job_env(slurm), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 900
    while last_checkpoint(run / "work") is None and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert first.poll() is None, first.communicate()[0][-3000:]
    [job] = [line.split()[1] for line in slurm.squeue() if line.startswith("rule_train_dense")]
    subprocess.run(["scancel", job], env=slurm.env, check=True)
    output = first.communicate(timeout=300)[0]
    assert first.returncode != 0 and "CANCELLED" in output, output[-3000:]
    killed_at = checkpoint_iteration(last_checkpoint(run / "work"))
    assert killed_at < 40 and not (run / "weights.pth").exists() and not (run / "rewind.pth").exists()

    rerun = on_slurm(slurm, f"{run}/weights.pth", "--configfile", str(config))
    assert rerun.returncode == 0, rerun.stdout[-3000:] + rerun.stderr[-3000:]
    report = json.loads((run / "train.json").read_text())
    assert report["resumed_from_iter"] == killed_at and report["iterations"] == 40
    log = (tmp_path / "results/logs/train_dense/faster_rcnn_r18_c4_seed0.log").read_text()
    assert re.search(rf"resumed epoch: 0, iter: {killed_at}\b", log)
    # The rewind point (iteration 2) was saved before the cancel and survived Snakemake's cleanup.
    rewind, final = load_state_dict(run / "rewind.pth"), load_state_dict(run / "weights.pth")
    assert rewind.keys() == final.keys()
    assert not torch.equal(rewind["rpn_head.rpn_conv.weight"], final["rpn_head.rpn_conv.weight"])


@pytest.mark.parametrize(("default_resources", "change", "message"), [
    ({"slurm_partition": "gpu-long"}, lambda config: None,
     "slurm_partition 'gpu-long' of rule train_dense does not exist on this cluster (sinfo lists debug)"),
    ({}, lambda config: config["resources"]["train"].update(gpu=FAKE_GPUS + 1),
     (f"rule train_dense asks for gpu={FAKE_GPUS + 1} per job, but the nodes of partition 'debug' have at most "
      f"{FAKE_GPUS} GPUs each")),
])
def test_impossible_request_is_named_before_submitting(slurm, tmp_path, default_resources, change, message):
    profile = yaml.safe_load((REPO / "profiles/slurm/config.yaml").read_text())
    profile["default-resources"] |= default_resources
    (tmp_path / "profile").mkdir()
    (tmp_path / "profile/config.yaml").write_text(yaml.safe_dump(profile))
    check = [sys.executable, "-m", "lthsteps.resource_check", "slurm", "--configfile"]
    proc = subprocess.run([*check, str(tiny_config(tmp_path, "results", change)), "--profile", str(tmp_path / "profile")],
                          cwd=REPO, env=job_env(slurm), capture_output=True, text=True)
    assert proc.returncode == 1 and message in proc.stderr
    assert f"{tmp_path}/profile/config.yaml" in proc.stderr  # where to fix it
    # The shipped profile and the config the tests above run pass.
    proc = subprocess.run([*check, str(tiny_config(tmp_path, "ok")), "--profile", "profiles/slurm"], cwd=REPO,
                          env=job_env(slurm), capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
