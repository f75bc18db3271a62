"""Classification images: object-centric crops of generated scenes, as ImageNet photos are."""
from __future__ import annotations

import cv2
import numpy as np

from lthsteps.synthdata.annotations import mask_bbox
from lthsteps.synthdata.categories import CATEGORIES, MAX_OBJECTS, MIN_OBJECTS, area_ranges
from lthsteps.synthdata.sampling import _plan_image
from lthsteps.synthdata.scenes import Instance, render_detection_image

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
