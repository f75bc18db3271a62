"""GPU-hours of a workflow config: its training jobs, their iterations and images, and an assumed
V100 time per training image.

    python -m lthsteps.gpu_hours config/paper/voc_faster_rcnn_r18.yaml config/paper/coco_tasks.yaml

Run it from the repository root (model config paths are relative to it, as in the workflow). The
training jobs are the job plan's (``lthsteps.plan.training_runs``, which a test checks against
``snakemake -n``), each priced from its first iteration: ``train_dense`` and
``train_imagenet_transfer`` the whole schedule, ``train_round`` and ``train_task_transfer`` from the
model's ``rewind_iter`` on (late resetting; from 0 with ``restart_schedule``, and a task transfer
with ``start: init``). Iterations come from the model config's ``train_cfg.max_iters`` (after the
model's ``cfg_options``), images per iteration from the schedule's total batch
(``auto_scale_lr.base_batch_size``, else ``train_dataloader.batch_size``). The time per image is
assumed, not measured: see ``SECONDS_PER_IMAGE``. Evaluation and the light jobs (masks, tables) are
not counted.
"""
from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import yaml

from lthsteps.plan import TrainingRun, training_runs

SCHEMA = Path(__file__).resolve().parents[1] / "workflow/schemas/config.schema.yaml"

# V100 GPU-seconds per training image, per model config. Assumed, since no GPU was available to measure
# them: Detectron2's MODEL_ZOO.md train time (s/iter) on 8 V100s with 2 images per GPU per iteration,
# divided by those 2 images, for the matching 1x ResNet-50 models; the ResNet-18 models scaled by their
# forward GFLOPs relative to that model (mmengine's get_model_complexity_info, tensor mode: one
# 800x1088 COCO or 608x800 VOC image, 1000 proposals through the RoI heads), i.e. assuming time scales
# with FLOPs.
SECONDS_PER_IMAGE = {
    "mask-rcnn_r50-fpn_coco.py": 0.261 / 2,  # mask_rcnn_R_50_FPN_1x
    "mask-rcnn_r18-fpn_coco.py": 0.261 / 2 * 186.2 / 230.9,
    "keypoint-rcnn_r50-fpn_coco.py": 0.315 / 2,  # keypoint_rcnn_R_50_FPN_1x
    "keypoint-rcnn_r18-fpn_coco.py": 0.315 / 2 * 482.3 / 527.1,
    # faster_rcnn_R_50_C4_1x at 800x1088 (821.0 GFLOPs) vs this ResNet-18 C4 at VOC's 608x800.
    "faster-rcnn_r18-c4_voc.py": 0.551 / 2 * 427.3 / 821.0,
    "faster-rcnn_r50-c4_voc.py": 0.551 / 2 * 851.7 / 821.0,  # this R50-C4 on a 608x800 VOC image
}


@dataclass(frozen=True)
class Schedule:
    """A model's training schedule and its assumed cost."""

    max_iters: int
    images_per_iter: int
    seconds_per_image: float


def gpu_hours_table(jobs: list[TrainingRun], schedules: Mapping[str, Schedule]) -> pd.DataFrame:
    """One row per (rule, model): jobs, iterations per job, images per iteration, assumed seconds per
    image, GPU-hours of all its jobs."""
    rows = []
    for job in jobs:
        s = schedules[job.model]
        iterations = s.max_iters - job.start_iter
        rows.append({"rule": job.rule, "model": job.model, "iterations_per_job": iterations,
                     "images_per_iter": s.images_per_iter, "seconds_per_image": s.seconds_per_image,
                     "gpu_hours": iterations * s.images_per_iter * s.seconds_per_image / 3600})
    per_job = ["iterations_per_job", "images_per_iter", "seconds_per_image"]
    table = pd.DataFrame(rows).groupby(["rule", "model", *per_job], sort=False)
    return table.agg(jobs=("gpu_hours", "size"), gpu_hours=("gpu_hours", "sum")).reset_index()


def check_estimable(config: Mapping) -> None:
    """Classifier training (ImageNet scale) has no assumed cost: refuse rather than leave it out."""
    trained = [name for name, c in config.get("classifiers", {}).items() if "weights" not in c]
    if trained:
        raise ValueError(f"classifiers {trained} train in the workflow (no `weights`): their cost is not "
                         "estimated here; import them (`weights`, `imported_tickets`) as config/paper/*.yaml do")


def seconds_per_image(model_config: str) -> float:
    name = Path(model_config).name
    if name not in SECONDS_PER_IMAGE:
        raise ValueError(f"no assumed time per image for model config {name}: add one to "
                         f"lthsteps.gpu_hours.SECONDS_PER_IMAGE (known: {', '.join(SECONDS_PER_IMAGE)})")
    return SECONDS_PER_IMAGE[name]


def load_schedules(config: Mapping) -> dict[str, Schedule]:
    """Each model's iterations and images per iteration, read from its MMDetection config."""
    from lthsteps.mm import load_config

    schedules = {}
    for name, model in config["models"].items():
        cfg = load_config(model["config"], model.get("cfg_options") or None)
        images = cfg.get("auto_scale_lr", {}).get("base_batch_size") or cfg.train_dataloader.batch_size
        schedules[name] = Schedule(cfg.train_cfg.max_iters, images, seconds_per_image(model["config"]))
    return schedules


def estimate(config_file: Path) -> pd.DataFrame:
    from snakemake.utils import validate

    config = yaml.safe_load(config_file.read_text())
    validate(config, str(SCHEMA))  # the schema's defaults, as the workflow sees the config
    check_estimable(config)
    return gpu_hours_table(training_runs(config), load_schedules(config))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lthsteps.gpu_hours", description=__doc__.split("\n\n")[0])
    parser.add_argument("configs", nargs="+", type=Path, metavar="CONFIG", help="workflow config files (YAML)")
    args = parser.parse_args(argv)
    totals = []
    for config_file in args.configs:
        try:
            table = estimate(config_file)
        except (ValueError, FileNotFoundError) as err:
            print(f"error: {config_file}: {err}", file=sys.stderr)
            return 2
        totals.append(table[["jobs", "gpu_hours"]].sum())
        shown = table.to_markdown(index=False, floatfmt=("", "", ",", "", ".4f", "", ".1f"), intfmt=",")
        print(f"### {config_file}\n\n{shown}\n")
        print(f"{table.jobs.sum()} training jobs, {table.gpu_hours.sum():,.0f} V100 GPU-hours\n")
    total = sum(totals)
    print(f"All configs: {int(total.jobs)} training jobs, {total.gpu_hours:,.0f} V100 GPU-hours "
          "(assumed V100 time per image: lthsteps.gpu_hours.SECONDS_PER_IMAGE)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
