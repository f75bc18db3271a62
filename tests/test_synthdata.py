"""Tests of the synthetic dataset generator (lthsteps.synthdata) on a small generated dataset."""
from __future__ import annotations

import dataclasses
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import cv2
import numpy as np
import pytest
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO

from lthsteps import synthdata as sd

SMALL = sd.SynthConfig(seed=0, train_images=40, val_images=20, image_size=160,
                       cls_train_per_class=3, cls_val_per_class=2)
SPLITS = ("train", "val")
# pycocotools 2.0.11 decodes through a numpy-1-style __array__; harmless under numpy 2.
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")


def _generate(root: Path, config: sd.SynthConfig = SMALL) -> Path:
    sd.write_dataset(config, root, log=lambda _msg: None)
    return root


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    return _generate(tmp_path_factory.mktemp("synth") / "data")


def _coco(root: Path, split: str) -> dict:
    return json.loads((root / "coco" / "annotations" / f"instances_{split}.json").read_text())


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


# ------------------------------------------------------------------------------- determinism


def test_same_seed_gives_identical_files(dataset, tmp_path):
    again = _files(_generate(tmp_path / "again"))
    first = _files(dataset)
    assert sorted(again) == sorted(first)
    assert [k for k in first if first[k] != again[k]] == []


def test_different_seed_gives_different_data(dataset, tmp_path):
    other = _generate(tmp_path / "other", dataclasses.replace(SMALL, seed=1))
    for rel in ("coco/annotations/instances_train.json", "coco/train/000001.png",
                "classification/val/person/00000.png"):
        assert (other / rel).read_bytes() != (dataset / rel).read_bytes(), rel


# ------------------------------------------------------------------------------- COCO


@pytest.mark.parametrize("split", SPLITS)
def test_coco_json_loads_and_masks_match_boxes_and_areas(dataset, split):
    ann_file = dataset / "coco" / "annotations" / f"instances_{split}.json"
    coco = COCO(str(ann_file))
    data = _coco(dataset, split)
    assert set(data) == {"info", "licenses", "images", "annotations", "categories"}
    assert len(coco.getImgIds()) == getattr(SMALL, f"{split}_images")
    assert [c["name"] for c in data["categories"]] == list(sd.CATEGORY_NAMES)
    for img in data["images"]:
        pixels = cv2.imread(str(dataset / "coco" / split / img["file_name"]))
        assert pixels.shape == (img["height"], img["width"], 3) == (160, 160, 3)
    for ann in data["annotations"]:
        mask = mask_utils.decode(coco.annToRLE(ann))
        assert ann["iscrowd"] == 0 and isinstance(ann["segmentation"]["counts"], str)
        assert int(mask.sum()) == ann["area"] == int(mask_utils.area(ann["segmentation"]))
        assert [int(v) for v in mask_utils.toBbox(ann["segmentation"])] == ann["bbox"]
        assert ann["area"] >= sd.MIN_AREA


def test_ids_are_unique_across_splits(dataset):
    train, val = _coco(dataset, "train"), _coco(dataset, "val")
    image_ids = [i["id"] for d in (train, val) for i in d["images"]]
    ann_ids = [a["id"] for d in (train, val) for a in d["annotations"]]
    assert len(set(image_ids)) == len(image_ids) and len(set(ann_ids)) == len(ann_ids)


def test_every_category_and_area_bucket_occurs(dataset):
    for split in SPLITS:
        anns = _coco(dataset, split)["annotations"]
        assert {a["category_id"] for a in anns} == {c.id for c in sd.CATEGORIES}, split
    buckets = [sd.area_bucket(a["area"]) for a in _coco(dataset, "train")["annotations"]]
    for bucket in sd.AREA_BUCKETS:
        assert buckets.count(bucket) >= 0.1 * len(buckets), bucket


# ------------------------------------------------------------------------------- keypoints


def _kps(ann: dict) -> np.ndarray:
    return np.asarray(ann["keypoints"], float).reshape(-1, 3)


def test_person_category_has_coco_keypoints(dataset):
    person = _coco(dataset, "train")["categories"][0]
    assert (person["id"], person["name"]) == (1, "person")
    assert person["keypoints"][:3] == ["nose", "left_eye", "right_eye"] and len(person["keypoints"]) == 17
    assert [15, 13] in person["skeleton"] and len(person["skeleton"]) == 19


@pytest.mark.parametrize("split", SPLITS)
def test_keypoint_format_and_visibility(dataset, split):
    anns = _coco(dataset, split)["annotations"]
    persons = [a for a in anns if a["category_id"] == sd.PERSON_ID]
    assert persons and all("keypoints" not in a for a in anns if a["category_id"] != sd.PERSON_ID)
    labels = []
    for ann in persons:
        kps = _kps(ann)
        assert kps.shape == (17, 3) and set(kps[:, 2]) <= {0, 1, 2}
        assert ann["num_keypoints"] == int(np.count_nonzero(kps[:, 2]))
        assert np.all(kps[kps[:, 2] == 0, :2] == 0)
        labelled = kps[kps[:, 2] > 0]
        assert np.all((labelled[:, :2] >= 0) & (labelled[:, :2] < 160))
        x, y, w, h = ann["bbox"]
        visible = kps[kps[:, 2] == 2]
        assert np.all((visible[:, 0] > x - 2) & (visible[:, 0] < x + w + 2)), ann["id"]
        assert np.all((visible[:, 1] > y - 2) & (visible[:, 1] < y + h + 2)), ann["id"]
        labels.extend(kps[:, 2])
    assert labels.count(2) > labels.count(1) > 0  # some keypoints are occluded, most are not


def test_occluded_keypoints_lie_off_the_visible_mask(dataset):
    for ann in _coco(dataset, "train")["annotations"]:
        if ann["category_id"] != sd.PERSON_ID:
            continue
        mask = mask_utils.decode(ann["segmentation"])
        for x, y, v in _kps(ann):
            if v == 1:
                assert mask[int(y), int(x)] == 0


def test_figures_face_the_viewer(dataset):
    """Left body parts are on the image's right, so flip augmentation with a left/right swap is right."""
    names = sd.KEYPOINT_NAMES
    pairs = [(names.index(f"left_{p}"), names.index(f"right_{p}")) for p in ("eye", "ear", "shoulder", "hip")]
    checked = 0
    for ann in _coco(dataset, "train")["annotations"]:
        if ann["category_id"] != sd.PERSON_ID:
            continue
        kps = _kps(ann)
        for left, right in pairs:
            if kps[left, 2] and kps[right, 2]:
                assert kps[left, 0] > kps[right, 0], (ann["id"], names[left])
                checked += 1
    assert checked > 50


# ------------------------------------------------------------------------------- sampling


def test_category_quota_is_long_tailed_and_exact():
    for total in (10, 61, 2400, 10_000):
        counts = sd.category_quota(total)
        assert counts.sum() == total and counts.min() >= 1
    counts = sd.category_quota(2400)
    assert counts.max() / counts.min() >= 20 and counts.min() >= 20
    assert list(counts) == sorted(counts, reverse=True)  # ids are frequency ranks


def test_plan_split_category_and_area_distribution():
    plans = sd.plan_split(np.random.default_rng(0), 2000, 160)
    specs = [s for plan in plans for s in plan]
    assert all(sd.MIN_OBJECTS <= len(p) <= sd.MAX_OBJECTS for p in plans)
    assert all(sum(sd.area_bucket(s.target_area) == "large" for s in p) <= 1 for p in plans)
    counts = np.bincount([s.category_id for s in specs])[1:]
    assert counts.max() / counts.min() >= 20
    buckets = [sd.area_bucket(s.target_area) for s in specs]
    for bucket in sd.AREA_BUCKETS:
        assert buckets.count(bucket) >= 0.15 * len(specs), bucket


def test_small_images_have_no_large_objects():
    assert sd.area_ranges(96)["large"] is None
    plans = sd.plan_split(np.random.default_rng(0), 50, 96)
    assert all(sd.area_bucket(s.target_area) != "large" for p in plans for s in p)


def test_rendered_instances_respect_occlusion_rules():
    rng = np.random.default_rng(3)
    for plan in sd.plan_split(np.random.default_rng(3), 20, 160):
        image, instances = sd.render_detection_image(rng, plan, 160)
        assert image.shape == (160, 160, 3) and image.dtype == np.uint8
        masks = np.stack([inst.mask for inst in instances])
        assert masks.sum(axis=0).max() <= 1  # visible masks never overlap
        for inst in instances:
            assert inst.area >= max(sd.MIN_AREA, sd.MIN_VISIBLE_FRACTION * inst.full_area)


# ------------------------------------------------------------------------------- VOC


def _voc(root: Path) -> Path:
    return root / "VOCdevkit" / "VOC2007"


@pytest.mark.parametrize("split", SPLITS)
def test_voc_xml_matches_coco(dataset, split):
    data = _coco(dataset, split)
    by_image: dict[int, list[dict]] = {}
    for ann in data["annotations"]:
        by_image.setdefault(ann["image_id"], []).append(ann)
    names = {c["id"]: c["name"] for c in data["categories"]}
    for img in data["images"]:
        stem = f"{img['id']:06d}"
        root = ET.parse(_voc(dataset) / "Annotations" / f"{stem}.xml").getroot()
        assert root.findtext("filename") == f"{stem}.jpg"
        assert [root.findtext(f"size/{t}") for t in ("width", "height", "depth")] == ["160", "160", "3"]
        assert cv2.imread(str(_voc(dataset) / "JPEGImages" / f"{stem}.jpg")).shape == (160, 160, 3)
        objects = root.findall("object")
        anns = by_image.get(img["id"], [])
        assert len(objects) == len(anns)
        for obj, ann in zip(objects, anns):
            x, y, w, h = ann["bbox"]
            box = [int(obj.findtext(f"bndbox/{t}")) for t in ("xmin", "ymin", "xmax", "ymax")]
            assert box == [x + 1, y + 1, x + w, y + h]
            assert obj.findtext("name") == names[ann["category_id"]]
            assert obj.findtext("pose") == "Unspecified"
            assert obj.findtext("truncated") in ("0", "1") and obj.findtext("difficult") in ("0", "1")


def test_voc_image_sets(dataset):
    main = _voc(dataset) / "ImageSets" / "Main"
    lists = {n: (main / f"{n}.txt").read_text().split() for n in ("train", "val", "trainval", "test")}
    for split in SPLITS:
        assert lists[split] == [f"{i['id']:06d}" for i in _coco(dataset, split)["images"]]
    assert lists["trainval"] == lists["train"] + lists["val"] and lists["test"] == lists["val"]
    stems = {p.stem for p in (_voc(dataset) / "JPEGImages").iterdir()}
    assert stems == set(lists["trainval"]) == {p.stem for p in (_voc(dataset) / "Annotations").iterdir()}


def test_difficult_marks_tiny_or_heavily_occluded():
    inst = sd.Instance(2, np.ones((4, 40), bool), full_area=160, truncated=False)
    assert not inst.difficult
    assert sd.Instance(2, np.ones((4, 40), bool), full_area=400, truncated=False).difficult
    assert sd.Instance(2, np.ones((5, 10), bool), full_area=50, truncated=False).difficult


# ------------------------------------------------------------------------------- classification, stats


def test_classification_layout(dataset):
    for split, per_class in (("train", SMALL.cls_train_per_class), ("val", SMALL.cls_val_per_class)):
        folder = dataset / "classification" / split
        assert sorted(p.name for p in folder.iterdir()) == sorted(sd.CATEGORY_NAMES)
        for name in sd.CATEGORY_NAMES:
            files = sorted(p.name for p in (folder / name).iterdir())
            assert files == [f"{n:05d}.png" for n in range(per_class)]
        assert cv2.imread(str(folder / "ring" / "00000.png")).shape == (SMALL.cls_image_size,) * 2 + (3,)


@pytest.mark.parametrize("seed", range(20))
def test_crop_window_is_a_square_inside_the_scene_holding_the_whole_box(seed):
    rng = np.random.default_rng(seed)
    size = 160
    w, h = (int(v) for v in rng.integers(2, 150, size=2))
    x, y = int(rng.integers(0, size - w + 1)), int(rng.integers(0, size - h + 1))
    x0, y0, side = sd.crop_window(rng, [x, y, w, h], size)
    assert 0 <= x0 and 0 <= y0 and x0 + side <= size and y0 + side <= size
    assert x0 <= x and y0 <= y and x + w <= x0 + side and y + h <= y0 + side
    assert side >= min(size, sd.MIN_CROP_SIDE) and side >= min(size, 1.3 * max(w, h))


def test_object_crop_is_the_resized_window_around_the_instance():
    image, instances = sd.scene_for_classification(np.random.default_rng(0), 160)
    assert instances and all(1 <= i.category_id <= len(sd.CATEGORIES) for i in instances)
    for k, instance in enumerate(instances):
        crop = sd.object_crop(np.random.default_rng(k), image, instance, 64)
        x0, y0, side = sd.crop_window(np.random.default_rng(k), sd.mask_bbox(instance.mask), 160)
        window = image[y0 : y0 + side, x0 : x0 + side]
        interpolation = cv2.INTER_AREA if side > 64 else cv2.INTER_LINEAR
        assert np.array_equal(crop, cv2.resize(window, (64, 64), interpolation=interpolation))


def test_dataset_stats_match_annotations(dataset):
    stats = json.loads((dataset / "dataset_stats.json").read_text())
    for split in SPLITS:
        anns = _coco(dataset, split)["annotations"]
        got = stats["detection"][split]
        assert got["images"] == getattr(SMALL, f"{split}_images") and got["instances"] == len(anns)
        assert sum(got["instances_per_category"].values()) == len(anns)
        assert sum(got["instances_per_area"].values()) == len(anns)
        per_cat = got["instances_per_category"]
        assert got["frequency_ratio_most_to_least"] == round(max(per_cat.values()) / min(per_cat.values()), 2)
    assert stats["classification"]["val"] == {n: SMALL.cls_val_per_class for n in sd.CATEGORY_NAMES}


# ------------------------------------------------------------------------------- arguments, output folder


@pytest.mark.parametrize("field, value", [("train_images", 0), ("val_images", -1), ("cls_train_per_class", 0),
                                          ("cls_val_per_class", 0), ("image_size", 95), ("seed", -1),
                                          ("cls_image_size", 15), ("cls_image_size", 161)])
def test_bad_config_is_rejected(field, value):
    with pytest.raises(ValueError, match=field):
        sd.SynthConfig(**{field: value})


def test_cli_rejects_bad_args_and_writes_nothing(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        sd.main(["--out", str(tmp_path / "d"), "--image-size", "64"])
    assert exc.value.code == 2 and "image_size" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_cli_refuses_to_replace_a_foreign_folder(tmp_path):
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "keep.txt").write_text("x")
    with pytest.raises(SystemExit):
        sd.main(["--out", str(foreign), "--train-images", "1", "--val-images", "1",
                 "--cls-train-per-class", "1", "--cls-val-per-class", "1"])
    assert [p.name for p in tmp_path.iterdir()] == ["mine"] and (foreign / "keep.txt").exists()


TINY = sd.SynthConfig(train_images=2, val_images=1, cls_train_per_class=1, cls_val_per_class=1)


def test_existing_dataset_is_replaced(tmp_path):
    out = _generate(tmp_path / "d", TINY)
    (out / "stale.txt").write_text("old run")
    _generate(out, TINY)
    assert not (out / "stale.txt").exists() and (out / sd.STATS_FILE).is_file()
    assert [p.name for p in tmp_path.iterdir()] == ["d"]


def test_failed_run_leaves_no_partial_dataset(tmp_path, monkeypatch):
    def fail(*_args):
        raise RuntimeError("disk full")

    monkeypatch.setattr(sd.writer, "write_classification_split", fail)  # where generate() looks it up
    with pytest.raises(RuntimeError, match="disk full"):
        _generate(tmp_path / "d", TINY)
    assert list(tmp_path.iterdir()) == []
