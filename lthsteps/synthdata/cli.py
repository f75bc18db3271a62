"""Command line: ``python -m lthsteps.synthdata --out DIR [--seed ...]``."""
from __future__ import annotations

import argparse
import time

from lthsteps.synthdata.writer import SynthConfig, write_dataset


def build_parser() -> argparse.ArgumentParser:
    defaults = SynthConfig()
    parser = argparse.ArgumentParser(
        prog="python -m lthsteps.synthdata",
        description="Generate the synthetic COCO / VOC / classification dataset (deterministic per seed).",
    )
    parser.add_argument("--out", required=True,
                        help="output folder (replaced if it holds a generated dataset)")
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--train-images", type=int, default=defaults.train_images)
    parser.add_argument("--val-images", type=int, default=defaults.val_images)
    parser.add_argument("--image-size", type=int, default=defaults.image_size)
    parser.add_argument("--cls-train-per-class", type=int, default=defaults.cls_train_per_class)
    parser.add_argument("--cls-val-per-class", type=int, default=defaults.cls_val_per_class)
    parser.add_argument("--cls-image-size", type=int, default=defaults.cls_image_size,
                        help="side of the classification crops in px")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        config = SynthConfig(args.seed, args.train_images, args.val_images, args.image_size,
                             args.cls_train_per_class, args.cls_val_per_class, args.cls_image_size)
    except ValueError as err:
        parser.error(str(err))
    start = time.perf_counter()
    try:
        stats = write_dataset(config, args.out)
    except FileExistsError as err:
        parser.error(str(err))
    train = stats["detection"]["train"]
    print(f"train: area shares {train['area_share']}, "
          f"most/least frequent category {train['frequency_ratio_most_to_least']}")
    print(f"wrote {args.out} in {time.perf_counter() - start:.1f} s")
    return 0
