"""The job plan of the §4.4 analyses (config `analyses`, docs/analyses.md): which of an experiment's
runs each analysis reads, with which task and prune percents, and the per-run files beyond the
metrics it reads: the error files the tide / keypoint_errors analyses first write
(``lthsteps.paths.tide_errors`` / ``keypoint_errors``), the validation losses the training jobs
measured (``lthsteps.paths.val_loss``) for convergence.
The rules (``workflow/rules/analysis.smk``) and the start-up checks use it; rule `all` asks for every
analysis's table and figure through ``lthsteps.plan.targets``.
"""
from __future__ import annotations

from collections.abc import Mapping

from lthsteps import paths
from lthsteps.plan import results_dir, table_runs

ANALYSES = ("object_size", "category_frequency", "category_difficulty", "tide", "keypoint_errors", "convergence")
ANALYSIS_TASKS = {"object_size": ("bbox", "segm", "keypoints"), "category_frequency": ("bbox", "segm", "keypoints"),
                  "category_difficulty": ("bbox", "segm"), "tide": ("bbox", "segm"), "keypoint_errors": ("keypoints",),
                  "convergence": ()}  # convergence: every loss term of the model, no task chosen
# The keys an analysis takes besides paper, analysis and experiment.
ANALYSIS_KEYS = {"object_size": ("task", "prune_percents"), "category_frequency": ("task", "prune_percents"),
                 "category_difficulty": ("task", "prune_percents", "top"), "tide": ("task", "prune_percent"),
                 "keypoint_errors": ("prune_percent",), "convergence": ("prune_percent",)}
# The analyses that compare the dense model with one ticket, given by `prune_percent` (required).
ONE_TICKET = ("tide", "keypoint_errors", "convergence")


def analysis_task(config: Mapping, name: str) -> str | None:
    """The task an analysis reads: configured, else bbox (keypoints for keypoint_errors); None for an
    object_size analysis without `task` (every task its model has, as Fig 4) and for convergence
    (every loss term)."""
    a = config["analyses"][name]
    if a["analysis"] == "keypoint_errors":
        return "keypoints"
    return a.get("task") or (None if a["analysis"] in ("object_size", "convergence") else "bbox")


def analysis_prunes(config: Mapping, name: str) -> list[float]:
    """The ticket prune percents an analysis compares with the dense model: `prune_percent` (tide,
    keypoint_errors, convergence), else `prune_percents`, by default the experiment's two highest
    (category_frequency, Fig 5a's 80 and 90%) or all of them (object_size, category_difficulty)."""
    a = config["analyses"][name]
    if "prune_percent" in a:
        return [a["prune_percent"]]
    if a.get("prune_percents"):
        return list(a["prune_percents"])
    have = sorted(config["experiments"][a["experiment"]]["prune_percents"])
    return have[-2:] if a["analysis"] == "category_frequency" else have


def analysis_runs(config: Mapping, name: str) -> list[tuple[float, int, str]]:
    """(prune %, seed, run folder) an analysis reads: the experiment's dense run per seed (prune 0),
    then its final round at each of the analysis's prune percents and seeds."""
    experiment = config["analyses"][name]["experiment"]
    prunes = set(analysis_prunes(config, name))
    return [(p, s, folder) for p, s, folder in table_runs(config, experiment) if p == 0 or p in prunes]


def analysis_run_files(config: Mapping, name: str) -> list[str]:
    """The per-run files beyond the metrics a tide / keypoint_errors / convergence analysis reads
    (none for the others)."""
    analysis, folders = config["analyses"][name]["analysis"], [f for *_, f in analysis_runs(config, name)]
    if analysis == "tide":
        return [paths.tide_errors(f, analysis_task(config, name)) for f in folders]
    if analysis == "keypoint_errors":
        return [p for f in folders for p in (paths.keypoint_errors(f), paths.keypoint_pr(f))]
    if analysis == "convergence":
        return [paths.val_loss(f) for f in folders]
    return []


def dataset_ann_file(config: Mapping, dataset: str, split: str) -> str:
    """The COCO annotation file of a dataset's split, as ``lthsteps.datasets.prepare`` names it in the
    descriptor (not resolved): a COCO dataset's own ``ann_file`` under its root (the generated data's
    under ``data/synthetic``), a VOC-layout one's conversion beside the descriptor."""
    ds, results = config["datasets"][dataset], results_dir(config)
    if ds["format"] == "voc":
        return paths.converted_annotations(results, dataset, split)
    root = f"{paths.synthetic_data(results)}/{ds['root']}" if ds.get("synthetic") else ds["root"]
    return f"{root}/{ds['splits'][split]['ann_file']}"
