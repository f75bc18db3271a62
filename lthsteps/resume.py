"""Resuming an interrupted training run from its last in-round checkpoint.

A job killed mid-training (``scancel``, a node failure, Ctrl-C) leaves MMEngine's checkpoints in
its work dir (``iter_<n>.pth`` and ``last_checkpoint``, which MMEngine updates only after a
checkpoint is complete); Snakemake deletes the job's outputs but not the work dir. The rerun
resumes through MMEngine's own mechanism (``cfg.resume``: weights, optimizer, schedulers,
iteration, data order) — but only from checkpoints of the *same* run. ``run.json`` in the work dir
records that run's identity (hashes of the config, dataset, init weights, mask, ...); a run with
another identity clears the old checkpoints and starts fresh. A run that finishes clears its own
(``clear_run_state``): a forced rerun then trains again instead of "resuming" at its last iteration,
and a full checkpoint (weights and optimizer state) per run does not stay on disk.
"""
from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

from mmengine.runner import CheckpointLoader

from lthsteps.checkpoints import load_checkpoint

RUN_FILE = "run.json"
LAST_CHECKPOINT = "last_checkpoint"  # MMEngine's pointer to its newest complete checkpoint
# The dense run's rewind weights: a run resumed past the rewind iteration cannot make them again,
# and Snakemake deletes a failed job's outputs, so they are kept here until the run ends.
REWIND_FILE = "rewind.pth"
VAL_LOSS_FILE = "val_loss.json"  # the validation losses so far: a resumed run keeps its curve
SNAPSHOT_DIR = "snapshots"  # the dense run's snapshots until it ends
# Files in the work dir that belong to one run and must not leak into another (MMEngine's logs may).
RUN_STATE_PATTERNS = ("iter_*.pth", LAST_CHECKPOINT, REWIND_FILE, VAL_LOSS_FILE, RUN_FILE)
# Marks a checkpoint path as this workflow's own file for the loader below.
OWN_CHECKPOINT = "lthsteps-work-dir://"


@CheckpointLoader.register_scheme(prefixes=OWN_CHECKPOINT)
def load_from_own_work_dir(filename: str, map_location=None) -> dict:
    """Load a checkpoint this workflow's run wrote into its work dir (MMEngine's default loader refuses
    its non-tensor state under torch >= 2.6), through the weights-only unpickler and its allow-list."""
    return load_checkpoint(filename.removeprefix(OWN_CHECKPOINT), map_location=map_location)


def file_digest(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def run_identity(config: dict, files: dict[str, str | Path | None], **values) -> dict:
    """What makes two runs the same: the config, the contents of their input files, and ``values``
    (seed, start iteration, ...). Paths do not count, contents do. ``values`` go through JSON, as
    ``run.json`` stores them, so a tuple compares equal to the list read back."""
    config_text = json.dumps(config, sort_keys=True, default=str)
    return {
        "config": hashlib.sha256(config_text.encode()).hexdigest(),
        "files": {key: file_digest(path) if path else None for key, path in sorted(files.items())},
        **json.loads(json.dumps(values)),
    }


def choose_checkpoint(saved_identity: dict | None, identity: dict, last_checkpoint: Path | None) -> Path | None:
    """The checkpoint to resume from: the newest complete one, if the run that wrote it is this run."""
    if saved_identity != identity or last_checkpoint is None:
        return None
    return last_checkpoint


def last_checkpoint(work_dir: Path) -> Path | None:
    """The newest complete checkpoint MMEngine recorded in ``work_dir``, if it still exists there."""
    pointer = work_dir / LAST_CHECKPOINT
    if not pointer.is_file():
        return None
    # MMEngine records an absolute path; look it up in this work dir so a moved results dir still resumes.
    path = work_dir / Path(pointer.read_text().strip()).name
    return path if path.is_file() else None


def saved_identity(work_dir: Path) -> dict | None:
    try:
        return json.loads((work_dir / RUN_FILE).read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def resume_or_start(work_dir: str | Path, identity: dict) -> Path | None:
    """The checkpoint this run resumes from, or None after clearing another run's state for a fresh start."""
    work_dir = Path(work_dir)
    checkpoint = choose_checkpoint(saved_identity(work_dir), identity, last_checkpoint(work_dir))
    if checkpoint is None:
        clear_run_state(work_dir)
        work_dir.mkdir(parents=True, exist_ok=True)
        (work_dir / RUN_FILE).write_text(json.dumps(identity, indent=2))
    return checkpoint


def clear_run_state(work_dir: str | Path) -> None:
    """Delete what a run keeps in ``work_dir`` to resume (checkpoints, rewind weights, validation
    losses, snapshots, ``run.json``); MMEngine's logs stay."""
    work_dir = Path(work_dir)
    for pattern in RUN_STATE_PATTERNS:
        for stale in work_dir.glob(pattern):
            stale.unlink()
    shutil.rmtree(work_dir / SNAPSHOT_DIR, ignore_errors=True)


def checkpoint_iteration(checkpoint: Path) -> int:
    """The iteration of an MMEngine checkpoint named ``iter_<n>.pth``."""
    return int(checkpoint.stem.removeprefix("iter_"))
