"""One training run of an MMDetection config: the dense run or one round of a lottery ticket.

    python -m lthsteps.train --config CFG --dataset dataset.json --seed 0 --work-dir DIR \
        --out weights.pth [--init rewind.pth --start-iter 60] [--mask mask.npz] \
        [--rewind-iter 50 --rewind-out rewind.pth] [--snapshot-iters 100,300 --snapshot-dir DIR] \
        [--report sparsity.json] \
        [--metrics metrics.json --detections detections/] \
        [--val-loss-out val_loss.json --val-loss-measurements 10 --val-loss-images 32]

On several GPUs, ``torchrun --standalone --nproc_per_node N -m lthsteps.train --launcher pytorch ...``
(``lthsteps.launch``; ``lthsteps.distributed`` says what changes: batch size, rank 0 writes, masks
checked identical on every rank).

* dense: no ``--mask``; with ``--rewind-iter`` the weights after that many iterations are saved
  as the rewind point that every pruning round restarts from (late resetting, paper §4.3); with
  ``--snapshot-iters`` also the weights at each of those iterations, as ``DIR/iter<n>.pth`` (the
  other rewind points of Fig 2b and the early-bird masks of Fig 2f);
* a round: ``--init`` the rewind weights, ``--start-iter`` their iteration (the round resumes the
  dense run's schedule and data order there and trains the remaining iterations), ``--mask`` the
  round's mask; ``MaskHook`` keeps pruned weights at zero, and the final weights are verified zero
  off-mask before they are written.

With ``--val-loss-out`` the validation loss is measured during training (``lthsteps.val_loss``:
``--val-loss-measurements`` times per schedule, at every ``max_iters // measurements`` iterations of
the schedule, on the first ``--val-loss-images`` val images), so that a ticket's curve, which starts
at its rewind iteration, is measured at the same iterations as its dense run's (the paper's Fig 10).

With ``--metrics`` and ``--detections`` the trained weights are then evaluated in the same process,
exactly as ``python -m lthsteps.evaluate`` evaluates the written weights file (same function, same
metrics): a job of its own would pay the process start-up, imports and model build once more. On
several GPUs, rank 0 evaluates alone after the ranks have finished training.

A run that was killed resumes from the last checkpoint in its work dir if that checkpoint is of the
same run (``lthsteps.resume``); its masks are applied again before the first step.

Everything is checked before training starts: the config builds, the dataset files exist, the
init weights and the mask fit the model. Outputs are written only when the run succeeded.
"""
from __future__ import annotations

import argparse
import copy
import json
import shutil
import sys
import time
from pathlib import Path

import torch
from mmengine.config import Config, DictAction
from mmengine.dist import is_main_process

from lthsteps.allocator import keep_freed_memory
from lthsteps.backbone import map_backbone
from lthsteps.checkpoints import load_state_dict, save_state_dict
from lthsteps.datasets import DatasetError, load_descriptor
from lthsteps.distributed import (check_same_on_every_rank, end_process_group, make_distributed, mask_digest,
                                  nonzero_pattern, on_main_process, start_process_group, threads_per_rank,
                                  world_size)
from lthsteps.files import atomic_write
from lthsteps.masks import load_masks, sparsity_report
from lthsteps.mm import bind_dataset, build_model, load_config
from lthsteps.resume import (OWN_CHECKPOINT, REWIND_FILE, SNAPSHOT_DIR, VAL_LOSS_FILE, checkpoint_iteration,
                             clear_run_state, resume_or_start, run_identity)
from lthsteps.run_contract import (check_rewind_pair, check_schedule, check_zero_off_mask, load_fitting_init,
                                   load_fitting_masks, save_weights_verified)

PRETRAINED_IN_WORK_DIR = "pretrained_backbone.pth"


def training_config(cfg: Config, dataset: dict, *, seed: int, work_dir: str, init: str | None = None,
                    mask: str | None = None, rewind_iter: int | None = None,
                    rewind_out: str | None = None, start_iter: int = 0, pretrained: str | None = None,
                    resume_from: Path | None = None, snapshot_iters: tuple[int, ...] = (),
                    val_loss: tuple[int, int | None] | None = None) -> Config:
    """``cfg`` bound to a dataset and set up as a dense run or a lottery-ticket round, resumed from
    the checkpoint ``resume_from`` if given; ``val_loss`` = (measurements per schedule, images) adds
    the validation-loss hook."""
    cfg = bind_dataset(cfg, dataset)
    cfg.work_dir = str(work_dir)
    # Runners in one process need distinct names (MMEngine names them by timestamp otherwise).
    cfg.experiment_name = f"{Path(work_dir).name}-seed{seed}-{time.time_ns()}"
    if "visualizer" in cfg:  # a global instance too: one per run, or logs land in another run's folder
        cfg.visualizer["name"] = cfg.experiment_name
    cfg.randomness = dict(seed=seed, deterministic=False)
    cfg.load_from = str(init) if init else None
    if pretrained:  # the detector-keyed backbone weights prepare() maps and checks before training
        cfg.load_from = str(Path(work_dir) / PRETRAINED_IN_WORK_DIR)
    # MMEngine's resume restores weights, optimizer, schedulers and the iteration (the loop skips
    # the batches already seen), so a resumed round needs no LateResetHook.
    cfg.resume = resume_from is not None
    if resume_from is not None:
        cfg.load_from = f"{OWN_CHECKPOINT}{resume_from}"
    hooks = list(cfg.get("custom_hooks", [])) + [dict(type="RngStateHook")]  # a resumed run is the same run
    if mask:
        hooks.append(dict(type="MaskHook", mask_file=str(mask)))
    if rewind_iter is not None:
        hooks.append(dict(type="RewindCheckpointHook", iteration=rewind_iter, out_file=str(rewind_out)))
    hooks += [dict(type="RewindCheckpointHook", iteration=n, out_file=str(Path(work_dir) / SNAPSHOT_DIR / f"iter{n}.pth"))
              for n in snapshot_iters]
    if start_iter and resume_from is None:
        hooks.append(dict(type="LateResetHook", iteration=start_iter))
    if val_loss is not None:
        measurements, images = val_loss
        hooks.append(dict(type="ValLossHook", interval=val_loss_interval(cfg.train_cfg["max_iters"], measurements),
                          out_file=str(Path(work_dir) / VAL_LOSS_FILE), num_images=images, seed=seed))
    cfg.custom_hooks = hooks
    return cfg


def val_loss_interval(max_iters: int, measurements: int) -> int:
    """Iterations between two validation-loss measurements: the same for a dense run and its
    tickets (one schedule), whichever iteration a ticket starts at."""
    return max(1, max_iters // measurements)


def check_inputs(cfg: Config, init: str | None, mask: str | None, rewind_iter: int | None,
                 start_iter: int = 0, pretrained: str | None = None,
                 snapshot_iters: tuple[int, ...] = ()) -> dict[str, torch.Tensor]:
    """Fail before training if the init weights or the mask do not fit the model; return its state dict."""
    state = build_model(cfg).state_dict()
    if init and pretrained:
        raise ValueError("--init and --pretrained exclude each other: a round's --init weights already "
                         "descend from the pretrained backbone")
    load_fitting_init(init, state, "the model of this config",
                      "use the rewind/dense weights made with the same model config")
    load_fitting_masks(mask, state)
    check_schedule(cfg.train_cfg.get("max_iters"), rewind_iter, start_iter, bool(init),
                   hint="set rewind_iter in the config to a value in that range")
    max_iters = cfg.train_cfg.get("max_iters")
    outside = [n for n in snapshot_iters if max_iters is not None and not 0 <= n <= max_iters]
    if outside:
        raise ValueError(f"snapshot iterations {outside} are outside training (0..{max_iters}): give iterations "
                         "inside the schedule (the ablations' rewind points and early-bird fractions)")
    return state


def prepare(args: argparse.Namespace) -> tuple[Config, Path | None]:
    """The run's config, after every input has been checked (raises on bad input), and the
    checkpoint it resumes from (None: a fresh start)."""
    model_cfg = load_config(args.config, args.cfg_options)
    descriptor = load_descriptor(args.dataset)
    rewind_file = Path(args.work_dir) / REWIND_FILE if args.rewind_out else None
    val_loss = (args.val_loss_measurements, args.val_loss_images) if args.val_loss_out else None

    def bound(resume_from: Path | None = None) -> Config:  # binding changes the config in place: bind a copy
        return training_config(copy.deepcopy(model_cfg), descriptor, seed=args.seed, work_dir=args.work_dir,
                               init=args.init, mask=args.mask, rewind_iter=args.rewind_iter, rewind_out=rewind_file,
                               start_iter=args.start_iter, pretrained=args.pretrained, resume_from=resume_from,
                               snapshot_iters=args.snapshot_iters, val_loss=val_loss)

    state = check_inputs(bound(), args.init, args.mask, args.rewind_iter, args.start_iter, args.pretrained,
                         args.snapshot_iters)
    # Raises BackboneMismatch before training (and before the work dir is touched) if the weights do not fit.
    backbone = map_backbone(load_state_dict(args.pretrained), state) if args.pretrained else None
    identity = run_identity(model_cfg.to_dict(), {"dataset": args.dataset, "init": args.init, "mask": args.mask,
                                                  "pretrained": args.pretrained},
                            seed=args.seed, start_iter=args.start_iter, rewind_iter=args.rewind_iter,
                            snapshot_iters=args.snapshot_iters, val_loss=val_loss)

    def claim_work_dir() -> Path | None:  # writes the work dir: once, on rank 0 of a multi-GPU run
        resume_from = resume_or_start(args.work_dir, identity)
        if resume_from is not None:
            print(f"resuming from {resume_from}: this run was interrupted there", flush=True)
        elif backbone is not None:
            save_state_dict(Path(args.work_dir) / PRETRAINED_IN_WORK_DIR, backbone.state)
            print(f"pretrained backbone from {args.pretrained}: {backbone.counts}", flush=True)
        return resume_from

    resume_from = on_main_process(claim_work_dir)
    cfg = bound(resume_from)
    if args.launcher == "pytorch":
        make_distributed(cfg)
    return cfg, resume_from


def train(cfg: Config, args: argparse.Namespace, resume_from: Path | None = None) -> tuple[dict, dict]:
    """Train, verify, write the weights and the report; return the report and the trained weights."""
    from mmengine.runner import Runner

    start = time.perf_counter()
    runner = Runner.from_cfg(cfg)
    runner.train()
    seconds = time.perf_counter() - start

    state = {k: v.detach().cpu() for k, v in getattr(runner.model, "module", runner.model).state_dict().items()}
    report = {"iterations": runner.iter, "start_iter": args.start_iter, "train_seconds": round(seconds, 2),
              "seed": args.seed, "config": str(args.config), "init": args.init, "pretrained": args.pretrained,
              "mask": args.mask, "resumed_from_iter": checkpoint_iteration(resume_from) if resume_from else None}
    masks, meta = load_masks(args.mask) if args.mask else ({}, None)
    ranks = {"world_size": world_size()}
    if args.mask:  # compared first: a check below failing on one rank alone would leave the others waiting here
        ranks["mask_sha256"] = check_same_on_every_rank(mask_digest(masks), f"mask {args.mask}")
        ranks["nonzero_sha256"] = check_same_on_every_rank(
            mask_digest(nonzero_pattern(state, list(masks))), f"zero pattern of the trained weights under {args.mask}")
    bad = check_zero_off_mask(state, masks, args.mask)
    report |= {"mask_meta": meta, "zeros_violations": bad, "ranks": ranks, **sparsity_report(state, masks)}
    if not is_main_process():  # the other ranks hold the same weights; rank 0 writes them
        return report, state
    save_weights_verified(args.out, state, masks)
    if args.rewind_out:
        atomic_write(args.rewind_out, lambda tmp: shutil.copyfile(Path(args.work_dir) / REWIND_FILE, tmp))
    if args.snapshot_dir:
        publish_snapshots(Path(args.work_dir) / SNAPSHOT_DIR, args.snapshot_dir, args.snapshot_iters)
    if args.val_loss_out:
        atomic_write(args.val_loss_out, lambda tmp: shutil.copyfile(Path(args.work_dir) / VAL_LOSS_FILE, tmp))
    if args.report:
        atomic_write(args.report, lambda tmp: Path(tmp).write_text(json.dumps(report, indent=2)))
    return report, state


def publish_snapshots(saved: Path, out: Path, iterations: tuple[int, ...]) -> None:
    """Move the snapshots the run saved into ``out`` (exactly ``iter<n>.pth`` per iteration, the
    folder made whole or not at all)."""
    missing = [n for n in iterations if not (saved / f"iter{n}.pth").is_file()]
    if missing:
        raise RuntimeError(f"the run did not save its snapshots at iterations {missing} (in {saved})")
    tmp = out.with_name(f".{out.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for n in iterations:
        shutil.copyfile(saved / f"iter{n}.pth", tmp / f"iter{n}.pth")
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)


def _iterations(text: str) -> tuple[int, ...]:
    return tuple(sorted({int(item) for item in text.split(",") if item.strip()}))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m lthsteps.train", description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", required=True, type=Path, help="MMDetection config file")
    parser.add_argument("--dataset", required=True, type=Path, help="dataset descriptor JSON (lthsteps.datasets)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--work-dir", required=True, type=Path, help="MMEngine logs and in-round checkpoints")
    parser.add_argument("--out", required=True, type=Path, help="final weights (plain tensor dict)")
    parser.add_argument("--init", default=None, help="initial weights, e.g. the rewind checkpoint")
    parser.add_argument("--pretrained", default=None,
                        help="classifier weights (torchvision ResNet, lthsteps.classifier) to start the backbone from")
    parser.add_argument("--mask", default=None, help="mask file (lthsteps.masks) to train under")
    parser.add_argument("--start-iter", type=int, default=0,
                        help="begin at this iteration (a round: the rewind iteration of --init's weights)")
    parser.add_argument("--rewind-iter", type=int, default=None, help="save weights after this many iterations")
    parser.add_argument("--rewind-out", default=None, help="where the rewind weights go")
    parser.add_argument("--snapshot-iters", type=_iterations, default=(), metavar="N,N,...",
                        help="also save the weights at these iterations (may be empty)")
    parser.add_argument("--snapshot-dir", type=Path, default=None, help="where the snapshots go: DIR/iter<n>.pth")
    parser.add_argument("--report", default=None, help="JSON: iterations, time, sparsity report of the result")
    parser.add_argument("--metrics", type=Path, default=None,
                        help="evaluate the trained weights on the val split: metrics JSON (lthsteps.evaluate)")
    parser.add_argument("--detections", type=Path, default=None,
                        help="with --metrics: folder for the raw results (bbox.json, segm.json, keypoints.json)")
    parser.add_argument("--val-loss-out", type=Path, default=None,
                        help="measure the validation loss during training (lthsteps.val_loss): its JSON file")
    parser.add_argument("--val-loss-measurements", type=int, default=10, metavar="N",
                        help="with --val-loss-out: measurements per schedule (every max_iters // N iterations)")
    parser.add_argument("--val-loss-images", type=int, default=None, metavar="N",
                        help="with --val-loss-out: the first N val images (default: all)")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (of the job: shared by its ranks)")
    parser.add_argument("--launcher", choices=("none", "pytorch"), default="none",
                        help="pytorch: one rank of a multi-GPU run under torchrun (lthsteps.launch)")
    parser.add_argument("--cfg-options", nargs="+", action=DictAction, default=None,
                        help="override config keys, e.g. train_cfg.max_iters=10")
    args = parser.parse_args(argv)
    try:
        check_rewind_pair(args.rewind_iter, args.rewind_out)
    except ValueError as err:
        parser.error(str(err))
    if args.snapshot_iters and args.snapshot_dir is None:
        parser.error("--snapshot-iters needs --snapshot-dir")
    if args.val_loss_measurements < 1 or (args.val_loss_images is not None and args.val_loss_images < 1):
        parser.error("--val-loss-measurements and --val-loss-images must be positive")
    if (args.metrics is None) != (args.detections is None):
        parser.error("--metrics and --detections go together")
    if not args.config.is_file():
        parser.error(f"config {args.config} does not exist")
    return args


def evaluate_trained(args: argparse.Namespace, weights: dict[str, torch.Tensor]) -> dict:
    """``lthsteps.evaluate`` on the weights just trained (and written to ``args.out``), in this process."""
    from lthsteps.evaluate import evaluate

    torch.set_num_threads(args.threads)  # the job's threads, all of them: the other ranks have ended
    descriptor = load_descriptor(args.dataset)
    cfg = bind_dataset(load_config(args.config, args.cfg_options), descriptor)
    return evaluate(cfg, descriptor, weights, str(args.out), args.metrics, args.detections)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    keep_freed_memory()
    if args.launcher == "pytorch":
        start_process_group()  # before prepare(): rank 0 claims the work dir while the others wait
    try:
        torch.set_num_threads(threads_per_rank(args.threads))
        try:
            cfg, resume_from = prepare(args)
        except (DatasetError, ValueError, FileNotFoundError) as err:  # BackboneMismatch is a ValueError
            print(f"error: {err}", file=sys.stderr)
            return 2
        report, weights = train(cfg, args, resume_from)
        main_process = is_main_process()
    finally:
        end_process_group()
    if not main_process:  # one summary line and one evaluation per job, not one per rank
        return 0
    summary = {k: report[k] for k in ("iterations", "train_seconds")}
    if args.metrics:
        start = time.perf_counter()
        summary |= evaluate_trained(args, weights)
        summary["evaluate_seconds"] = round(time.perf_counter() - start, 2)
    clear_run_state(args.work_dir)  # every output is written: nothing is left to resume
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
