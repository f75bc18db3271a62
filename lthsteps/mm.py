"""The MMDetection side: configs, models and the registry scope, in one place."""
from __future__ import annotations

import os

from mmengine.config import Config


def load_config(path: str | os.PathLike, options: dict | None = None) -> Config:
    """An MMDetection config with this package's modules importable from it."""
    cfg = Config.fromfile(str(path))
    if options:
        cfg.merge_from_dict(options)
    custom = cfg.get("custom_imports", {"imports": [], "allow_failed_imports": False})
    if "lthsteps.modules" not in custom["imports"]:
        custom["imports"] = [*custom["imports"], "lthsteps.modules"]
    cfg.custom_imports = custom
    cfg.default_scope = cfg.get("default_scope", "mmdet")
    return cfg


def build_model(cfg: Config):
    """The detector of ``cfg``, on CPU, with its init_cfg applied (as MMEngine's Runner would)."""
    from mmdet.registry import MODELS
    from mmdet.utils import register_all_modules

    import lthsteps.modules  # noqa: F401 - registers this package's modules

    register_all_modules(init_default_scope=True)
    model = MODELS.build(cfg.model)
    model.init_weights()
    return model
