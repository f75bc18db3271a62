"""Time per training iteration with the MaskHook ÷ without it, same config, in one process.

    .venv/bin/python benchmarks/mask_hook_overhead.py [--iters 100] [--repeats 4] [--sparsity 0.8]
        [--config config/models/faster-rcnn_r18-c4_voc.py --cfg-options model.backbone.init_cfg=None
         model.roi_head.shared_head.init_cfg=None] [--groups backbone_base backbone_top]

Generates a small embedded dataset in a temp folder, then alternates dense and masked runs of a
VOC-layout detector config (default: the embedded Faster R-CNN; on a GPU, the paper's) (A B A B ...)
so that drift of the machine hits both alike. Each
iteration is timed from the first hook before it to the last hook after it, so the mask hook's
work (gradient masking in backward, re-zeroing after the step) is inside the measurement. The first
5 iterations of every run are warm-up and not counted. Prints medians and the ratio (target ≤ 1.03).
Run-to-run spread of the median is a few percent on 2 cores, so fewer than ~300 timed iterations per
arm cannot resolve a 3% target: keep the defaults.
"""
from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import torch
from mmengine.config import DictAction
from mmengine.hooks import Hook

from lthsteps import datasets, synthdata
from lthsteps.checkpoints import save_state_dict
from lthsteps.masks import magnitude_masks, prunable_weights, save_masks
from lthsteps.mm import build_model, load_config
from lthsteps.train import training_config

REPO = Path(__file__).resolve().parents[1]
CONFIG = REPO / "config/models/faster-rcnn_r18-c4_tiny.py"
WARMUP = 5


class IterStart(Hook):
    priority = "HIGHEST"

    def __init__(self, log: list):
        self.log = log

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        self.log.append(time.perf_counter())


class IterStop(Hook):
    priority = "LOWEST"

    def __init__(self, log: list):
        self.log = log

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        self.log.append(time.perf_counter())


def timed_run(cfg, label: str) -> list[float]:
    from mmengine.runner import Runner

    starts, stops = [], []
    runner = Runner.from_cfg(cfg)
    runner.register_hook(IterStart(starts))
    runner.register_hook(IterStop(stops))
    runner.train()
    times = [b - a for a, b in zip(starts, stops)][WARMUP:]
    print(f"  {label}: median {statistics.median(times) * 1000:.1f} ms/iter over {len(times)} iterations", flush=True)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--iters", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=4)
    parser.add_argument("--sparsity", type=float, default=0.8)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--config", type=Path, default=CONFIG, help="a VOC-layout detector config")
    parser.add_argument("--groups", nargs="+", default=["backbone_base", "backbone_top"],
                        help="the pruned groups (lthsteps.masks)")
    parser.add_argument("--cfg-options", nargs="+", action=DictAction, default={},
                        help="config overrides, e.g. init_cfg=None where no pretrained weights are at hand")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        synthdata.main(["--out", str(tmp / "data"), "--train-images", "64", "--val-images", "8",
                        "--cls-train-per-class", "1", "--cls-val-per-class", "1"])
        coco_train = tmp / "data/coco/annotations/instances_train.json"
        classes = [c["name"] for c in json.loads(coco_train.read_text())["categories"]]
        split = {"split": "train"}
        desc = datasets.prepare("bench", "voc", tmp / "data/VOCdevkit/VOC2007", tmp / "ds",
                                {"train": split, "val": split}, classes)
        options = {"train_cfg.max_iters": args.iters, "default_hooks.logger.interval": 1000,
                   "default_hooks.checkpoint.interval": 10**6, **args.cfg_options}
        model = build_model(training_config(load_config(args.config, options), desc, seed=0, work_dir=str(tmp)))
        weights = prunable_weights(model.state_dict(), args.groups)
        mask_file = tmp / "mask.npz"
        save_masks(mask_file, magnitude_masks(weights, args.sparsity), {"sparsity": args.sparsity})
        init = tmp / "init.pth"
        save_state_dict(init, model.state_dict())

        dense, masked = [], []
        for r in range(args.repeats):
            for label, mask, out in (("dense ", None, dense), ("masked", str(mask_file), masked)):
                cfg = training_config(load_config(args.config, options), desc, seed=r, work_dir=str(tmp / f"{label}{r}"),
                                      init=str(init), mask=mask)
                out += timed_run(cfg, f"repeat {r} {label}")
    ratio = statistics.median(masked) / statistics.median(dense)
    print(json.dumps({"dense_ms_per_iter": round(statistics.median(dense) * 1000, 2),
                      "masked_ms_per_iter": round(statistics.median(masked) * 1000, 2),
                      "masked_over_dense": round(ratio, 4), "iterations_each": len(dense),
                      "threads": args.threads, "sparsity": args.sparsity, "config": str(args.config),
                      "device": "cuda" if torch.cuda.is_available() else "cpu"}))


if __name__ == "__main__":
    main()
