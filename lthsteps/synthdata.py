"""Seeded synthetic stand-in for COCO, Pascal VOC and ImageNet.

No real dataset can be downloaded where this workflow runs, yet the paper's analyses need data with
COCO's structure: AP per COCO area bucket (Fig. 4), AP of rare vs frequent categories (Fig. 5),
instance masks, person keypoints (Fig. 1) and a classification set to find "ImageNet" tickets on
(Tables 1-2) and to pretrain the detectors' backbones. This module draws such a dataset deterministically from a seed:

* ten categories, each a distinct shape *and* colour family, so that a tiny detector learns them in
  minutes; the thin ones (``pole``, ``rope``) are deliberately hard;
* a long-tailed category frequency (most / least frequent ~25x in every split);
* object sizes spread over COCO's small / medium / large buckets (``area`` is the mask area);
* low-saturation clutter (gradients, noise, strokes, blobs) that belongs to no category, and
  occlusion between objects: masks and boxes describe only the pixels left visible;
* a stick-figure ``person`` annotated with the 17 COCO keypoints, anatomically left/right
  consistent (every figure faces the viewer, so its left side is on the image's right) so that a
  horizontal flip with a left/right swap stays correct;
* a classification set framed as ImageNet photos are: each image is a square crop around one object
  of another generated scene (1.3-2x its size, so neighbours, clutter and occlusion stay in view),
  labelled with its category and balanced over categories.

Layout written by ``python -m lthsteps.synthdata --out DIR``::

    DIR/coco/{train,val}/<image id:06d>.png
    DIR/coco/annotations/instances_{train,val}.json
    DIR/VOCdevkit/VOC2007/{JPEGImages/<id>.jpg, Annotations/<id>.xml,
                           ImageSets/Main/{train,val,trainval,test}.txt}    (test == val)
    DIR/classification/{train,val}/<category name>/<n:05d>.png   (object-centric crops of other scenes)
    DIR/dataset_stats.json

Image ids are unique over both splits (train first), so the VOC folder can hold all images.
Pixel geometry uses COCO's continuous convention: pixel (i, j) covers [i, i+1) x [j, j+1).
"""
from __future__ import annotations

import argparse
import colorsys
import json
import math
import os
import shutil
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

import cv2
import numpy as np
from pycocotools import mask as mask_utils

# ----------------------------------------------------------------------------------------------
# Categories and COCO constants
# ----------------------------------------------------------------------------------------------

SMALL_MAX_AREA = 32**2  # COCO area buckets: small < 32^2 <= medium <= 96^2 < large
LARGE_MIN_AREA = 96**2
AREA_BUCKETS = ("small", "medium", "large")

FREQUENCY_RATIO = 25.0  # most / least frequent category (the analyses need >= 20)

KEYPOINT_NAMES = (
    "nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder", "right_shoulder",
    "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip", "right_hip", "left_knee",
    "right_knee", "left_ankle", "right_ankle",
)
SKELETON = (  # COCO's, 1-based keypoint indices
    (16, 14), (14, 12), (17, 15), (15, 13), (12, 13), (6, 12), (7, 13), (6, 7), (6, 8), (7, 9),
    (8, 10), (9, 11), (2, 3), (1, 2), (1, 3), (2, 4), (3, 5), (4, 6), (5, 7),
)


@dataclass(frozen=True)
class Category:
    """One object class: what it looks like and how often / how big it appears."""

    id: int
    name: str
    hue: float  # centre of the colour family, degrees; neighbours in shape get distant hues
    kind: str  # "filled" (solid shape), "person" (small/medium), "thin" (always small by area)


# Listed from most to least frequent: the category id is also the frequency rank. Rare categories
# are mixed easy (cross, hexagon) and hard (rope) shapes so that frequency and difficulty are not
# confounded in the rare-vs-frequent analysis.
CATEGORIES = (
    Category(1, "person", 0.0, "person"),
    Category(2, "ball", 36.0, "filled"),
    Category(3, "box", 180.0, "filled"),
    Category(4, "pole", 252.0, "thin"),
    Category(5, "triangle", 108.0, "filled"),
    Category(6, "star", 288.0, "filled"),
    Category(7, "rope", 324.0, "thin"),
    Category(8, "ring", 144.0, "filled"),
    Category(9, "hexagon", 216.0, "filled"),
    Category(10, "cross", 72.0, "filled"),
)
CATEGORY_NAMES = tuple(c.name for c in CATEGORIES)
PERSON_ID = 1

# Share of each category among all detection instances: geometric decay from 1 to 1/FREQUENCY_RATIO.
CATEGORY_SHARES = tuple(
    FREQUENCY_RATIO ** (-rank / (len(CATEGORIES) - 1)) for rank in range(len(CATEGORIES))
)

# P(small) (else medium) of the instances that are not an image's single "large" object. Stars,
# triangles and crosses fill too little of their box to be large in a 160 px image, so only the
# shapes below may be large; one of them per image is (with LARGE_IMAGE_PROB), which gives
# COCO-like bucket shares without two huge objects hiding each other.
SMALL_PROB = MappingProxyType({"filled": 0.45, "person": 0.4, "thin": 1.0})  # by Category.kind
LARGE_CAPABLE = frozenset({"ball", "box", "ring", "hexagon"})
LARGE_IMAGE_PROB = 0.9

MIN_OBJECTS, MAX_OBJECTS = 2, 6  # per detection image
MIN_AREA = 40  # instances are never left with fewer visible pixels than this
MIN_VISIBLE_FRACTION = 0.45  # ... nor with less than this share of their full (unclipped) area
MIN_IN_FRAME_FRACTION = 0.6  # objects cut by the image border keep at least this share
TRUNCATED_PLACEMENT_PROB = 0.1  # objects placed anywhere (may be cut by the border)
PLACEMENT_TRIES = 25
# An object that fits nowhere is redrawn smaller before it is given up: crowded images then keep
# their planned categories, so the category quotas (the long tail) survive placement.
SHRINK_ATTEMPTS, SHRINK_FACTOR = 3, 0.6
DIFFICULT_VISIBLE_FRACTION = 0.6  # VOC "difficult": heavily occluded ...
DIFFICULT_AREA = 64  # ... or tiny
MAX_EXTENT_FRACTION = 0.9  # of the image side


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


def area_bucket(area: float) -> str:
    """COCO area bucket of an annotation area."""
    if area < SMALL_MAX_AREA:
        return "small"
    return "medium" if area <= LARGE_MIN_AREA else "large"


def area_ranges(image_size: int) -> dict[str, tuple[float, float] | None]:
    """Target mask-area range per bucket; None where the image is too small for that bucket.

    Ranges keep clear of the bucket borders so that clipping and occlusion rarely move an object
    to another bucket; small objects are 15-30 px across (180-900 px), never a few pixels.
    """
    medium_hi = min(8000.0, 0.3 * image_size**2)
    large_hi = min(16000.0, 0.62 * image_size**2)
    return {
        "small": (180.0, 900.0),
        "medium": (1300.0, medium_hi),
        "large": (11000.0, large_hi) if large_hi > 11500.0 else None,
    }


# ----------------------------------------------------------------------------------------------
# Sampling what goes into each image
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class InstanceSpec:
    """An object to draw: its category and the mask area it should have before occlusion."""

    category_id: int
    target_area: float


def category_quota(num_instances: int) -> np.ndarray:
    """Instances per category (index = id - 1) for a split, by largest remainder.

    Exact quotas instead of independent draws keep the long-tail ratio and the presence of the
    rarest category in small splits independent of the seed; every category gets at least one
    instance when there are enough.
    """
    shares = np.asarray(CATEGORY_SHARES) / sum(CATEGORY_SHARES)
    ideal = shares * num_instances
    counts = np.floor(ideal).astype(np.int64)
    order = np.argsort(-(ideal - counts), kind="stable")
    counts[order[: num_instances - counts.sum()]] += 1
    if num_instances >= len(CATEGORIES):
        for idx in np.flatnonzero(counts == 0):
            counts[np.argmax(counts)] -= 1
            counts[idx] = 1
    return counts


def plan_split(rng: np.random.Generator, num_images: int, image_size: int) -> list[list[InstanceSpec]]:
    """Objects of every image of a split: categories by quota, then sizes per image."""
    per_image = rng.integers(MIN_OBJECTS, MAX_OBJECTS + 1, size=num_images)
    category_ids = np.repeat(np.arange(1, len(CATEGORIES) + 1), category_quota(int(per_image.sum())))
    rng.shuffle(category_ids)
    ranges = area_ranges(image_size)
    plans, start = [], 0
    for count in per_image:
        ids = [int(i) for i in category_ids[start : start + count]]
        start += count
        plans.append(_plan_image(rng, ids, ranges))
    return plans


def _plan_image(rng: np.random.Generator, category_ids: list[int], ranges: dict) -> list[InstanceSpec]:
    """Area bucket and target area of each object of one image; at most one large object."""
    buckets = []
    for cid in category_ids:
        buckets.append("small" if rng.random() < SMALL_PROB[CATEGORIES[cid - 1].kind] else "medium")
    capable = [i for i, cid in enumerate(category_ids) if CATEGORIES[cid - 1].name in LARGE_CAPABLE]
    if ranges["large"] is not None and capable and rng.random() < LARGE_IMAGE_PROB:
        buckets[capable[rng.integers(len(capable))]] = "large"
    specs = []
    for cid, bucket in zip(category_ids, buckets):
        lo, hi = ranges[bucket]
        specs.append(InstanceSpec(cid, float(np.exp(rng.uniform(math.log(lo), math.log(hi))))))
    return specs


# ----------------------------------------------------------------------------------------------
# Object geometry (object-local coordinates, origin at the centre of the object's box)
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Part:
    """One drawing primitive. Polygons are filled, polylines are strokes of ``thickness`` px,
    ellipses are filled (``thickness`` = cv2.FILLED) or outlines of ``thickness`` px; ``points``
    holds an ellipse's centre as its single row."""

    kind: str  # "polygon" | "polyline" | "ellipse"
    points: np.ndarray
    color: tuple[int, int, int]
    thickness: int = 0
    axes: tuple[float, float] = (0.0, 0.0)
    angle: float = 0.0


@dataclass(frozen=True)
class Geometry:
    """A drawable object: parts painted in order, its box half-size, person keypoints (17x2)."""

    parts: tuple[Part, ...]
    half_extent: tuple[float, float]
    keypoints: np.ndarray | None = None


HSV = tuple[float, float, float]  # hue in degrees, saturation and value in [0, 1]


def hsv_color(hue_deg: float, sat: float, val: float) -> tuple[int, int, int]:
    """RGB uint8 triple of an HSV colour (hue in degrees)."""
    r, g, b = colorsys.hsv_to_rgb((hue_deg % 360.0) / 360.0, sat, val)
    return (round(r * 255), round(g * 255), round(b * 255))


def category_color(rng: np.random.Generator, category: Category) -> HSV:
    """(hue, saturation, value) of an object: its category's hue family, saturated and bright so it
    stands out from the low-saturation background and clutter."""
    return (category.hue + rng.uniform(-5.0, 5.0), rng.uniform(0.7, 1.0), rng.uniform(0.72, 1.0))


def _rotate(points: np.ndarray, degrees: float) -> np.ndarray:
    t = math.radians(degrees)
    rot = np.array([[math.cos(t), -math.sin(t)], [math.sin(t), math.cos(t)]])
    return points @ rot.T


def _polygon_area(points: np.ndarray) -> float:
    x, y = points[:, 0], points[:, 1]
    return 0.5 * abs(float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))))


def _part_bounds(part: Part) -> tuple[np.ndarray, np.ndarray]:
    reach = max(part.thickness, 0) / 2 + (max(part.axes) if part.kind == "ellipse" else 0.0)
    return part.points.min(0) - reach, part.points.max(0) + reach


def _centered(parts: list[Part], keypoints: np.ndarray | None = None) -> Geometry:
    """Shift parts (and keypoints) so the origin is the centre of their joint bounding box."""
    bounds = [_part_bounds(p) for p in parts]
    lo = np.min([b[0] for b in bounds], axis=0)
    hi = np.max([b[1] for b in bounds], axis=0)
    mid = (lo + hi) / 2
    moved = tuple(
        Part(p.kind, p.points - mid, p.color, p.thickness, p.axes, p.angle) for p in parts
    )
    kps = None if keypoints is None else keypoints - mid
    return Geometry(moved, (float(hi[0] - mid[0]), float(hi[1] - mid[1])), kps)


def _scaled_polygon(unit: np.ndarray, target_area: float, max_extent: float) -> np.ndarray:
    """Scale a polygon to the target area, then down to fit ``max_extent`` if needed."""
    pts = unit * math.sqrt(target_area / _polygon_area(unit))
    extent = float(np.ptp(pts, axis=0).max())
    return pts * min(1.0, max_extent / extent)


def _regular_polygon(n: int, radii: np.ndarray | float = 1.0, start_deg: float = -90.0) -> np.ndarray:
    angles = np.radians(start_deg + np.arange(n) * 360.0 / n)
    return np.stack([np.cos(angles), np.sin(angles)], axis=1) * np.reshape(radii, (-1, 1))


def _box(rng: np.random.Generator, hsv: HSV, target_area: float, max_extent: float) -> Geometry:
    aspect = math.exp(rng.uniform(math.log(0.6), math.log(1.6)))
    unit = np.array([[-aspect, -1.0], [aspect, -1.0], [aspect, 1.0], [-aspect, 1.0]])
    pts = _scaled_polygon(_rotate(unit, rng.uniform(-25.0, 25.0)), target_area, max_extent)
    return _centered([Part("polygon", pts, hsv_color(*hsv))])


def _triangle(rng: np.random.Generator, hsv: HSV, target_area: float, max_extent: float) -> Geometry:
    # random corner radii: not always equilateral
    unit = _regular_polygon(3, rng.uniform(0.85, 1.15, size=3), start_deg=rng.uniform(0.0, 360.0))
    return _centered([Part("polygon", _scaled_polygon(unit, target_area, max_extent), hsv_color(*hsv))])


def _star(rng: np.random.Generator, hsv: HSV, target_area: float, max_extent: float) -> Geometry:
    radii = np.tile([1.0, rng.uniform(0.4, 0.52)], 5)
    unit = _regular_polygon(10, radii, start_deg=rng.uniform(0.0, 72.0))
    return _centered([Part("polygon", _scaled_polygon(unit, target_area, max_extent), hsv_color(*hsv))])


def _hexagon(rng: np.random.Generator, hsv: HSV, target_area: float, max_extent: float) -> Geometry:
    unit = _regular_polygon(6, start_deg=rng.uniform(0.0, 60.0))
    return _centered([Part("polygon", _scaled_polygon(unit, target_area, max_extent), hsv_color(*hsv))])


def _cross(rng: np.random.Generator, hsv: HSV, target_area: float, max_extent: float) -> Geometry:
    u = rng.uniform(0.17, 0.26)  # half arm thickness / half arm length
    unit = np.array([
        [-u, -1], [u, -1], [u, -u], [1, -u], [1, u], [u, u],
        [u, 1], [-u, 1], [-u, u], [-1, u], [-1, -u], [-u, -u],
    ], dtype=float)
    pts = _scaled_polygon(_rotate(unit, rng.uniform(-25.0, 25.0)), target_area, max_extent)
    return _centered([Part("polygon", pts, hsv_color(*hsv))])


def _ball(rng: np.random.Generator, hsv: HSV, target_area: float, max_extent: float) -> Geometry:
    """An ellipse close to a circle with a light highlight: tells balls from hexagons and rings."""
    ratio = rng.uniform(0.9, 1.1)
    b = math.sqrt(target_area / (math.pi * ratio))
    a = ratio * b
    shrink = min(1.0, max_extent / (2 * max(a, b)))
    a, b = a * shrink, b * shrink
    parts = [Part("ellipse", np.zeros((1, 2)), hsv_color(*hsv), cv2.FILLED, (a, b), rng.uniform(0, 180))]
    if min(a, b) >= 5:
        light = hsv_color(hsv[0], hsv[1] * 0.35, 1.0)
        spot = np.array([[-0.35 * a, -0.35 * b]])
        parts.append(Part("ellipse", spot, light, cv2.FILLED, (0.28 * a, 0.28 * b), 0.0))
    return _centered(parts)


def _ring(rng: np.random.Generator, hsv: HSV, target_area: float, max_extent: float) -> Geometry:
    q = rng.uniform(0.5, 0.65)  # inner / outer radius
    outer = min(math.sqrt(target_area / (math.pi * (1 - q * q))), max_extent / 2)
    width = max(2, round(outer * (1 - q)))
    mid = outer - width / 2
    return _centered([Part("ellipse", np.zeros((1, 2)), hsv_color(*hsv), width, (mid, mid), 0.0)])


def _pole(rng: np.random.Generator, hsv: HSV, target_area: float, max_extent: float) -> Geometry:
    """A straight bar 2-4 px wide: long in extent, small in area, hard to box tightly."""
    width = int(rng.integers(2, 5))
    length = float(np.clip(target_area / width, 32.0, max_extent))
    ends = _rotate(np.array([[-length / 2, 0.0], [length / 2, 0.0]]), rng.uniform(0.0, 180.0))
    return _centered([Part("polyline", ends, hsv_color(*hsv), width)])


def _rope(rng: np.random.Generator, hsv: HSV, target_area: float, max_extent: float) -> Geometry:
    """A thin wavy polyline 2-3 px wide."""
    width = int(rng.integers(2, 4))
    length = float(np.clip(target_area / (1.15 * width), 36.0, max_extent))
    x = np.linspace(-length / 2, length / 2, 32)
    amp = rng.uniform(0.06, 0.18) * length
    y = amp * np.sin(2 * math.pi * rng.uniform(0.5, 1.3) * x / length + rng.uniform(0, 2 * math.pi))
    pts = _rotate(np.stack([x, y], axis=1), rng.uniform(0.0, 180.0))
    return _centered([Part("polyline", pts, hsv_color(*hsv), width)])


# Person proportions, in units of the figure height H (y down, origin at the hip centre).
_SHOULDER_Y, _HEAD_R = -0.33, 0.075
_HEAD_Y = -0.52 + _HEAD_R
_UPPER_ARM, _FOREARM, _THIGH, _SHIN = 0.16, 0.14, 0.23, 0.23
PERSON_AREA_PER_H2 = 0.24  # mask area / H^2 of the drawn figure (measured; used to size it)


def _person_skeleton(rng: np.random.Generator, width: float) -> np.ndarray:
    """17 keypoints (H = 1) of a random pose; the figure faces the viewer, so every left_* point
    lies at +x (the image's right) of its right_* twin before the small lean rotation."""

    def limb(start: np.ndarray, side: float, angle_deg: float, length: float) -> np.ndarray:
        # angle from straight down, positive = away from the body's midline
        t = math.radians(angle_deg)
        return start + length * np.array([side * math.sin(t), math.cos(t)])

    head = np.array([0.0, _HEAD_Y])
    r = _HEAD_R
    kps = {
        "nose": head + [0.0, 0.25 * r],
        "left_eye": head + [0.4 * r, -0.15 * r],
        "right_eye": head + [-0.4 * r, -0.15 * r],
        "left_ear": head + [r, 0.0],
        "right_ear": head + [-r, 0.0],
    }
    for side_name, side in (("left", 1.0), ("right", -1.0)):
        shoulder = np.array([side * 0.12 * width, _SHOULDER_Y])
        hip = np.array([side * 0.085 * width, 0.0])
        upper = rng.uniform(5.0, 150.0)
        elbow = limb(shoulder, side, upper, _UPPER_ARM)
        wrist = limb(elbow, side, float(np.clip(upper + rng.uniform(-40.0, 100.0), -30.0, 200.0)), _FOREARM)
        thigh = rng.uniform(-5.0, 35.0)
        knee = limb(hip, side, thigh, _THIGH)
        ankle = limb(knee, side, thigh + rng.uniform(-25.0, 15.0), _SHIN)
        kps.update({
            f"{side_name}_shoulder": shoulder, f"{side_name}_elbow": elbow, f"{side_name}_wrist": wrist,
            f"{side_name}_hip": hip, f"{side_name}_knee": knee, f"{side_name}_ankle": ankle,
        })
    return np.stack([kps[name] for name in KEYPOINT_NAMES])


def _person(rng: np.random.Generator, hsv: HSV, target_area: float, max_extent: float) -> Geometry:
    """Stick figure: filled torso and head, thick limbs, dark eyes when big enough to show."""
    width = math.exp(rng.uniform(math.log(0.8), math.log(1.25)))  # body aspect
    unit = _rotate(_person_skeleton(rng, width), rng.uniform(-12.0, 12.0))
    unit_extent = float(np.ptp(unit, axis=0).max()) + 2 * _HEAD_R
    height = min(math.sqrt(target_area / PERSON_AREA_PER_H2), max_extent / unit_extent)
    kp = unit * height
    idx = {name: i for i, name in enumerate(KEYPOINT_NAMES)}
    body = hsv_color(*hsv)
    limb_w = max(2, round(0.055 * height))
    grow = 0.5 * limb_w  # torso corners sit on the joints; widen by half a limb
    torso = np.array([
        kp[idx["right_shoulder"]] + [-grow, -grow], kp[idx["left_shoulder"]] + [grow, -grow],
        kp[idx["left_hip"]] + [grow, grow], kp[idx["right_hip"]] + [-grow, grow],
    ])
    head_c = (kp[idx["left_ear"]] + kp[idx["right_ear"]]) / 2
    neck_base = (kp[idx["left_shoulder"]] + kp[idx["right_shoulder"]]) / 2
    head_r = _HEAD_R * height
    parts = [Part("polygon", torso, body), Part("polyline", np.stack([neck_base, head_c]), body, limb_w)]
    for side in ("left", "right"):
        arm = kp[[idx[f"{side}_shoulder"], idx[f"{side}_elbow"], idx[f"{side}_wrist"]]]
        leg = kp[[idx[f"{side}_hip"], idx[f"{side}_knee"], idx[f"{side}_ankle"]]]
        parts += [Part("polyline", arm, body, limb_w), Part("polyline", leg, body, limb_w)]
    parts.append(Part("ellipse", head_c[None], hsv_color(hsv[0], hsv[1] * 0.45, hsv[2]), cv2.FILLED,
                      (head_r, 1.1 * head_r), 0.0))
    if head_r >= 4:
        eye_r = max(0.6, 0.13 * head_r)
        for eye in ("left_eye", "right_eye"):
            parts.append(Part("ellipse", kp[idx[eye]][None], (20, 20, 20), cv2.FILLED, (eye_r, eye_r), 0.0))
    return _centered(parts, kp)


SHAPE_MAKERS = MappingProxyType({
    "person": _person, "ball": _ball, "box": _box, "pole": _pole, "triangle": _triangle,
    "star": _star, "rope": _rope, "ring": _ring, "hexagon": _hexagon, "cross": _cross,
})


def make_geometry(
    rng: np.random.Generator, category_id: int, target_area: float, max_extent: float
) -> Geometry:
    """Random instance of a category whose mask has about ``target_area`` pixels (thin shapes and
    persons cap at ``max_extent``, which keeps them in their usual buckets)."""
    category = CATEGORIES[category_id - 1]
    return SHAPE_MAKERS[category.name](rng, category_color(rng, category), target_area, max_extent)


# ----------------------------------------------------------------------------------------------
# Rasterising
# ----------------------------------------------------------------------------------------------

_SHIFT = 4  # cv2 fixed-point bits: sub-pixel accurate drawing


def _fixed(points: np.ndarray) -> np.ndarray:
    return np.round(points * (1 << _SHIFT)).astype(np.int32)


def _draw_part(canvas: np.ndarray, part: Part, origin: np.ndarray, value) -> None:
    """Draw one part; ``origin`` maps object-local continuous coordinates to cv2 pixel indices."""
    pts = _fixed(part.points + origin)
    if part.kind == "polygon":
        cv2.fillPoly(canvas, [pts], value, cv2.LINE_8, _SHIFT)
    elif part.kind == "polyline":
        cv2.polylines(canvas, [pts], False, value, part.thickness, cv2.LINE_8, _SHIFT)
    else:
        axes = tuple(int(v) for v in _fixed(np.asarray(part.axes)))
        cv2.ellipse(canvas, tuple(int(v) for v in pts[0]), axes, part.angle, 0, 360, value,
                    part.thickness, cv2.LINE_8, _SHIFT)


def rasterize(geometry: Geometry, center: tuple[float, float], image_size: int) -> tuple[np.ndarray, int]:
    """Part-index map (0 = not the object, k = part k-1) of an object inside the image, and its
    full pixel area including what falls outside the image (the canvas is padded by half an image
    on every side, more than any object's half extent)."""
    pad = image_size // 2
    canvas = np.zeros((image_size + 2 * pad,) * 2, np.uint8)
    origin = np.asarray(center) + pad - 0.5  # continuous coordinate of a pixel centre is i + 0.5
    for k, part in enumerate(geometry.parts, start=1):
        _draw_part(canvas, part, origin, k)
    full_area = int(np.count_nonzero(canvas))
    return canvas[pad : pad + image_size, pad : pad + image_size].copy(), full_area


def render_background(rng: np.random.Generator, size: int) -> np.ndarray:
    """Cluttered RGB background: a low-saturation gradient, low-frequency colour noise, gray-ish
    strokes and blobs. Nothing here belongs to a category (all of it is unsaturated)."""
    t0, t1 = (hsv_color(rng.uniform(0, 360), rng.uniform(0, 0.22), rng.uniform(0.22, 0.68)) for _ in range(2))
    direction = rng.uniform(0, 2 * math.pi)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
    ramp = (math.cos(direction) * (xx - 0.5) + math.sin(direction) * (yy - 0.5) + 0.75) / 1.5
    image = np.asarray(t0, np.float32) * (1 - ramp[..., None]) + np.asarray(t1, np.float32) * ramp[..., None]
    cells = int(rng.integers(3, 8))
    image += cv2.resize(rng.normal(0, 9, (cells, cells, 3)).astype(np.float32), (size, size),
                        interpolation=cv2.INTER_CUBIC)
    for _ in range(int(rng.integers(1, 5))):
        _draw_blob(rng, image, size)
    for _ in range(int(rng.integers(2, 7))):
        _draw_stroke(rng, image, size)
    return cv2.GaussianBlur(image, (0, 0), 0.8)


def _clutter_color(rng: np.random.Generator) -> tuple[int, int, int]:
    return hsv_color(rng.uniform(0, 360), rng.uniform(0, 0.2), rng.uniform(0.1, 0.9))


def _draw_blob(rng: np.random.Generator, image: np.ndarray, size: int) -> None:
    radii = rng.uniform(0.6, 1.0, size=9) * rng.uniform(0.04, 0.2) * size
    pts = _regular_polygon(9, radii, rng.uniform(0, 40)) + rng.uniform(0, size, size=2)
    cv2.fillPoly(image, [_fixed(pts)], _clutter_color(rng), cv2.LINE_AA, _SHIFT)


def _draw_stroke(rng: np.random.Generator, image: np.ndarray, size: int) -> None:
    steps = rng.normal(0, 1, size=(int(rng.integers(2, 7)), 2)) * rng.uniform(0.05, 0.2) * size
    pts = np.cumsum(steps, axis=0) + rng.uniform(0, size, size=2)
    cv2.polylines(image, [_fixed(pts)], False, _clutter_color(rng), int(rng.integers(1, 4)),
                  cv2.LINE_AA, _SHIFT)


def _paint(image: np.ndarray, geometry: Geometry, parts: np.ndarray) -> None:
    """Colour the pixels of a rasterised object (``parts`` from :func:`rasterize`) over ``image``."""
    inside = parts > 0
    palette = np.array([(0, 0, 0)] + [p.color for p in geometry.parts], np.float32)
    image[inside] = palette[parts[inside]]


def _finish(rng: np.random.Generator, image: np.ndarray) -> np.ndarray:
    """Soften object edges a little and add sensor noise, so pixels are not flat colours."""
    image = cv2.GaussianBlur(image, (0, 0), 0.5) + rng.normal(0, 3.5, image.shape).astype(np.float32)
    return np.clip(np.round(image), 0, 255).astype(np.uint8)


# ----------------------------------------------------------------------------------------------
# Detection images: placement with occlusion
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Instance:
    """A placed object after all occlusion: visible mask and (for persons) keypoints [x, y, v]."""

    category_id: int
    mask: np.ndarray  # bool, image-sized: the visible pixels
    full_area: int  # pixels before clipping and occlusion
    truncated: bool  # cut by the image border
    keypoints: np.ndarray | None = None  # (17, 3) float

    @property
    def area(self) -> int:
        return int(np.count_nonzero(self.mask))

    @property
    def difficult(self) -> bool:
        """VOC's "difficult": tiny or heavily occluded/truncated."""
        return self.area < DIFFICULT_AREA or self.area < DIFFICULT_VISIBLE_FRACTION * self.full_area


@dataclass(frozen=True)
class _Placed:
    category_id: int
    geometry: Geometry
    center: tuple[float, float]
    parts: np.ndarray  # part-index map inside the image
    full_area: int


def _candidate_center(rng: np.random.Generator, geometry: Geometry, size: int) -> tuple[float, float]:
    """Mostly fully inside the image; sometimes anywhere, i.e. possibly cut by the border."""
    if rng.random() < TRUNCATED_PLACEMENT_PROB:
        return (float(rng.uniform(0, size)), float(rng.uniform(0, size)))
    center = []
    for half in geometry.half_extent:
        lo, hi = half, size - half
        center.append(float(rng.uniform(lo, hi)) if hi > lo else size / 2)
    return (center[0], center[1])


def _pixels_taken(owner: np.ndarray, mask: np.ndarray, num_placed: int) -> np.ndarray:
    """How many visible pixels each placed object would lose under ``mask``."""
    return np.bincount(owner[mask] + 1, minlength=num_placed + 1)[1:]


def _visible_floor(full_area: int, in_frame: int) -> int:
    """Fewest visible pixels later objects may leave to an object. Large objects also stay large:
    a 160 px image holds only one, and unprotected most would be occluded down to medium."""
    floor = max(MIN_AREA, math.ceil(MIN_VISIBLE_FRACTION * full_area))
    return max(floor, LARGE_MIN_AREA + 1) if in_frame > LARGE_MIN_AREA else floor


def _try_place(
    rng: np.random.Generator,
    category_id: int,
    geometry: Geometry,
    owner: np.ndarray,
    visible: np.ndarray,
    floors: np.ndarray,
    size: int,
) -> _Placed | None:
    """First random position where the object stays mostly in frame and leaves every earlier object
    its visible floor; None if there is none within PLACEMENT_TRIES."""
    for _ in range(PLACEMENT_TRIES):
        center = _candidate_center(rng, geometry, size)
        parts, full_area = rasterize(geometry, center, size)
        inside = parts > 0
        in_frame = int(np.count_nonzero(inside))
        if in_frame < max(MIN_AREA, MIN_IN_FRAME_FRACTION * full_area):
            continue
        if np.all(visible - _pixels_taken(owner, inside, len(floors)) >= floors):
            return _Placed(category_id, geometry, center, parts, full_area)
    return None


def _place_shrinking(
    rng: np.random.Generator,
    spec: InstanceSpec,
    owner: np.ndarray,
    visible: np.ndarray,
    floors: np.ndarray,
    size: int,
) -> _Placed | None:
    """Place a new instance of ``spec``, redrawing it smaller when it fits nowhere."""
    for attempt in range(SHRINK_ATTEMPTS):
        area = spec.target_area * SHRINK_FACTOR**attempt
        geometry = make_geometry(rng, spec.category_id, area, MAX_EXTENT_FRACTION * size)
        obj = _try_place(rng, spec.category_id, geometry, owner, visible, floors, size)
        if obj is not None:
            return obj
    return None


def _draw_order(rng: np.random.Generator, specs: list[InstanceSpec]) -> list[InstanceSpec]:
    """Big objects mostly first (behind), with jitter so small ones are sometimes occluded too."""
    keys = [s.target_area * math.exp(rng.normal(0, 0.6)) for s in specs]
    return [specs[i] for i in sorted(range(len(specs)), key=lambda i: -keys[i])]


def _person_keypoints(placed: _Placed, index: int, owner: np.ndarray, size: int) -> np.ndarray:
    """[x, y, v] rows: v=2 visible, v=1 inside the image but under a later object, v=0 (x=y=0)
    outside the image."""
    out = np.zeros((len(KEYPOINT_NAMES), 3))
    for k, (x, y) in enumerate(placed.geometry.keypoints + np.asarray(placed.center)):
        if 0 <= x < size and 0 <= y < size:
            covered = owner[int(y), int(x)] > index
            out[k] = (round(float(x), 2), round(float(y), 2), 1 if covered else 2)
    return out


def render_detection_image(
    rng: np.random.Generator, specs: list[InstanceSpec], image_size: int
) -> tuple[np.ndarray, list[Instance]]:
    """RGB image and its instances (in drawing order). Objects that find no acceptable position,
    even shrunk, are left out, so every returned instance keeps at least MIN_AREA visible pixels
    and MIN_VISIBLE_FRACTION of its full area."""
    image = render_background(rng, image_size)
    owner = np.full((image_size, image_size), -1, np.int32)  # index of the topmost object per pixel
    placed: list[_Placed] = []
    visible = np.zeros(0, np.int64)  # visible pixels of each placed object
    floors = np.zeros(0, np.int64)  # ... and how few later objects may leave it
    for spec in _draw_order(rng, specs):
        obj = _place_shrinking(rng, spec, owner, visible, floors, image_size)
        if obj is None:
            continue
        inside = obj.parts > 0
        in_frame = int(np.count_nonzero(inside))
        visible = np.append(visible - _pixels_taken(owner, inside, len(placed)), in_frame)
        floors = np.append(floors, _visible_floor(obj.full_area, in_frame))
        owner[inside] = len(placed)
        placed.append(obj)
        _paint(image, obj.geometry, obj.parts)
    instances = []
    for index, obj in enumerate(placed):
        kps = None if obj.geometry.keypoints is None else _person_keypoints(obj, index, owner, image_size)
        truncated = int(np.count_nonzero(obj.parts)) < obj.full_area
        instances.append(Instance(obj.category_id, owner == index, obj.full_area, truncated, kps))
    return _finish(rng, image), instances


# ----------------------------------------------------------------------------------------------
# Classification images: object-centric crops of generated scenes, as ImageNet photos are
# ----------------------------------------------------------------------------------------------

# Crop side / the object's longer box side: ImageNet-like framing, with context and neighbours.
CROP_CONTEXT = (1.3, 2.0)
# Centre offset, as a share of the crop side: the object sits near, not at, the centre. With the
# context >= 1.3 the box's half side is <= 0.385 of the crop, so 0.385 + 0.1 < 0.5 keeps it whole.
CROP_JITTER = 0.1
MIN_CROP_SIDE = 24  # px in the scene: tiny objects keep some context


def scene_for_classification(rng: np.random.Generator, image_size: int) -> tuple[np.ndarray, list[Instance]]:
    """A detection-like scene whose categories are drawn uniformly (not long-tailed), so that every
    class fills its quota at the same pace."""
    count = int(rng.integers(MIN_OBJECTS, MAX_OBJECTS + 1))
    category_ids = [int(i) for i in rng.integers(1, len(CATEGORIES) + 1, size=count)]
    return render_detection_image(rng, _plan_image(rng, category_ids, area_ranges(image_size)), image_size)


def crop_window(rng: np.random.Generator, box: list[int], image_size: int) -> tuple[int, int, int]:
    """``(x0, y0, side)`` of a square around the COCO box [x, y, w, h]: side 1.3-2x its longer side
    (at least MIN_CROP_SIDE), centre jittered, shifted to lie inside the scene. Holds the whole box."""
    x, y, w, h = box
    side = max(max(w, h) * rng.uniform(*CROP_CONTEXT), MIN_CROP_SIDE)
    cx, cy = np.array([x + w / 2, y + h / 2]) + rng.uniform(-CROP_JITTER, CROP_JITTER, size=2) * side
    side = min(int(np.ceil(side)), image_size)
    x0, y0 = (int(np.clip(round(c - side / 2), 0, image_size - side)) for c in (cx, cy))
    return x0, y0, side


def object_crop(rng: np.random.Generator, image: np.ndarray, instance: Instance, crop_size: int) -> np.ndarray:
    """The instance framed by :func:`crop_window`, resized to ``crop_size``."""
    x0, y0, side = crop_window(rng, mask_bbox(instance.mask), image.shape[0])
    patch = image[y0 : y0 + side, x0 : x0 + side]
    interpolation = cv2.INTER_AREA if side > crop_size else cv2.INTER_LINEAR
    return cv2.resize(patch, (crop_size, crop_size), interpolation=interpolation)


# ----------------------------------------------------------------------------------------------
# Annotations
# ----------------------------------------------------------------------------------------------


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


# ----------------------------------------------------------------------------------------------
# Writing the dataset
# ----------------------------------------------------------------------------------------------

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
    or a dataset this module wrote; anything else is refused rather than deleted."""
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


# ----------------------------------------------------------------------------------------------
# CLI
# ----------------------------------------------------------------------------------------------


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


if __name__ == "__main__":
    sys.exit(main())
