"""The MMDetection side: configs, models and the registry scope, in one place."""
from __future__ import annotations

import os

from mmengine.config import Config


def load_config(path: str | os.PathLike, options: dict | None = None) -> Config:
    """An MMDetection config with this package's modules importable from it, printed and dumped as
    plain Python: the Runner prints and dumps its config several times per job, and yapf's formatting
    of it took about a second of a job (`format_python_code=False` of `Config.fromfile` is dropped by
    MMEngine 0.10's non-lazy path, so the config is rebuilt with it)."""
    loaded = Config.fromfile(str(path))
    cfg = Config(loaded.to_dict(), cfg_text=loaded.text, filename=loaded.filename, format_python_code=False)
    if options:
        cfg.merge_from_dict(options)
    custom = cfg.get("custom_imports", {"imports": [], "allow_failed_imports": False})
    if "lthsteps.modules" not in custom["imports"]:
        custom["imports"] = [*custom["imports"], "lthsteps.modules"]
    cfg.custom_imports = custom
    cfg.default_scope = cfg.get("default_scope", "mmdet")
    return cfg


def build_model(cfg: Config, init_weights: bool = False):
    """The detector of ``cfg`` on CPU; ``init_weights`` applies its init_cfg as MMEngine's Runner would
    (which may load pretrained files), otherwise the layers keep PyTorch's default init."""
    from mmdet.registry import MODELS
    from mmdet.utils import register_all_modules

    import lthsteps.modules  # noqa: F401 - registers this package's modules

    register_all_modules(init_default_scope=True)
    model = MODELS.build(cfg.model)
    if init_weights:
        model.init_weights()
    return model


def _innermost_dataset(dataset_cfg: dict) -> dict:
    # Wrappers such as RepeatDataset / ClassBalancedDataset keep the real dataset under `dataset`.
    while "dataset" in dataset_cfg:
        dataset_cfg = dataset_cfg["dataset"]
    return dataset_cfg


def _set_num_classes(node, num_classes: int) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "num_classes":
                node[key] = num_classes
            else:
                _set_num_classes(value, num_classes)
    elif isinstance(node, list):
        for item in node:
            _set_num_classes(item, num_classes)


def model_tasks(cfg: Config) -> tuple[str, ...]:
    """COCO iou types the detector of ``cfg`` predicts: bbox, plus segm / keypoints for its heads."""
    roi_head = cfg.model.get("roi_head") or {}
    return ("bbox",) + (("segm",) if roi_head.get("mask_head") else ()) + (
        ("keypoints",) if roi_head.get("keypoint_head") else ())


def keypoint_offset(descriptor: dict) -> float:
    """0.5 where the dataset's keypoints are integer pixel indices (real COCO), else 0."""
    return 0.5 if descriptor.get("keypoint_pixel_indices") else 0.0


def bind_dataset(cfg: Config, descriptor: dict) -> Config:
    """Point the config's train/test dataloaders at a prepared dataset and size the heads for it.

    ``descriptor`` is a dataset descriptor (see ``lthsteps.datasets``). The RoI heads'
    ``num_classes`` follows the dataset's classes — for a keypoint model only the categories that
    carry keypoints (COCO: person); the RPN (class-agnostic) is left alone. A model whose heads need
    annotations the dataset lacks (instance masks, keypoints) is rejected here, before training.
    """
    tasks = model_tasks(cfg)
    for task, key, what in (("segm", "has_masks", "instance masks"), ("keypoints", "has_keypoints", "keypoints")):
        if task in tasks and not descriptor.get(key):
            raise ValueError(f"the model has a {task} head but dataset '{descriptor['name']}' has no {what} in its "
                             f"train annotations: bind it to a COCO-format dataset with {what} (e.g. COCO "
                             f"{'person_keypoints' if task == 'keypoints' else 'instances'}_*.json), or use a "
                             "model without that head")
    if "keypoints" in tasks:
        head = cfg.model["roi_head"]["keypoint_head"].get("num_keypoints", 17)
        if head != descriptor["num_keypoints"]:
            raise ValueError(f"the keypoint head predicts {head} keypoints but dataset '{descriptor['name']}' "
                             f"annotates {descriptor['num_keypoints']}: set "
                             "model.roi_head.keypoint_head.num_keypoints to match")
    classes = tuple(descriptor["keypoint_classes"] if "keypoints" in tasks else descriptor["classes"])
    for loader, split in (("train_dataloader", "train"), ("test_dataloader", "val")):
        dataset = _innermost_dataset(cfg[loader]["dataset"])
        spec = descriptor["splits"][split]
        dataset.update(data_root="", ann_file=spec["ann_file"], data_prefix=dict(img=spec["img_dir"] + "/"),
                       metainfo=dict(classes=classes))
        if "keypoints" in tasks:
            dataset.update(keypoint_offset=keypoint_offset(descriptor))
    if "ann_file" in cfg.get("test_evaluator", {}):
        cfg.test_evaluator["ann_file"] = descriptor["splits"]["val"]["ann_file"]
    _set_num_classes(cfg.model["roi_head"], len(classes))
    return cfg
