"""The ten categories, COCO's constants and the parameters that shape the generated scenes."""
from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

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
