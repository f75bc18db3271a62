"""Annotations of placed instances: COCO (boxes, RLE masks, keypoints) and Pascal VOC XML."""
from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np
from pycocotools import mask as mask_utils

from lthsteps.synthdata.categories import CATEGORIES, KEYPOINT_NAMES, PERSON_ID, SKELETON
from lthsteps.synthdata.scenes import Instance


def mask_bbox(mask: np.ndarray) -> list[int]:
    """Tight COCO box [x, y, w, h] of a non-empty mask (same as pycocotools' toBbox)."""
    cols = np.flatnonzero(mask.any(axis=0))
    rows = np.flatnonzero(mask.any(axis=1))
    return [int(cols[0]), int(rows[0]), int(cols[-1] - cols[0] + 1), int(rows[-1] - rows[0] + 1)]


def coco_categories() -> list[dict]:
    """COCO ``categories``; the person carries COCO's keypoint names and skeleton."""
    out = []
    for c in CATEGORIES:
        entry = {"id": c.id, "name": c.name, "supercategory": "person" if c.id == PERSON_ID else "shape"}
        if c.id == PERSON_ID:
            entry.update(keypoints=list(KEYPOINT_NAMES), skeleton=[list(pair) for pair in SKELETON])
        out.append(entry)
    return out


def coco_annotation(instance: Instance, ann_id: int, image_id: int) -> dict:
    """COCO annotation of the visible part of an instance, mask as compressed RLE."""
    rle = mask_utils.encode(np.asfortranarray(instance.mask.astype(np.uint8)))
    ann = {
        "id": ann_id,
        "image_id": image_id,
        "category_id": instance.category_id,
        "bbox": mask_bbox(instance.mask),
        "area": instance.area,
        "segmentation": {"size": [int(v) for v in rle["size"]], "counts": rle["counts"].decode("ascii")},
        "iscrowd": 0,
    }
    if instance.keypoints is not None:
        kps = instance.keypoints
        ann["keypoints"] = [float(v) if j < 2 else int(v) for row in kps for j, v in enumerate(row)]
        ann["num_keypoints"] = int(np.count_nonzero(kps[:, 2]))
    return ann


def voc_xml(image_id: int, image_size: int, instances: list[Instance]) -> bytes:
    """Pascal VOC annotation; boxes in VOC's 1-based inclusive pixel convention."""
    root = ET.Element("annotation")
    ET.SubElement(root, "folder").text = "VOC2007"
    ET.SubElement(root, "filename").text = f"{image_id:06d}.jpg"
    ET.SubElement(ET.SubElement(root, "source"), "database").text = "lthsteps synthetic shapes"
    size = ET.SubElement(root, "size")
    for tag, value in (("width", image_size), ("height", image_size), ("depth", 3)):
        ET.SubElement(size, tag).text = str(value)
    ET.SubElement(root, "segmented").text = "0"
    for inst in instances:
        x, y, w, h = mask_bbox(inst.mask)
        obj = ET.SubElement(root, "object")
        ET.SubElement(obj, "name").text = CATEGORIES[inst.category_id - 1].name
        ET.SubElement(obj, "pose").text = "Unspecified"
        ET.SubElement(obj, "truncated").text = str(int(inst.truncated))
        ET.SubElement(obj, "difficult").text = str(int(inst.difficult))
        box = ET.SubElement(obj, "bndbox")
        for tag, value in (("xmin", x + 1), ("ymin", y + 1), ("xmax", x + w), ("ymax", y + h)):
            ET.SubElement(box, tag).text = str(value)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8") + b"\n"
