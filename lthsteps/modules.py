"""Importing this module registers every MMDetection/MMEngine extension of ``lthsteps``.

Model configs that use one of them name it in ``custom_imports``, so that MMDetection's own tools
build them too (tests/test_model_configs.py); ``lthsteps.mm.load_config`` adds it to any other config.
"""
from lthsteps import hooks, keypoint_data, keypoint_head, layers  # noqa: F401
from lthsteps import autocast, channels_last_pool, metrics, rng_state, roi_align, val_loss  # noqa: F401
