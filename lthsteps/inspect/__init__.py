"""Inspecting the artifacts of the workflow: masks, weights files, run folders, whole results trees.

``python -m lthsteps.inspect PATH [--json] [--layers]`` says what a mask file, a weights file, a run
folder or a results tree holds and checks every weights file that has a mask to be exactly zero where
the mask prunes; ``python -m lthsteps.inspect diff A B`` compares two masks or two weights files
(docs/inspect.md). Only torch and numpy are used: no model is built.

* :mod:`~lthsteps.inspect.layout`: which run folder a path is (by :mod:`lthsteps.paths`) and its mask;
* :mod:`~lthsteps.inspect.core`: the summaries (dataclasses) of a mask file and a weights file;
* :mod:`~lthsteps.inspect.runs`: those of a run folder and of a results tree;
* :mod:`~lthsteps.inspect.diff`: two masks or two weights files compared;
* :mod:`~lthsteps.inspect.text`: their human-readable text; :mod:`~lthsteps.inspect.cli`: the command.
"""
from lthsteps.inspect.core import InspectError, MaskSummary, WeightsSummary, summarize_mask, summarize_weights
from lthsteps.inspect.runs import RunSummary, TreeSummary, inspect_path, summarize_run, summarize_tree
from lthsteps.inspect.diff import MaskDiff, WeightsDiff, diff_masks, diff_paths, diff_weights

__all__ = ["InspectError", "MaskDiff", "MaskSummary", "RunSummary", "TreeSummary", "WeightsDiff", "WeightsSummary",
           "diff_masks", "diff_paths", "diff_weights", "inspect_path", "summarize_mask", "summarize_run",
           "summarize_tree", "summarize_weights"]
