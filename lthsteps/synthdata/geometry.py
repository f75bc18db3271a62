"""Object geometry: each category's shape as drawing primitives, in object-local coordinates (origin
at the centre of the object's box), and the person's 17 keypoints."""
from __future__ import annotations

import colorsys
import math
from dataclasses import dataclass
from types import MappingProxyType

import cv2
import numpy as np

from lthsteps.synthdata.categories import CATEGORIES, KEYPOINT_NAMES, Category


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
