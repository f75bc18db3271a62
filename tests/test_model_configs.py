"""Every model config builds with stock MMDetection alone, as its tools/train.py would: the config's
own ``custom_imports`` must register the lthsteps modules it names (nothing of lthsteps is imported
first). Models and transforms only are built, on CPU, without weights."""
from __future__ import annotations

import subprocess
import sys

import pytest

from conftest import REPO

pytest.importorskip("mmdet")

CONFIGS = sorted(p.name for p in (REPO / "config/models").glob("*.py"))

# Run in a fresh interpreter: a test process has imported lthsteps (and registered its modules) long
# before. Configs that declare the same custom_imports share one: each of them would import exactly
# those modules on its own too, so a config that lacks one it needs still fails; ~5 s per interpreter.
BUILD = r"""
import sys

from mmengine.config import Config
from mmengine.registry import init_default_scope

assert not any(name.split(".")[0] == "lthsteps" for name in sys.modules), "lthsteps imported before the config"
for path in sys.argv[1:]:
    print("building", path, flush=True)
    cfg = Config.fromfile(path)  # imports the config's custom_imports, as mmdet's tools/train.py does

    from mmdet.registry import DATASETS, MODELS, TRANSFORMS
    from mmdet.utils import register_all_modules

    register_all_modules(init_default_scope=False)
    init_default_scope("mmdet")
    model = MODELS.build(cfg.model)
    from mmengine.registry import HOOKS

    for hook in cfg.get("custom_hooks", []):
        assert HOOKS.get(hook["type"]) is not None, f"hook type {hook['type']} is not registered"
    for loader in ("train_dataloader", "test_dataloader"):
        dataset = cfg[loader]["dataset"]
        while "dataset" in dataset:  # wrappers such as RepeatDataset
            dataset = dataset["dataset"]
        assert DATASETS.get(dataset["type"]) is not None, f"dataset type {dataset['type']} is not registered"
        for transform in dataset["pipeline"]:
            TRANSFORMS.build(transform)
    print("built", path, type(model).__name__, sum(p.numel() for p in model.parameters()), flush=True)
"""


def _by_custom_imports() -> dict[str, list[str]]:
    from mmengine.config import Config

    groups: dict[str, list[str]] = {}
    for name in CONFIGS:
        cfg = Config.fromfile(str(REPO / "config/models" / name), import_custom_modules=False)
        imports = cfg.get("custom_imports", {}).get("imports", [])
        groups.setdefault(",".join(sorted(imports)) or "mmdet-only", []).append(f"config/models/{name}")
    return groups


GROUPS = _by_custom_imports()


def test_every_model_config_is_built_and_lthsteps_types_are_declared():
    assert len(CONFIGS) == 11 and sum(map(len, GROUPS.values())) == len(CONFIGS)
    # The configs with lthsteps' keypoint head/dataset/transforms, and the embedded ones (their
    # AutocastHook; the C4 one's WidthResLayer).
    assert sorted(GROUPS["lthsteps.modules"]) == [
        "config/models/faster-rcnn_r18-c4_tiny.py", "config/models/keypoint-rcnn_r18-fpn_coco.py",
        "config/models/keypoint-rcnn_r18-fpn_tiny.py", "config/models/keypoint-rcnn_r50-fpn_coco.py",
        "config/models/keypoint-rcnn_r50-fpn_tiny.py", "config/models/mask-rcnn_r18-fpn_tiny.py",
        "config/models/mask-rcnn_r50-fpn_tiny.py"]


@pytest.mark.parametrize("imports", sorted(GROUPS))
def test_configs_build_with_stock_mmdetection(imports):
    configs = GROUPS[imports]
    result = subprocess.run([sys.executable, "-c", BUILD, *configs], cwd=REPO, capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stdout[-1000:] + result.stderr[-3000:]
    built = [line.split()[1] for line in result.stdout.splitlines() if line.startswith("built ")]
    assert built == configs
