"""Checks that the training jobs get the GPUs the config asks for, with the fix named when they do not.

Two ways a request goes unmet, and the check for each (with Snakemake's public interface only: a
Snakefile cannot see the run's ``--resources`` limit, its executor or a job's SLURM partition):

* **the run's own limit** (``resources: gpu`` of a profile, or ``--resources gpu=N``) is below the
  config's ``resources.train.gpu``: Snakemake silently cuts a job's request to the limit, so the
  job would run without its GPUs. Every training job therefore starts with ``grant``, which
  compares the GPUs Snakemake granted the job (``{resources.gpu}``) with those the config asks for
  and stops the job, naming the fix, before anything is loaded (``lthsteps.launch.gpu_guard``);
* **on SLURM, a partition** that does not exist, or whose nodes have fewer GPUs than a job asks
  for (a job runs on one node): ``sbatch`` rejects such a job when Snakemake submits it, which for
  a round may be hours into the run. ``slurm`` checks every training rule's partition in a
  workflow profile against ``sinfo`` beforehand, in seconds (docs/cluster.md).

  python -m lthsteps.resource_check slurm --profile profiles/slurm [--configfile config/paper/coco_tasks.yaml]
"""
from __future__ import annotations

import argparse
import re
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

SINFO = ["sinfo", "--noheader", "--all", "--format=%P|%G"]
DEFAULT_CONFIG = "config/config.yaml"
# The rules whose jobs get the config's `resources.train` (every other rule: `resources.light`);
# tests/test_workflow.py checks this against the workflow's rules.
TRAINING_RULES = ("train_dense", "train_round", "train_task_transfer", "train_imagenet_transfer", "train_branch",
                  "train_classifier", "train_classifier_round")


@dataclass(frozen=True)
class Request:
    """What the jobs of one rule ask for; ``partition`` None means SLURM's default partition."""

    rule: str
    gpu: int
    partition: str | None = None


def grant_problem(rule: str, wanted: int, granted: int) -> str | None:
    """The problem, if a job of ``rule`` was granted fewer GPUs than the config asks for."""
    if granted >= wanted:
        return None
    return (
        f"rule {rule} asks for gpu={wanted} per job (config `resources.train.gpu`), but this run granted gpu={granted}: "
        f"Snakemake cuts a job's request to the run's limit, and the job would run without its GPUs. Locally, give "
        f"the GPUs of this machine: --resources gpu=N. On SLURM, run with --workflow-profile profiles/slurm: it "
        f"replaces profiles/default, whose `resources: gpu: 0` (no GPUs on this machine) also applies next to --profile"
    )


def gres_gpus(gres: str) -> int:
    """GPUs in a node's GRES string, e.g. ``gpu:a100:4(S:0-1),shard:8`` -> 4, ``gpu:2`` -> 2, ``(null)`` -> 0."""
    total = 0
    for item in gres.split(","):
        name, *rest = re.sub(r"\(.*\)$", "", item.strip()).split(":")  # drop the socket binding "(S:0-1)"
        if name == "gpu":
            total += int(rest[-1]) if rest and rest[-1].isdigit() else 1
    return total


def parse_sinfo(text: str) -> tuple[dict[str, int], str | None]:
    """({partition: most GPUs on one of its nodes}, default partition) from ``SINFO`` output."""
    partitions: dict[str, int] = {}
    default = None
    for line in text.splitlines():
        if "|" not in line:
            continue
        name, gres = line.strip().split("|", 1)
        if name.endswith("*"):  # sinfo marks the default partition
            name = default = name[:-1]
        partitions[name] = max(partitions.get(name, 0), gres_gpus(gres))
    return partitions, default


def profile_requests(profile: Mapping, config: Mapping) -> set[Request]:
    """Each training rule's GPUs (the config's ``resources.train.gpu``) and partition (the profile's
    ``set-resources`` for the rule, else its ``default-resources``), and those of any other rule the
    profile names (``resources.light.gpu``)."""
    default = _as_mapping(profile.get("default-resources")).get("slurm_partition")
    per_rule: dict[str, dict] = {}
    for rule, value in _as_mapping(profile.get("set-resources"), rule_keyed=True).items():
        per_rule[rule] = _as_mapping(value)
    gpus = {kind: int(config["resources"][kind]["gpu"]) for kind in ("train", "light")}
    rules = dict.fromkeys(TRAINING_RULES, "train") | {rule: "light" for rule in per_rule if rule not in TRAINING_RULES}
    return {Request(rule, gpus[kind], (per_rule.get(rule) or {}).get("slurm_partition", default))
            for rule, kind in rules.items()}


def _as_mapping(value, rule_keyed: bool = False) -> dict:
    """A profile's resources as a mapping, from either of Snakemake's forms: a mapping, or a list of
    ``key=value`` (``rule:key=value`` for ``set-resources``)."""
    if not value:
        return {}
    if isinstance(value, Mapping):
        return dict(value)
    out: dict = {}
    for item in value:
        key, _, setting = str(item).partition("=")
        if rule_keyed:
            rule, _, key = key.partition(":")
            out.setdefault(rule, {})[key] = setting.strip("'\"")
        else:
            out[key] = setting.strip("'\"")
    return out


def slurm_problems(requests: set[Request], partitions: dict[str, int], default: str | None, profile: str) -> list[str]:
    """Requests a SLURM cluster with these partitions cannot run; ``profile`` is where to fix them."""
    problems = []
    for r in sorted(requests, key=lambda r: r.rule):
        partition = r.partition or default
        if partition is None:
            problems.append(f"rule {r.rule} names no slurm_partition and the cluster has no default partition: "
                            f"set slurm_partition in {profile} (default-resources or set-resources)")
        elif partition not in partitions:
            problems.append(f"slurm_partition '{partition}' of rule {r.rule} does not exist on this cluster "
                            f"(sinfo lists {', '.join(sorted(partitions))}): set slurm_partition in {profile} "
                            "(default-resources or set-resources) to one of them")
        elif r.gpu > partitions[partition]:
            problems.append(f"rule {r.rule} asks for gpu={r.gpu} per job, but the nodes of partition '{partition}' "
                            f"have at most {partitions[partition]} GPUs each, and a job runs on one node: lower the "
                            "gpu of the config's `resources` for it, or point the rule at a partition with more GPUs "
                            f"per node (slurm_partition under set-resources in {profile})")
    return problems


def slurm_partitions() -> tuple[dict[str, int], str | None]:
    """The cluster's partitions, as ``parse_sinfo`` returns them."""
    try:
        result = subprocess.run(SINFO, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as err:
        raise RuntimeError(f"`{' '.join(SINFO)}` failed ({err}): run this on a host where the SLURM commands "
                           "reach the cluster") from err
    if result.returncode:
        raise RuntimeError(f"`{' '.join(SINFO)}` failed: {result.stderr.strip()}")
    return parse_sinfo(result.stdout)


def workflow_config(configfiles: list[str]) -> dict:
    """The workflow's config as Snakemake reads it here: ``config/config.yaml`` unless config files are
    given (then those alone, later ones updating earlier ones key by key, as ``--configfile`` does)."""
    from snakemake.utils import update_config

    config: dict = {}
    for path in configfiles or [DEFAULT_CONFIG]:
        update_config(config, yaml.safe_load(Path(path).read_text()) or {})
    return config


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lthsteps.resource_check", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    grant = sub.add_parser("grant", help="stop a job that was granted fewer GPUs than the config asks for")
    grant.add_argument("--rule", required=True)
    grant.add_argument("--wanted", type=int, required=True, help="the config's resources.train.gpu")
    grant.add_argument("--granted", type=int, required=True, help="the job's {resources.gpu}")
    slurm = sub.add_parser("slurm", help="check a workflow profile's partitions against this cluster's sinfo")
    slurm.add_argument("--profile", required=True, help="a workflow profile folder or its config.yaml")
    slurm.add_argument("--configfile", action="append", default=[], help=f"as for snakemake (default {DEFAULT_CONFIG})")
    args = parser.parse_args(argv)

    if args.command == "grant":
        problems = [p] if (p := grant_problem(args.rule, args.wanted, args.granted)) else []
    else:
        profile_file = Path(args.profile)
        if profile_file.is_dir():
            profile_file /= "config.yaml"
        for path in (profile_file, *args.configfile):
            if not Path(path).is_file():
                parser.error(f"{path} does not exist: give a workflow profile folder (e.g. profiles/slurm) and "
                             "the config files the run uses")
        profile = yaml.safe_load(profile_file.read_text()) or {}
        requests = profile_requests(profile, workflow_config(args.configfile))
        try:
            partitions, default = slurm_partitions()
        except RuntimeError as err:
            parser.exit(2, f"error: {err}\n")
        problems = slurm_problems(requests, partitions, default, profile=str(profile_file))
    if problems:
        sep = "\n  "
        print(f"job resources that cannot be met:{sep}{sep.join(problems)}", file=sys.stderr)
        return 1
    if args.command == "slurm":
        print(f"every training rule's partition can run its jobs ({profile_file})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
