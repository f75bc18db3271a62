"""Importing this module registers every MMDetection/MMEngine extension of ``lthsteps``.

Model configs name it in ``custom_imports`` (``lthsteps.mm.load_config`` adds it).
"""
from lthsteps import hooks, keypoint_data, keypoint_head, layers  # noqa: F401
from lthsteps import metrics  # noqa: F401
