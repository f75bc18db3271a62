"""COCO keypoints through MMDetection's data pipeline (mmdet 3.3.0 has no keypoint support).

A training pipeline for Keypoint R-CNN::

    LoadImageFromFile, LoadAnnotations(with_bbox=True), LoadKeypointAnnotations,
    Resize, RandomFlip, ResizeFlipKeypoints, PackKeypointDetInputs

mmdet's Resize and RandomFlip transform boxes and masks but leave ``gt_keypoints`` as loaded;
``ResizeFlipKeypoints`` applies what they recorded (``scale_factor``, ``flip``) afterwards.
Keypoints are ``(x, y, v)`` in the annotation's coordinates, v = 0 unlabelled, 1 occluded,
2 visible, as in COCO; unlabelled keypoints stay ``(0, 0, 0)``.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from mmcv.transforms import BaseTransform
from mmdet.datasets import CocoDataset
from mmdet.datasets.transforms import PackDetInputs
from mmdet.registry import DATASETS, TRANSFORMS


def keypoint_flip_indices(names: Sequence[str]) -> tuple[int, ...]:
    """For each keypoint, the index of its mirror image (left_* <-> right_*; others: itself)."""
    index = {name: i for i, name in enumerate(names)}

    def mirror(name: str) -> int:
        for side, other in (("left_", "right_"), ("right_", "left_")):
            if name.startswith(side):
                return index.get(other + name[len(side):], index[name])
        return index[name]

    return tuple(mirror(name) for name in names)


@DATASETS.register_module()
class CocoKeypointDataset(CocoDataset):
    """``CocoDataset`` whose instances also carry ``keypoints`` (K x 3 float32: x, y, v) and
    ``num_keypoints``; boxes, labels, masks, ignore flags and filtering are CocoDataset's.

    The keypoints are those of the COCO ``keypoints`` list of the selected categories (all of
    them must share one list); instances of categories without keypoints get K unlabelled ones.
    After loading, ``metainfo`` has ``keypoint_names``, ``flip_indices`` (see
    ``keypoint_flip_indices``) and ``skeleton`` (COCO's 1-based index pairs), and every sample
    handed to the pipeline has ``flip_indices``. ``filter_cfg`` may add ``min_keypoints``: training
    images with fewer labelled keypoints on non-ignored instances are dropped (Detectron2 drops
    images with none).

    ``keypoint_offset`` is added to the x, y of every labelled keypoint: 0.5 for real COCO, whose
    keypoints are integer pixel indices (Detectron2 adds 0.5 on load to put them at pixel centres,
    and subtracts it from its predictions, as ``CocoResultsDump`` does); 0 for continuous
    coordinates (the generated data).
    """

    def __init__(self, *args, keypoint_offset: float = 0.0, **kwargs) -> None:
        self.keypoint_offset = keypoint_offset
        super().__init__(*args, **kwargs)

    def load_data_list(self) -> list[dict]:
        self._keypoint_meta = None
        data_list = super().load_data_list()
        self._metainfo.update(self._keypoint_meta or dict(keypoint_names=(), flip_indices=(), skeleton=()))
        return data_list

    def _read_keypoint_meta(self) -> dict:
        # Only callable while CocoDataset.load_data_list runs: it deletes self.coco afterwards.
        categories = [c for c in self.coco.load_cats(self.cat_ids) if c.get("keypoints")]
        if len({tuple(c["keypoints"]) for c in categories}) != 1:
            raise ValueError(f"{self.ann_file}: the classes {self.metainfo['classes']} must include categories "
                             "with COCO `keypoints`, all with the same keypoint list; found "
                             f"{[(c['name'], len(c['keypoints'])) for c in categories]}")
        names = tuple(categories[0]["keypoints"])
        return dict(keypoint_names=names, flip_indices=keypoint_flip_indices(names),
                    skeleton=tuple(tuple(pair) for pair in categories[0].get("skeleton", ())))

    def parse_data_info(self, raw_data_info: dict) -> dict:
        if self._keypoint_meta is None:
            self._keypoint_meta = self._read_keypoint_meta()
        data_info = super().parse_data_info(dict(raw_data_info, raw_ann_info=[]))
        # CocoDataset's per-annotation checks, one annotation at a time, so that every kept
        # instance stays paired with its annotation's keypoints.
        for ann in raw_data_info["raw_ann_info"]:
            kept = super().parse_data_info(dict(raw_data_info, raw_ann_info=[ann]))["instances"]
            if kept:
                data_info["instances"].append(kept[0] | self._keypoints_of(ann))
        return data_info

    def _keypoints_of(self, ann: dict) -> dict:
        num = len(self._keypoint_meta["keypoint_names"])
        keypoints = np.asarray(ann.get("keypoints") or np.zeros(3 * num), dtype=np.float32).reshape(-1, 3)
        if len(keypoints) != num:
            raise ValueError(f"{self.ann_file}: annotation {ann.get('id')} has {len(keypoints)} keypoints, "
                             f"its dataset's keypoint list has {num}")
        labelled = keypoints[:, 2] > 0
        keypoints[labelled, :2] += self.keypoint_offset
        return dict(keypoints=keypoints, num_keypoints=int(np.count_nonzero(labelled)))

    def filter_data(self) -> list[dict]:
        data_list = super().filter_data()
        min_keypoints = (self.filter_cfg or {}).get("min_keypoints", 0)
        if self.test_mode or not min_keypoints:
            return data_list
        return [info for info in data_list
                if sum(i["num_keypoints"] for i in info["instances"] if not i["ignore_flag"]) >= min_keypoints]

    def get_data_info(self, idx: int) -> dict:
        # The transforms see one sample, not the dataset: hand them the left/right pairing.
        return super().get_data_info(idx) | dict(flip_indices=self._metainfo["flip_indices"])


@TRANSFORMS.register_module()
class LoadKeypointAnnotations(BaseTransform):
    """``gt_keypoints`` (N x K x 3 float32) from ``instances``, in the order mmdet's
    ``LoadAnnotations`` loads boxes, so that ``gt_ignore_flags`` apply to both. Needs
    ``flip_indices`` in the sample (``CocoKeypointDataset`` adds it) for K when N = 0."""

    def transform(self, results: dict) -> dict:
        if "flip_indices" not in results:
            raise KeyError("LoadKeypointAnnotations needs the sample's `flip_indices`: use CocoKeypointDataset")
        keypoints = [instance["keypoints"] for instance in results.get("instances", [])]
        results["gt_keypoints"] = np.asarray(keypoints, dtype=np.float32).reshape(-1, len(results["flip_indices"]), 3)
        return results


@TRANSFORMS.register_module()
class ResizeFlipKeypoints(BaseTransform):
    """Apply to ``gt_keypoints`` the ``Resize`` and ``RandomFlip`` already applied to the image;
    place it after both. A horizontal flip mirrors x as mmdet mirrors boxes (x' = w - x, w the
    width after resizing) and swaps left/right keypoints, so that left_wrist is again the
    figure's left wrist."""

    def transform(self, results: dict) -> dict:
        if "gt_keypoints" not in results:
            return results
        keypoints = results["gt_keypoints"].copy()
        if "scale_factor" in results:
            keypoints[..., :2] *= np.asarray(results["scale_factor"], dtype=np.float32)
        if results.get("flip", False):
            if results.get("flip_direction") != "horizontal":
                raise ValueError(f"ResizeFlipKeypoints supports horizontal flips only, got "
                                 f"{results.get('flip_direction')!r}: use RandomFlip(direction='horizontal')")
            keypoints[..., 0] = results["img_shape"][1] - keypoints[..., 0]
            keypoints = keypoints[:, list(results["flip_indices"])]
        keypoints[keypoints[..., 2] <= 0] = 0  # unlabelled ones stay (0, 0, 0)
        results["gt_keypoints"] = keypoints
        return results


@TRANSFORMS.register_module()
class PackKeypointDetInputs(PackDetInputs):
    """``PackDetInputs`` that also packs ``gt_keypoints`` as ``gt_instances.keypoints``
    (N x K x 3 tensor; ignored instances' go to ``ignored_instances.keypoints``)."""

    mapping_table = {**PackDetInputs.mapping_table, "gt_keypoints": "keypoints"}
