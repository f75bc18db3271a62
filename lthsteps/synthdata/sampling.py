"""Sampling what goes into each image: categories by exact quota (the long tail), sizes per image."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from lthsteps.synthdata.categories import (CATEGORIES, CATEGORY_SHARES, LARGE_CAPABLE, LARGE_IMAGE_PROB, MAX_OBJECTS,
                                           MIN_OBJECTS, SMALL_PROB, area_ranges)


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
