"""Dataset preparation: validate COCO-format data, convert VOC layout to COCO format.

Every detector in the workflow reads COCO-format annotations through MMDetection's
``CocoDataset``; a VOC-layout dataset (VOCdevkit/VOC2007) is converted once. The result of
``prepare`` is a *dataset descriptor*, a small JSON file that the training and evaluation steps
read::

    {"name": "synthetic_voc", "source_format": "voc", "classes": ["person", ...],
     "keypoint_classes": [...],                       # categories with COCO keypoints (person)
     "num_keypoints": 17 | null,                      # length of their keypoint list
     "voc_ap_mode": "11points" | "area" | null,      # VOC mAP as the paper reports it, or none
     "has_masks": false, "has_keypoints": false,
     "keypoint_pixel_indices": false,                 # true: integer keypoints (real COCO), +0.5 on load
     "splits": {"train": {"ann_file": "/abs/train.json", "img_dir": "/abs/JPEGImages"},
                "val":   {...}}}

VOC "difficult" objects become ``iscrowd=1``: MMDetection ignores them in training and
COCOeval / the VOC metric ignore them in evaluation, as the VOC protocol does.
"""
from __future__ import annotations

import argparse
import json
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from lthsteps.files import atomic_write

SPLITS = ("train", "val")


class DatasetError(ValueError):
    """Bad dataset input; the message says what is wrong and how to fix it."""


def _load_json(path: Path) -> dict:
    if not path.is_file():
        raise DatasetError(f"annotation file {path} does not exist: fix the dataset path in the config")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise DatasetError(f"annotation file {path} is not valid JSON ({err}): re-export or re-download it") from err


def validate_coco(coco: dict, img_dir: Path, source: str = "annotations") -> None:
    """Raise DatasetError unless ``coco`` is a usable COCO detection file whose images exist."""
    missing = [k for k in ("images", "annotations", "categories") if not isinstance(coco.get(k), list)]
    if missing:
        raise DatasetError(f"{source} is not a COCO annotation file: missing list(s) {missing}: point `ann_file` "
                           "at a COCO instances/person_keypoints JSON")
    if not coco["categories"]:
        raise DatasetError(f"{source} has no categories: it must list the dataset's classes under `categories`")
    image_ids = {img["id"] for img in coco["images"]}
    cat_ids = {cat["id"] for cat in coco["categories"]}
    for ann in coco["annotations"]:
        if ann.get("image_id") not in image_ids:
            raise DatasetError(f"{source}: annotation {ann.get('id')} refers to unknown image {ann.get('image_id')} "
                               "(not an id of its `images`): add the image or remove the annotation")
        if ann.get("category_id") not in cat_ids:
            raise DatasetError(f"{source}: annotation {ann.get('id')} has unknown category {ann.get('category_id')} "
                               "(not an id of its `categories`): add the category to `categories` or remove the "
                               "annotation")
        box = ann.get("bbox")
        if not (isinstance(box, list) and len(box) == 4 and box[2] > 0 and box[3] > 0):
            raise DatasetError(f"{source}: annotation {ann.get('id')} has a malformed bbox {box} "
                               "(want [x, y, w>0, h>0])")
    if not img_dir.is_dir():
        raise DatasetError(f"image folder {img_dir} does not exist: fix the dataset path in the config")
    absent = [img["file_name"] for img in coco["images"] if not (img_dir / img["file_name"]).is_file()]
    if absent:
        raise DatasetError(f"{len(absent)} image(s) of {source} are missing from {img_dir}, e.g. {absent[:3]}: "
                           "copy them there, or point `img_dir` at the folder that holds them")


def voc_to_coco(year_dir: Path, split: str, classes: list[str]) -> dict:
    """COCO dict of one VOC ImageSets split; boxes keep VOC's inclusive 1-based pixel extent."""
    ids_file = year_dir / "ImageSets" / "Main" / f"{split}.txt"
    if not ids_file.is_file():
        raise DatasetError(f"{ids_file} does not exist: is {year_dir} a VOC year folder (e.g. VOCdevkit/VOC2007)?")
    cat_of = {name: i + 1 for i, name in enumerate(classes)}
    images, annotations = [], []
    for image_id, stem in enumerate(ids_file.read_text().split(), start=1):
        xml_path = year_dir / "Annotations" / f"{stem}.xml"
        try:
            root = ET.parse(xml_path).getroot()
        except (OSError, ET.ParseError) as err:
            raise DatasetError(f"cannot read VOC annotation {xml_path}: {err}") from err
        size = root.find("size")
        images.append({"id": image_id, "file_name": f"{stem}.jpg",
                       "width": int(size.findtext("width")), "height": int(size.findtext("height"))})
        for obj in root.iter("object"):
            name = obj.findtext("name")
            if name not in cat_of:
                raise DatasetError(f"{xml_path}: class '{name}' is not in the dataset's classes {classes}: "
                                   "add it to `classes` in the config")
            box = obj.find("bndbox")
            x1, y1, x2, y2 = (float(box.findtext(k)) for k in ("xmin", "ymin", "xmax", "ymax"))
            w, h = x2 - x1 + 1, y2 - y1 + 1
            annotations.append({"id": len(annotations) + 1, "image_id": image_id, "category_id": cat_of[name],
                                "bbox": [x1 - 1, y1 - 1, w, h], "area": w * h,
                                "iscrowd": int(obj.findtext("difficult", "0")), "segmentation": []})
    categories = [{"id": i, "name": name, "supercategory": "none"} for name, i in cat_of.items()]
    return {"images": images, "annotations": annotations, "categories": categories}


def prepare(name: str, fmt: str, root: Path, out_dir: Path, splits: dict[str, dict], classes: list[str] | None = None,
            voc_ap_mode: str | None = None, keypoint_pixel_indices: bool = False) -> dict:
    """Validate (and for VOC convert) a dataset; return its descriptor. Writes nothing on error."""
    if fmt not in ("coco", "voc"):
        raise DatasetError(f"unknown dataset format '{fmt}': use 'coco' or 'voc'")
    if not root.is_dir():
        raise DatasetError(f"dataset folder {root} does not exist: fix `root` of dataset '{name}' in the config")
    converted, descriptor_splits = {}, {}
    for split in SPLITS:
        spec = splits[split]
        if fmt == "voc":
            coco = voc_to_coco(root, spec["split"], classes)
            ann_file, img_dir = out_dir / f"{split}.json", root / "JPEGImages"
            converted[ann_file] = coco
        else:
            ann_file, img_dir = root / spec["ann_file"], root / spec["img_dir"]
            coco = _load_json(ann_file)
        validate_coco(coco, img_dir, source=str(ann_file))
        descriptor_splits[split] = {"ann_file": str(ann_file.resolve()), "img_dir": str(img_dir.resolve()),
                                    "images": len(coco["images"]), "instances": len(coco["annotations"])}
        if split == "train":
            categories = sorted(coco["categories"], key=lambda c: c["id"])
            train_classes = [c["name"] for c in categories]
            keypoint_classes = [c["name"] for c in categories if c.get("keypoints")]
            num_keypoints = sorted({len(c["keypoints"]) for c in categories if c.get("keypoints")})
            anns = coco["annotations"]
    for ann_file, coco in converted.items():
        atomic_write(ann_file, lambda tmp, coco=coco: Path(tmp).write_text(json.dumps(coco)))
    return {
        "name": name, "source_format": fmt, "classes": train_classes, "keypoint_classes": keypoint_classes,
        "num_keypoints": num_keypoints[0] if len(num_keypoints) == 1 else None,
        "voc_ap_mode": voc_ap_mode,
        "has_masks": any(a.get("segmentation") for a in anns),
        "has_keypoints": any(a.get("num_keypoints") for a in anns),
        "keypoint_pixel_indices": keypoint_pixel_indices,
        "splits": descriptor_splits,
    }


DESCRIPTOR_KEYS = ("name", "classes", "keypoint_classes", "num_keypoints", "voc_ap_mode", "has_masks", "has_keypoints",
                   "splits")


def load_descriptor(path: str | Path) -> dict:
    """A dataset descriptor written by ``prepare`` (of this version: older ones lack keys)."""
    desc = json.loads(Path(path).read_text())
    missing = [key for key in DESCRIPTOR_KEYS if key not in desc]
    missing += [split for split in SPLITS if split not in desc.get("splits", {})]
    if missing:
        raise DatasetError(f"{path} is not a dataset descriptor of this version (no {', '.join(missing)}): delete it "
                           "and re-run `snakemake` (rule prepare_dataset) or `python -m lthsteps.datasets prepare`")
    return desc


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lthsteps.datasets", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    prep = sub.add_parser("prepare", help="validate/convert a dataset and write its descriptor JSON")
    prep.add_argument("--name", required=True)
    prep.add_argument("--format", choices=("coco", "voc"), required=True)
    prep.add_argument("--root", type=Path, required=True, help="COCO folder, or VOC year folder (VOCdevkit/VOC2007)")
    prep.add_argument("--splits", required=True, type=json.loads,
                      help='JSON: {"train": {"ann_file":..,"img_dir":..}, "val": ..} (coco) or '
                           '{"train": {"split": "trainval"}, ..} (voc)')
    prep.add_argument("--classes", type=json.loads, default=None,
                      help="JSON list of class names (VOC only; default: the 20 Pascal VOC classes)")
    prep.add_argument("--classes-from", type=Path, default=None,
                      help="take the class names from a COCO JSON (VOC only)")
    prep.add_argument("--voc-ap-mode", choices=("11points", "area"), default=None)
    prep.add_argument("--keypoint-pixel-indices", action="store_true",
                      help="keypoints are integer pixel indices (real COCO): training adds 0.5, predictions "
                           "are written back without it")
    prep.add_argument("--out", type=Path, required=True, help="descriptor JSON to write")
    args = parser.parse_args(argv)
    try:
        classes = args.classes
        if args.classes_from:
            classes = [c["name"] for c in sorted(_load_json(args.classes_from)["categories"], key=lambda c: c["id"])]
        elif args.format == "voc" and not classes:
            from mmdet.datasets import VOCDataset

            classes = list(VOCDataset.METAINFO["classes"])
        desc = prepare(args.name, args.format, args.root, args.out.parent, args.splits, classes, args.voc_ap_mode,
                       args.keypoint_pixel_indices)
    except DatasetError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    atomic_write(args.out, lambda tmp: Path(tmp).write_text(json.dumps(desc, indent=2)))
    print(json.dumps({k: desc[k] for k in ("name", "classes")} | {"splits": desc["splits"]}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
