"""The figure arguments the rules ``summarize_experiment`` and ``compare_experiments`` pass, from the
config: labels in words (``lthsteps.labels``), the dataset in the title, and which of the paper's
published points to overlay; the titles of ablations and analyses (``study_title``).

    summary_args(config, "mask_rcnn_r18_direct_pruning")
    # --label 'Direct pruning' --method direct_pruning --model-label 'Mask R-CNN R18'
    # --dataset 'generated COCO-format data' --paper-points --other-data
    comparison_args(config, "mask_rcnn_r18_vs_r50", ["results/tables/a.csv", "results/tables/b.csv"])

Each returns one shell-quoted string for the rule's ``shell`` line.
"""
from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence

from lthsteps import labels


def entry_of(config: Mapping, name: str) -> tuple[str, Mapping]:
    """(section, entry) of an experiment (``experiments``) or an ImageNet transfer (``imagenet_transfers``)."""
    for section in ("experiments", "imagenet_transfers"):
        if name in (config.get(section) or {}):
            return section, config[section][name]
    raise KeyError(f"{name!r} is neither in `experiments` nor in `imagenet_transfers`")


def method_of(config: Mapping, name: str) -> str:
    section, entry = entry_of(config, name)
    return labels.method_key(section, entry.get("mode"))


def dataset_of(config: Mapping, model: str) -> tuple[str, bool]:
    """(the dataset in words, whether it is generated) of a model's dataset; ("", False) if unknown."""
    dataset = (config.get("models") or {}).get(model, {}).get("dataset")
    spec = (config.get("datasets") or {}).get(dataset)
    if not spec:
        return "", False
    synthetic = bool(spec.get("synthetic"))
    return labels.dataset_label(spec.get("format", dataset), synthetic), synthetic


def _quote(args: Sequence[str]) -> str:
    return " ".join(shlex.quote(str(a)) for a in args)


def summary_args(config: Mapping, name: str) -> str:
    """``--label --method --model-label --dataset`` of an experiment or ImageNet transfer's figure, and
    ``--paper-points`` (``--other-data`` on generated data) where the paper publishes points of it."""
    _, entry = entry_of(config, name)
    method = method_of(config, name)
    model = labels.model_label(entry["model"])
    dataset, synthetic = dataset_of(config, entry["model"])
    args = ["--label", labels.METHODS[method], "--method", method, "--model-label", model]
    if dataset:
        args += ["--dataset", dataset]
    if labels.paper_selection(model, method):
        args.append("--paper-points")
        if synthetic:
            args.append("--other-data")
    return _quote(args)


def comparison_args(config: Mapping, comparison: str, tables: Sequence[str]) -> str:
    """``--table LABEL=CSV`` per experiment (LABEL in words: the methods when the model is shared, the
    models when the method is), ``--title``, and ``--paper-points LABEL=METHOD:MODEL`` per curve the
    paper publishes points of (``measure: absolute`` only; ``--other-data`` on generated data)."""
    spec = config["comparisons"][comparison]
    names = spec["experiments"]
    models = [labels.model_label(entry_of(config, n)[1]["model"]) for n in names]
    methods = [method_of(config, n) for n in names]
    series = labels.series_labels([(m, labels.METHODS[k]) for m, k in zip(models, methods)])
    datasets = [dataset_of(config, entry_of(config, n)[1]["model"]) for n in names]
    change = spec.get("measure", "change") == "change"

    words = list(dict.fromkeys(labels.in_sentence(labels.METHODS[k]) for k in methods))
    title = labels.join_models(models)
    shown = list(dict.fromkeys(d for d, _ in datasets if d))
    if shown:
        title += " on " + " and ".join(shown)
    title += ": " + " vs ".join(words) + (", change in mAP" if change else "")

    args = []
    for label, table in zip(series, tables):
        args += ["--table", f"{label}={table}"]
    args += ["--title", title]
    if not change:
        paper = [f"{label}={method}:{model}" for label, method, model in zip(series, methods, models)
                 if labels.paper_selection(model, method)]
        for point in paper:
            args += ["--paper-points", point]
        if paper and any(synthetic for _, synthetic in datasets):
            args.append("--other-data")
    return _quote(args)


# What an ablation varies and what an analysis compares, in words (their tables' and figures' titles).
SETTING_WORDS = {"modules": "pruning each module", "rewind_iter": "rewind point", "layer_sparsity": "per-layer sparsity",
                 "rounds": "one-shot vs iterative", "scope": "global vs layer-wise", "early_bird": "early-bird masks",
                 "controls": "random-mask and re-initialised controls"}
ANALYSIS_WORDS = {"object_size": "AP change by object size", "category_frequency": "AP change by category frequency",
                  "category_difficulty": "easy vs hard categories", "tide": "TIDE error types",
                  "keypoint_errors": "keypoint error types", "convergence": None}  # convergence adds its own words


def study_title(config: Mapping, name: str) -> str:
    """The title of an ablation or analysis (both vary or read a direct-pruning experiment), e.g.
    "Faster R-CNN R18, direct pruning: global vs layer-wise", shell-quoted."""
    section = "ablations" if name in (config.get("ablations") or {}) else "analyses"
    entry = config[section][name]
    model = labels.model_label(config["experiments"][entry["experiment"]]["model"])
    words = SETTING_WORDS[entry["setting"]] if section == "ablations" else ANALYSIS_WORDS[entry["analysis"]]
    return shlex.quote(f"{model}, direct pruning" + (f": {words}" if words else ""))
