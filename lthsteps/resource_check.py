"""Start-up check that every job's GPU request can be met, so a bad profile fails in seconds with
the fix named instead of submitting jobs that SLURM rejects (or that wait forever) hours later.

Two ways a request cannot be met:

* the run's own limit (``resources: gpu`` of a profile, or ``--resources gpu=N``) is below a job's
  ``gpu``: Snakemake would silently cut the request down and the job would run without its GPUs;
* on SLURM, the job's partition does not exist, or none of its nodes has that many GPUs (a job
  runs on one node). Partitions and their GPUs per node come from ``sinfo``.
"""
from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass

SINFO = ["sinfo", "--noheader", "--all", "--format=%P|%G"]
PROFILE = "profiles/slurm/config.yaml"


@dataclass(frozen=True)
class Request:
    """What the jobs of one rule ask for; ``partition`` None means SLURM's default partition."""

    rule: str
    gpu: int
    partition: str | None = None


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


def limit_problems(requests: set[Request], gpu_limit: int | None) -> list[str]:
    """Requests above the run's GPU limit (None: no limit)."""
    if gpu_limit is None:
        return []
    return [
        f"rule {r.rule} asks for gpu={r.gpu} per job, but this run allows gpu={gpu_limit} at once: Snakemake "
        f"would cut the request to {gpu_limit} and the job would run without its GPUs. Locally, give the GPUs "
        f"of this machine: --resources gpu=N. On SLURM, run with --workflow-profile profiles/slurm: it replaces "
        f"profiles/default, whose `resources: gpu: 0` (no GPUs on this machine) also applies next to --profile"
        for r in sorted(requests, key=lambda r: r.rule) if r.gpu > gpu_limit
    ]


def slurm_problems(requests: set[Request], partitions: dict[str, int], default: str | None) -> list[str]:
    """Requests a SLURM cluster with these partitions cannot run."""
    problems = []
    for r in sorted(requests, key=lambda r: r.rule):
        partition = r.partition or default
        if partition is None:
            problems.append(f"rule {r.rule} names no slurm_partition and the cluster has no default partition: "
                            f"set slurm_partition in {PROFILE} (default-resources or set-resources)")
        elif partition not in partitions:
            problems.append(f"slurm_partition '{partition}' of rule {r.rule} does not exist on this cluster "
                            f"(sinfo lists {', '.join(sorted(partitions))}): set slurm_partition in {PROFILE} "
                            "(default-resources or set-resources) to one of them")
        elif r.gpu > partitions[partition]:
            problems.append(f"rule {r.rule} asks for gpu={r.gpu} per job, but the nodes of partition '{partition}' "
                            f"have at most {partitions[partition]} GPUs each, and a job runs on one node: lower the "
                            "gpu of the config's `resources` for it, or point the rule at a partition with more GPUs "
                            f"per node (slurm_partition under set-resources in {PROFILE})")
    return problems


def slurm_partitions() -> tuple[dict[str, int], str | None]:
    """The cluster's partitions, as ``parse_sinfo`` returns them."""
    try:
        result = subprocess.run(SINFO, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as err:
        raise RuntimeError(f"`{' '.join(SINFO)}` failed ({err}): run Snakemake with the SLURM executor on a host "
                           "where the SLURM commands reach the cluster") from err
    if result.returncode:
        raise RuntimeError(f"`{' '.join(SINFO)}` failed: {result.stderr.strip()}")
    return parse_sinfo(result.stdout)


def check_requests(requests: set[Request], gpu_limit: int | None, on_slurm: bool) -> None:
    """Raise ValueError naming every request that cannot be met, and the fix."""
    problems = limit_problems(requests, gpu_limit)
    if on_slurm:
        problems += slurm_problems(requests, *slurm_partitions())
    if problems:
        sep = "\n  "
        raise ValueError(f"job resources that cannot be met:{sep}{sep.join(problems)}")
