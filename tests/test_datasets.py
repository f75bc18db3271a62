"""Dataset preparation: VOC -> COCO conversion and the errors bad data gets."""
from __future__ import annotations

import json

import pytest

from lthsteps.datasets import DatasetError, main, prepare, validate_coco, voc_to_coco


def test_voc_conversion_matches_the_coco_copy(synthetic_root):
    coco = json.loads((synthetic_root / "coco/annotations/instances_val.json").read_text())
    classes = [c["name"] for c in sorted(coco["categories"], key=lambda c: c["id"])]
    converted = voc_to_coco(synthetic_root / "VOCdevkit/VOC2007", "val", classes)
    assert len(converted["images"]) == len(coco["images"])
    assert len(converted["annotations"]) == len(coco["annotations"])
    assert [c["name"] for c in converted["categories"]] == classes
    by_image = {}
    for ann in coco["annotations"]:
        by_image.setdefault(ann["image_id"], []).append(ann)
    stem_to_id = {img["file_name"].split(".")[0]: img["id"] for img in coco["images"]}
    for img in converted["images"]:
        boxes = sorted(a["bbox"] for a in converted["annotations"] if a["image_id"] == img["id"])
        original = sorted(a["bbox"] for a in by_image.get(stem_to_id[img["file_name"].split(".")[0]], []))
        for b, o in zip(boxes, original):
            assert b == pytest.approx(o, abs=1.0)  # VOC stores integer pixel extents


def test_prepare_writes_descriptor_with_absolute_paths(voc_descriptor):
    for split in ("train", "val"):
        spec = voc_descriptor["splits"][split]
        assert spec["ann_file"].startswith("/") and spec["img_dir"].startswith("/")
        assert spec["images"] > 0 and spec["instances"] > 0
    assert voc_descriptor["voc_ap_mode"] == "11points"


def _coco(tmp_path):
    (tmp_path / "img").mkdir()
    (tmp_path / "img/a.png").write_bytes(b"x")
    return {"images": [{"id": 1, "file_name": "a.png", "width": 4, "height": 4}],
            "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 2, 2]}],
            "categories": [{"id": 1, "name": "thing"}]}


@pytest.mark.parametrize("breaking, message", [
    (lambda c: c.pop("annotations"), "missing list"),
    (lambda c: c["annotations"][0].update(image_id=7), "unknown image 7"),
    (lambda c: c["annotations"][0].update(category_id=9), "unknown category 9"),
    (lambda c: c["annotations"][0].update(bbox=[0, 0, -1, 2]), "malformed bbox"),
    (lambda c: c["images"][0].update(file_name="gone.png"), "missing from"),
])
def test_validate_coco_names_the_problem(tmp_path, breaking, message):
    coco = _coco(tmp_path)
    validate_coco(coco, tmp_path / "img")
    breaking(coco)
    with pytest.raises(DatasetError, match=message):
        validate_coco(coco, tmp_path / "img")


def test_prepare_rejects_bad_input_and_writes_nothing(tmp_path, synthetic_root, capsys):
    out = tmp_path / "out/dataset.json"
    splits = json.dumps({"train": {"ann_file": "train.json", "img_dir": "img"},
                         "val": {"ann_file": "val.json", "img_dir": "img"}})
    assert main(["prepare", "--name", "x", "--format", "coco", "--root", str(tmp_path / "nope"),
                 "--splits", splits, "--out", str(out)]) == 2
    assert "does not exist" in capsys.readouterr().err
    (tmp_path / "train.json").write_text("{not json")
    assert main(["prepare", "--name", "x", "--format", "coco", "--root", str(tmp_path),
                 "--splits", splits, "--out", str(out)]) == 2
    assert "not valid JSON" in capsys.readouterr().err
    assert not out.exists()
    with pytest.raises(DatasetError, match="not in the dataset's classes"):
        prepare("x", "voc", synthetic_root / "VOCdevkit/VOC2007", tmp_path, {"train": {"split": "train"},
                "val": {"split": "val"}}, ["only_this"])
    assert not (tmp_path / "train.json.tmp").exists()


def test_prepare_coco_format_records_masks_and_keypoints(synthetic_root, tmp_path):
    splits = {s: {"ann_file": f"annotations/instances_{s}.json", "img_dir": s} for s in ("train", "val")}
    desc = prepare("synthetic_coco", "coco", synthetic_root / "coco", tmp_path, splits)
    assert desc["source_format"] == "coco" and desc["voc_ap_mode"] is None
    assert desc["has_masks"] and desc["has_keypoints"]
    assert desc["classes"][0] == "person" and len(desc["classes"]) == 10
    assert desc["splits"]["val"]["instances"] == len(
        json.loads((synthetic_root / "coco/annotations/instances_val.json").read_text())["annotations"])
    assert list(tmp_path.iterdir()) == []  # COCO data is read in place, nothing converted


def test_descriptor_of_an_older_version_names_the_fix(tmp_path, voc_descriptor):
    from lthsteps.datasets import load_descriptor

    old = {k: v for k, v in voc_descriptor.items() if k != "keypoint_classes"}
    (tmp_path / "dataset.json").write_text(json.dumps(old))
    with pytest.raises(DatasetError, match="no keypoint_classes.*re-run"):
        load_descriptor(tmp_path / "dataset.json")
    assert load_descriptor(voc_descriptor["path"])["name"] == "tiny_voc"
