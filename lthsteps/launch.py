"""How a training job starts: one process, or one process (rank) per GPU under ``torchrun``.

The Snakefile builds the training rules' commands with this at parse time, so it imports nothing
heavy. The ranks themselves are set up by ``lthsteps.distributed``.
"""
from __future__ import annotations


def gpu_guard(gpus: int) -> str:
    """Shell prefix of a training rule's command that stops its job, naming the fix, when Snakemake
    granted it fewer than ``gpus`` GPUs (``lthsteps.resource_check grant``; Snakemake cuts a request
    to the run's limit without a word), the message in the job's log. Empty without GPUs: nothing can be cut, and the commands of
    CPU runs stay as they were (Snakemake reruns a job whose command changed)."""
    if gpus <= 0:
        return ""
    return f"python -m lthsteps.resource_check grant --rule {{rule}} --wanted {gpus} --granted {{resources.gpu}} 2> {{log}} && "


def train_command(arguments: str, gpus: int) -> str:
    """The command line that runs ``python -m lthsteps.train ARGUMENTS`` on ``gpus`` GPUs.

    Up to one GPU it is the plain single-process command, unchanged: Snakemake reruns a job whose
    command changed, so results trained before multi-GPU support stay up to date. With N > 1 GPUs,
    torchrun starts N ranks on this node; ``--standalone`` rendezvouses on a free local port, so
    several such jobs can share a node.
    """
    if gpus <= 1:
        return f"python -m lthsteps.train {arguments}"
    return f"torchrun --standalone --nproc_per_node {gpus} -m lthsteps.train --launcher pytorch {arguments}"
