"""Training on several GPUs: the ranks that ``torchrun`` starts (``lthsteps.launch``) join one
process group, and MMEngine's Runner (``launcher='pytorch'``) wraps the detector in
DistributedDataParallel. NCCL on GPUs; gloo on CPU, which is how this path is tested without GPUs.

Batch size: ``train_dataloader.batch_size`` stays the batch of ONE rank (MMDetection's convention),
so N ranks train on N times as many images per iteration. The schedule in iterations (max_iters,
rewind_iter, LR steps) is unchanged, and the LR is left as the config sets it unless the config
enables ``auto_scale_lr`` (MMEngine then scales it by total batch / ``base_batch_size``).

Files: whatever writes (the work dir's run state, the rewind point, the final weights and report)
happens on rank 0 only (``on_main_process``, ``mmengine.dist.master_only``).

Masks: every rank must train under the same mask. ``check_same_on_every_rank`` compares a digest
across ranks and raises on every rank, naming the ranks that differ, so a mismatch is an error
rather than a hang or a silently wrong ticket.
"""
from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Mapping, Sequence
from typing import TypeVar

import numpy as np
import torch
import torch.distributed as dist
from mmengine.config import Config

T = TypeVar("T")


class RankMismatch(RuntimeError):
    """Something that must be identical on every rank is not."""


def backend() -> str:
    return "nccl" if torch.cuda.is_available() else "gloo"


def start_process_group() -> None:
    """Join the process group torchrun describes in the environment (RANK, WORLD_SIZE, ...).

    Started before the Runner exists so that rank 0 alone can claim the work dir first; MMEngine
    then finds the group ready and skips its own ``init_dist`` (whose ``torch.cuda.set_device``
    fails on a machine without GPUs).
    """
    if "RANK" not in os.environ:
        raise RuntimeError("--launcher pytorch: start this under torchrun (lthsteps.launch), which sets RANK")
    if torch.cuda.is_available():
        torch.cuda.set_device(int(os.environ["LOCAL_RANK"]))
    dist.init_process_group(backend=backend())


def end_process_group() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()


def world_size() -> int:
    return dist.get_world_size() if dist.is_initialized() else 1


def threads_per_rank(threads: int) -> int:
    """Torch CPU threads of one rank: the job's ``threads`` shared by its ranks."""
    return max(1, threads // world_size())


def make_distributed(cfg: Config) -> None:
    """Set ``cfg`` up for MMEngine's Runner to train on the process group already started."""
    cfg.launcher = "pytorch"
    cfg.merge_from_dict({"env_cfg.dist_cfg.backend": backend()})
    if not torch.cuda.is_available():
        # MMEngine's default wrapper passes device_ids=[LOCAL_RANK], which DDP accepts only for GPU modules.
        cfg.model_wrapper_cfg = dict(type="MMDistributedDataParallel", device_ids=None, broadcast_buffers=False,
                                     find_unused_parameters=cfg.get("find_unused_parameters", False))


def on_main_process(make: Callable[[], T]) -> T:
    """``make()`` run on rank 0 only, its result returned on every rank, which wait for it: for a
    step that writes files and decides something every rank needs (e.g. the checkpoint to resume)."""
    if not dist.is_initialized():
        return make()
    result = [make() if dist.get_rank() == 0 else None]
    dist.broadcast_object_list(result, src=0)
    return result[0]


def mask_digest(masks: Mapping[str, torch.Tensor]) -> str:
    """SHA-256 of a dict of bool tensors (names, shapes and every bit): equal digests, equal masks."""
    digest = hashlib.sha256()
    for name in sorted(masks):
        mask = masks[name].detach().cpu().numpy()
        digest.update(json.dumps([name, list(mask.shape)]).encode())
        digest.update(np.packbits(mask.reshape(-1)).tobytes())
    return digest.hexdigest()


def nonzero_pattern(state: Mapping[str, torch.Tensor], names: Sequence[str]) -> dict[str, torch.Tensor]:
    """Where the named weights are not exactly zero."""
    return {name: state[name] != 0 for name in names}


def rank_mismatch(digests: Sequence[str], what: str) -> str | None:
    """The error for per-rank ``digests`` of ``what`` that are not all rank 0's; None if they are."""
    differing = [rank for rank, digest in enumerate(digests) if digest != digests[0]]
    if not differing:
        return None
    ranks = ", ".join(f"rank {rank} has {digests[rank][:16]}" for rank in differing)
    return (f"{what} differs between ranks: {ranks}, rank 0 has {digests[0][:16]} (sha256). Every rank must "
            "train under the same mask: do all ranks read the same file (not node-local copies), and was it "
            "left unchanged while the job ran?")


def check_same_on_every_rank(digest: str, what: str) -> list[str]:
    """Every rank's ``digest`` of ``what``, in rank order; raises RankMismatch on every rank if they
    differ (each rank learns all digests, so all of them stop rather than wait for each other)."""
    digests = [digest]
    if dist.is_initialized():
        digests = [None] * dist.get_world_size()
        dist.all_gather_object(digests, digest)
    problem = rank_mismatch(digests, what)
    if problem:
        raise RankMismatch(problem)
    return digests
