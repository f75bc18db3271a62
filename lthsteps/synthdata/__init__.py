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

Modules, in the order a dataset is made (every public name is importable from ``lthsteps.synthdata``):

* ``categories``: the categories, COCO constants and the parameters that shape the scenes;
* ``sampling``: what goes into each image (categories by quota, sizes);
* ``geometry``: each category's shape as drawing primitives, the person's keypoints;
* ``raster``: rasterising objects, the cluttered background, painting and finishing images;
* ``scenes``: detection images, objects placed with occlusion;
* ``classification``: object-centric crops of generated scenes;
* ``annotations``: COCO and Pascal VOC annotations;
* ``writer``: the generator's arguments and writing the dataset folder;
* ``cli``: ``python -m lthsteps.synthdata``.
"""

from lthsteps.synthdata.annotations import coco_annotation, coco_categories, mask_bbox, voc_xml
from lthsteps.synthdata.categories import (AREA_BUCKETS, CATEGORIES, CATEGORY_NAMES, CATEGORY_SHARES, Category,
                                           DIFFICULT_AREA, DIFFICULT_VISIBLE_FRACTION, FREQUENCY_RATIO,
                                           KEYPOINT_NAMES, LARGE_CAPABLE, LARGE_IMAGE_PROB, LARGE_MIN_AREA,
                                           MAX_EXTENT_FRACTION, MAX_OBJECTS, MIN_AREA, MIN_IN_FRAME_FRACTION,
                                           MIN_OBJECTS, MIN_VISIBLE_FRACTION, PERSON_ID, PLACEMENT_TRIES,
                                           SHRINK_ATTEMPTS, SHRINK_FACTOR, SKELETON, SMALL_MAX_AREA, SMALL_PROB,
                                           TRUNCATED_PLACEMENT_PROB, area_bucket, area_ranges)
from lthsteps.synthdata.classification import (CROP_CONTEXT, CROP_JITTER, MIN_CROP_SIDE, crop_window, object_crop,
                                               scene_for_classification)
from lthsteps.synthdata.cli import build_parser, main
from lthsteps.synthdata.geometry import (Geometry, HSV, PERSON_AREA_PER_H2, Part, SHAPE_MAKERS, category_color,
                                         hsv_color, make_geometry)
from lthsteps.synthdata.raster import rasterize, render_background
from lthsteps.synthdata.sampling import InstanceSpec, category_quota, plan_split
from lthsteps.synthdata.scenes import Instance, render_detection_image
from lthsteps.synthdata.writer import (SPLITS, STATS_FILE, SynthConfig, generate, split_stats,
                                       write_classification_split, write_dataset, write_detection_split)

__all__ = [
    "AREA_BUCKETS", "CATEGORIES", "CATEGORY_NAMES", "CATEGORY_SHARES", "Category", "DIFFICULT_AREA",
    "DIFFICULT_VISIBLE_FRACTION", "FREQUENCY_RATIO", "KEYPOINT_NAMES", "LARGE_CAPABLE", "LARGE_IMAGE_PROB",
    "LARGE_MIN_AREA", "MAX_EXTENT_FRACTION", "MAX_OBJECTS", "MIN_AREA", "MIN_IN_FRAME_FRACTION", "MIN_OBJECTS",
    "MIN_VISIBLE_FRACTION", "PERSON_ID", "PLACEMENT_TRIES", "SHRINK_ATTEMPTS", "SHRINK_FACTOR", "SKELETON",
    "SMALL_MAX_AREA", "SMALL_PROB", "TRUNCATED_PLACEMENT_PROB", "area_bucket", "area_ranges", "InstanceSpec",
    "category_quota", "plan_split", "Geometry", "HSV", "PERSON_AREA_PER_H2", "Part", "SHAPE_MAKERS",
    "category_color", "hsv_color", "make_geometry", "rasterize", "render_background", "Instance",
    "render_detection_image", "CROP_CONTEXT", "CROP_JITTER", "MIN_CROP_SIDE", "crop_window", "object_crop",
    "scene_for_classification", "coco_annotation", "coco_categories", "mask_bbox", "voc_xml", "SPLITS",
    "STATS_FILE", "SynthConfig", "generate", "split_stats", "write_classification_split", "write_dataset",
    "write_detection_split", "build_parser", "main",
]
