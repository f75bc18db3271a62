"""Detection images: objects placed with occlusion, annotated by what stays visible."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from lthsteps.synthdata.categories import (DIFFICULT_AREA, DIFFICULT_VISIBLE_FRACTION, KEYPOINT_NAMES, LARGE_MIN_AREA,
                                           MAX_EXTENT_FRACTION, MIN_AREA, MIN_IN_FRAME_FRACTION,
                                           MIN_VISIBLE_FRACTION, PLACEMENT_TRIES, SHRINK_ATTEMPTS, SHRINK_FACTOR,
                                           TRUNCATED_PLACEMENT_PROB)
from lthsteps.synthdata.geometry import Geometry, make_geometry
from lthsteps.synthdata.raster import _finish, _paint, rasterize, render_background
from lthsteps.synthdata.sampling import InstanceSpec


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
