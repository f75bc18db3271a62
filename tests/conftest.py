"""Shared fixtures: one small generated dataset per test session."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
TINY_CONFIG = REPO / "config/models/faster-rcnn_r18-c4_tiny.py"
# A few iterations of the embedded model: enough to exercise every hook, seconds on CPU.
FAST = {"train_cfg.max_iters": 4, "train_dataloader.batch_size": 2, "default_hooks.logger.interval": 1,
        "default_hooks.checkpoint.interval": 4}


# The longest files first: with `--dist loadfile --no-loadscope-reorder` (pyproject.toml's addopts)
# pytest-xdist hands whole files to its workers in collection order, so the SLURM runs and the
# end-to-end fixture start at once instead of after the quick files.
LONGEST_FILES = ("test_slurm.py", "test_workflow.py")


def pytest_collection_modifyitems(items):
    rank = {name: i for i, name in enumerate(LONGEST_FILES)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: each file keeps its order


@pytest.fixture(scope="session")
def synthetic_root(tmp_path_factory) -> Path:
    from lthsteps import synthdata

    out = tmp_path_factory.mktemp("synthetic") / "data"
    assert synthdata.main(["--out", str(out), "--train-images", "16", "--val-images", "6", "--image-size", "128",
                           "--cls-train-per-class", "1", "--cls-val-per-class", "1"]) in (0, None)
    return out


@pytest.fixture(scope="session")
def voc_descriptor(synthetic_root, tmp_path_factory) -> dict:
    from lthsteps.datasets import prepare

    classes = [c["name"] for c in json.loads(
        (synthetic_root / "coco/annotations/instances_train.json").read_text())["categories"]]
    out = tmp_path_factory.mktemp("prepared")
    desc = prepare("tiny_voc", "voc", synthetic_root / "VOCdevkit/VOC2007", out,
                   {"train": {"split": "train"}, "val": {"split": "val"}}, classes, "11points")
    (out / "dataset.json").write_text(json.dumps(desc))
    return desc | {"path": str(out / "dataset.json")}
