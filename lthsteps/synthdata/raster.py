"""Rasterising: objects to part-index maps, the cluttered background, painting and finishing images."""
from __future__ import annotations

import math

import cv2
import numpy as np

from lthsteps.synthdata.geometry import Geometry, Part, _regular_polygon, hsv_color

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
