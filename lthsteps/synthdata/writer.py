"""Writing the dataset: the generator's arguments, the COCO / VOC / ImageFolder splits, statistics,
and the atomic replacement of the output folder."""
from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from lthsteps.synthdata.annotations import coco_annotation, coco_categories, voc_xml
from lthsteps.synthdata.categories import AREA_BUCKETS, CATEGORIES, area_bucket
from lthsteps.synthdata.classification import object_crop, scene_for_classification
from lthsteps.synthdata.sampling import plan_split
from lthsteps.synthdata.scenes import render_detection_image


@dataclass(frozen=True)
class SynthConfig:
    """Arguments of the generator (the CLI flags); validated on construction."""

    seed: int = 0
    train_images: int = 600
    val_images: int = 150
    image_size: int = 160
    cls_train_per_class: int = 100
    cls_val_per_class: int = 25
    cls_image_size: int = 64

    def __post_init__(self) -> None:
        counts = ("train_images", "val_images", "cls_train_per_class", "cls_val_per_class")
        for name in counts:
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be a positive count, got {getattr(self, name)}")
        if self.image_size < 96:
            raise ValueError(f"image_size must be >= 96 px (objects need room), got {self.image_size}")
        if not 16 <= self.cls_image_size <= self.image_size:
            raise ValueError(f"cls_image_size must be 16..image_size ({self.image_size}) px, got {self.cls_image_size}")
        if self.seed < 0:
            raise ValueError(f"seed must be >= 0, got {self.seed}")


SPLITS = ("train", "val")
STATS_FILE = "dataset_stats.json"  # written last: its presence marks a complete dataset
# Independent random streams, so each image depends only on (seed, stream, split, index).
_PLAN_STREAM, _IMAGE_STREAM, _CLASSIFICATION_STREAM = 0, 1, 2


def _rng(seed: int, stream: int, split: str, index: int = 0) -> np.random.Generator:
    return np.random.default_rng([seed, stream, SPLITS.index(split), index])


def _write_image(path: Path, image: np.ndarray, params: tuple = ()) -> None:
    """Encode an RGB image by extension (PNG / JPEG); cv2's encoders are deterministic."""
    ok, data = cv2.imencode(path.suffix, cv2.cvtColor(image, cv2.COLOR_RGB2BGR), params)
    if not ok:
        raise RuntimeError(f"could not encode {path}")
    path.write_bytes(data.tobytes())


def _write_json(path: Path, obj: dict) -> None:
    path.write_text(json.dumps(obj, separators=(",", ":")) + "\n")


def _bucket_counts(areas: list[int]) -> dict[str, int]:
    return {b: sum(area_bucket(a) == b for a in areas) for b in AREA_BUCKETS}


def split_stats(coco: dict) -> dict:
    """Images, instances per category and area bucket, and the long-tail ratio of a COCO split."""
    per_category = {c.name: 0 for c in CATEGORIES}
    for ann in coco["annotations"]:
        per_category[CATEGORIES[ann["category_id"] - 1].name] += 1
    buckets = _bucket_counts([ann["area"] for ann in coco["annotations"]])
    total = len(coco["annotations"])
    least = min(per_category.values())
    return {
        "images": len(coco["images"]),
        "instances": total,
        "instances_per_category": per_category,
        "instances_per_area": buckets,
        "area_share": {b: round(n / total, 4) for b, n in buckets.items()} if total else {},
        "frequency_ratio_most_to_least": round(max(per_category.values()) / least, 2) if least else None,
    }


def _split_images(config: SynthConfig, split: str) -> int:
    return config.train_images if split == "train" else config.val_images


def write_detection_split(
    config: SynthConfig, split: str, root: Path, first_image_id: int, first_ann_id: int
) -> dict:
    """Draw one detection split and write its COCO images and VOC images/XML; returns the COCO dict."""
    size = config.image_size
    coco_dir, voc = root / "coco" / split, root / "VOCdevkit" / "VOC2007"
    plans = plan_split(_rng(config.seed, _PLAN_STREAM, split), _split_images(config, split), size)
    images, annotations = [], []
    for index, specs in enumerate(plans):
        image_id = first_image_id + index
        image, instances = render_detection_image(_rng(config.seed, _IMAGE_STREAM, split, index), specs, size)
        name = f"{image_id:06d}"
        _write_image(coco_dir / f"{name}.png", image)
        _write_image(voc / "JPEGImages" / f"{name}.jpg", image, (cv2.IMWRITE_JPEG_QUALITY, 95))
        (voc / "Annotations" / f"{name}.xml").write_bytes(voc_xml(image_id, size, instances))
        images.append({"id": image_id, "file_name": f"{name}.png", "width": size, "height": size})
        for inst in instances:
            annotations.append(coco_annotation(inst, first_ann_id + len(annotations), image_id))
    coco = {
        "info": {"description": f"lthsteps synthetic shapes, {split}", "version": "1.0",
                 "seed": config.seed, "image_size": size},
        "licenses": [],
        "images": images,
        "annotations": annotations,
        "categories": coco_categories(),
    }
    _write_json(root / "coco" / "annotations" / f"instances_{split}.json", coco)
    return coco


def write_classification_split(config: SynthConfig, split: str, root: Path) -> dict[str, int]:
    """ImageFolder split, balanced over categories: crops of every instance that is not VOC-difficult
    (tiny or mostly hidden) from fresh scenes, until each class has its quota."""
    per_class = config.cls_train_per_class if split == "train" else config.cls_val_per_class
    rng = _rng(config.seed, _CLASSIFICATION_STREAM, split)
    counts = dict.fromkeys(range(1, len(CATEGORIES) + 1), 0)
    for c in CATEGORIES:
        (root / "classification" / split / c.name).mkdir(parents=True)
    while min(counts.values()) < per_class:
        image, instances = scene_for_classification(rng, config.image_size)
        for instance in instances:
            cid = instance.category_id
            if instance.difficult or counts[cid] >= per_class:
                continue
            crop = object_crop(rng, image, instance, config.cls_image_size)
            _write_image(root / "classification" / split / CATEGORIES[cid - 1].name / f"{counts[cid]:05d}.png", crop)
            counts[cid] += 1
    return {c.name: per_class for c in CATEGORIES}


def _make_folders(root: Path) -> None:
    voc = root / "VOCdevkit" / "VOC2007"
    for sub in ("coco/train", "coco/val", "coco/annotations"):
        (root / sub).mkdir(parents=True)
    for sub in ("JPEGImages", "Annotations", "ImageSets/Main"):
        (voc / sub).mkdir(parents=True)


def generate(config: SynthConfig, root: Path, log: Callable[[str], None] = print) -> dict:
    """Write the whole dataset into the (empty) folder ``root``; returns the dataset statistics."""
    _make_folders(root)
    stats: dict = {"seed": config.seed, "image_size": config.image_size,
                   "detection": {}, "classification": {}}
    ids: dict[str, list[str]] = {}
    next_image, next_ann = 1, 1
    for split in SPLITS:
        start = time.perf_counter()
        coco = write_detection_split(config, split, root, next_image, next_ann)
        next_image += len(coco["images"])
        next_ann += len(coco["annotations"])
        ids[split] = [f"{img['id']:06d}" for img in coco["images"]]
        stats["detection"][split] = split_stats(coco)
        log(f"detection {split}: {len(coco['images'])} images, {len(coco['annotations'])} instances "
            f"({time.perf_counter() - start:.1f} s)")
    image_sets = root / "VOCdevkit" / "VOC2007" / "ImageSets" / "Main"
    for name, members in (("train", ids["train"]), ("val", ids["val"]),
                          ("trainval", ids["train"] + ids["val"]), ("test", ids["val"])):
        (image_sets / f"{name}.txt").write_text("".join(f"{i}\n" for i in members))
    for split in SPLITS:
        start = time.perf_counter()
        stats["classification"][split] = write_classification_split(config, split, root)
        log(f"classification {split}: {sum(stats['classification'][split].values())} images "
            f"({time.perf_counter() - start:.1f} s)")
    _write_json(root / STATS_FILE, stats)
    return stats


def write_dataset(
    config: SynthConfig, out_dir: str | os.PathLike, log: Callable[[str], None] = print
) -> dict:
    """Generate into a temporary sibling folder and move it to ``out_dir`` only when complete, so a
    failed run leaves no partial dataset. An existing ``out_dir`` is replaced only if it is empty
    or a dataset this generator wrote; anything else is refused rather than deleted."""
    out_dir = Path(out_dir)
    if out_dir.exists() and not _replaceable(out_dir):
        raise FileExistsError(f"{out_dir} exists and is not a generated dataset (no {STATS_FILE}); "
                              "remove it or choose another --out")
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=out_dir.parent, prefix=f".{out_dir.name}.", suffix=".tmp"))
    try:
        stats = generate(config, tmp, log)
        tmp.chmod(0o755)  # mkdtemp makes it private
        if out_dir.exists():
            old = tmp.with_suffix(".old")
            out_dir.rename(old)
            tmp.rename(out_dir)
            shutil.rmtree(old)
        else:
            tmp.rename(out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return stats


def _replaceable(path: Path) -> bool:
    return path.is_dir() and ((path / STATS_FILE).is_file() or not any(path.iterdir()))
