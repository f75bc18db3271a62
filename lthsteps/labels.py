"""Words for figures: models, methods, tasks and datasets as the paper names them, and which of the
paper's published numbers (``lthsteps/published.csv``) belong on a figure.

    model_label("mask_rcnn_r18_fpn")            # "Mask R-CNN R18"
    method_label("imagenet_transfers", "mask")  # "Mask transfer"
    task_label("segm")                          # "Segmentation"
    paper_selection("Mask R-CNN R18", "imagenet_ticket")   # Table 1's dense and ticket rows

Pure functions (``paper_points`` reads the shipped published numbers); used by ``lthsteps.summary``,
``lthsteps.compare`` and the arguments their rules pass (``lthsteps.figure_args``).
"""
from __future__ import annotations

import re
from typing import NamedTuple

# Model key prefix -> the paper's name of the architecture.
ARCHITECTURES = {"faster_rcnn": "Faster R-CNN", "mask_rcnn": "Mask R-CNN", "keypoint_rcnn": "Keypoint R-CNN"}
_MODEL_KEY = re.compile(r"^(?P<arch>faster_rcnn|mask_rcnn|keypoint_rcnn)_r(?P<depth>\d+)(?:_|$)")
_MODEL_LABEL = re.compile(r"^(?P<arch>Faster R-CNN|Mask R-CNN|Keypoint R-CNN) R(?P<depth>\d+)$")

# The method keys of published.csv (and of the figures' --method) -> the legend's words.
METHODS = {"direct_pruning": "Direct pruning", "imagenet_ticket": "ImageNet ticket",
           "mask_transfer": "Mask transfer", "dense": "Dense"}
# A config section (and an ImageNet transfer's mode) -> the method key.
_SECTION_METHODS = {("experiments", None): "direct_pruning", ("imagenet_transfers", "ticket"): "imagenet_ticket",
                    ("imagenet_transfers", "mask"): "mask_transfer", ("dense", None): "dense"}

# The first word of a table's metric column (``bbox mAP``, ``VOC mAP``) -> the task in words.
TASKS = {"bbox": "Detection", "segm": "Segmentation", "keypoints": "Keypoints", "voc": "VOC detection"}
# published.csv's task -> the first word of the table's metric column.
TABLE_TASKS = {"bbox": "bbox", "segm": "segm", "keypoints": "keypoints", "voc": "VOC"}
DATASETS = {"coco": "COCO", "voc": "VOC"}


def model_parts(name: str) -> tuple[str, int] | None:
    """(architecture in words, ResNet depth) of a model key such as ``mask_rcnn_r18_fpn`` or
    ``keypoint_rcnn_r50_fpn_coco`` (also of an entry named after its model, ``mask_rcnn_r18_direct_pruning``),
    or of a label such as ``Mask R-CNN R18``; None for a name it cannot read."""
    found = _MODEL_KEY.match(name) or _MODEL_LABEL.match(name)
    if not found:
        return None
    arch = found["arch"]
    return ARCHITECTURES.get(arch, arch), int(found["depth"])


def model_label(name: str) -> str:
    """``mask_rcnn_r18_fpn`` -> ``Mask R-CNN R18``; the name itself for one it cannot read."""
    parts = model_parts(name)
    return f"{parts[0]} R{parts[1]}" if parts else name


def method_key(kind: str, mode: str | None = None) -> str:
    """The method of a config entry: its section (``experiments``, ``imagenet_transfers`` with ``mode``
    ``ticket`` / ``mask``) or ``dense``; a method key (``direct_pruning``, ...) is returned as is."""
    if kind in METHODS:
        return kind
    key = _SECTION_METHODS.get((kind, mode if kind == "imagenet_transfers" else None))
    if key is None:
        raise ValueError(f"no method for section {kind!r}" + (f" with mode {mode!r}" if mode else "")
                         + f" (known: experiments, imagenet_transfers with mode ticket or mask, dense)")
    return key


def method_label(kind: str, mode: str | None = None) -> str:
    """``experiments`` -> "Direct pruning"; ``imagenet_transfers`` with mode ``ticket`` -> "ImageNet ticket",
    ``mask`` -> "Mask transfer"; ``dense`` -> "Dense"."""
    return METHODS[method_key(kind, mode)]


def task_label(task: str) -> str:
    """``bbox`` -> "Detection", ``segm`` -> "Segmentation", ``keypoints`` -> "Keypoints", ``VOC`` ->
    "VOC detection"; the task itself for one it does not know."""
    return TASKS.get(task.lower(), task)


def metric_parts(column: str) -> tuple[str, str]:
    """A table column -> (task, measure): ``bbox mAP`` -> ("bbox", "mAP"), ``VOC mAP change`` -> ("VOC",
    "mAP change")."""
    task, _, measure = column.partition(" ")
    return task, measure


def axis_label(measure: str) -> str:
    """The y axis as the paper's figures: "mAP", "AP50", or "Change in mAP (points)" for a change."""
    if measure.endswith(" change"):
        return f"Change in {measure.removesuffix(' change')} (points)"
    return measure


def dataset_label(fmt: str, synthetic: bool = False) -> str:
    """A dataset in a title: ``COCO`` / ``VOC``, or ``generated COCO-format data`` for generated data."""
    name = DATASETS.get(fmt, fmt)
    return f"generated {name}-format data" if synthetic else name


def in_sentence(label: str) -> str:
    """A label inside a sentence: "Direct pruning" -> "direct pruning"; "ImageNet ticket" stays."""
    first = label.split(" ", 1)[0]
    if len(first) > 1 and first[0].isupper() and first[1:].islower():  # not "ImageNet", "VOC", "R-CNN"
        return label[0].lower() + label[1:]
    return label


def join_models(labels: list[str]) -> str:
    """Model labels in a title: "Mask R-CNN R18 vs R50" when they share the architecture."""
    unique = list(dict.fromkeys(labels))
    parts = [model_parts(label) for label in unique]
    if len(unique) > 1 and all(parts) and len({p[0] for p in parts}) == 1:
        return f"{parts[0][0]} " + " vs ".join(f"R{p[1]}" for p in parts)
    return " vs ".join(unique)


def series_labels(series: list[tuple[str, str]]) -> list[str]:
    """Legend words for the (model label, method label) of each curve of a comparison: the methods when
    the model is shared, the models when the method is, else both; a label given twice gets its number."""
    models, methods = {m for m, _ in series}, {k for _, k in series}
    if len(models) == 1:
        labels = [method for _, method in series]
    elif len(methods) == 1:
        labels = [model for model, _ in series]
    else:
        labels = [f"{model}, {in_sentence(method)}" for model, method in series]
    return [f"{label} ({labels[:i].count(label) + 1})" if labels.count(label) > 1 else label
            for i, label in enumerate(labels)]


# ---------------------------------------------------------------- the paper's published points

_PUBLISHED_MODELS = {"Faster R-CNN": "faster_rcnn_r{depth}_c4", "Mask R-CNN": "mask_rcnn_r{depth}_fpn",
                     "Keypoint R-CNN": "keypoint_rcnn_r{depth}_fpn"}
# ResNet depth -> the table printing the dense models (Table 1: ResNet-18, Table 2: ResNet-50).
_DENSE_TABLES = {18: "table1", 50: "table2"}
# (method, depth) -> the table of the ImageNet transfers (no ResNet-18 mask-transfer table: Fig 6 only).
_TRANSFER_TABLES = {("imagenet_ticket", 18): "table1", ("imagenet_ticket", 50): "table2",
                    ("mask_transfer", 50): "table4"}


def paper_selection(model_label: str, method: str) -> list[dict]:
    """The published rows (as ``lthsteps.published.published`` filters) that belong on a figure of a
    model (its label, e.g. "Mask R-CNN R18") and a method (``direct_pruning``, ``imagenet_ticket``,
    ``mask_transfer``, ``dense``): the paper's dense model of the same table family, plus

    - ImageNet ticket: Table 1 (ResNet-18) / Table 2 (ResNet-50), every prune percent;
    - mask transfer: Table 4 (ResNet-50; the paper prints no ResNet-18 numbers, Fig 6);
    - direct pruning: Table 5's "own" 80% tickets (ResNet-18 Mask / Keypoint R-CNN) and Table 3's
      ``Base + Top`` row with its unpruned row (ResNet-18 Faster R-CNN on VOC).

    Empty for a model the paper has no numbers of (a name it cannot read, another depth)."""
    parts = model_parts(model_label)
    if parts is None:
        return []
    arch, depth = parts
    model = _PUBLISHED_MODELS[arch].format(depth=depth)
    method = method_key(method)
    if method == "direct_pruning" and arch == "Faster R-CNN" and depth == 18:
        return [dict(item="table3", model=model, method="dense", row="none"),
                dict(item="table3", model=model, method="module_pruning", row="Base + Top")]
    dense_table = _TRANSFER_TABLES.get((method, depth)) or _DENSE_TABLES.get(depth)
    if dense_table is None:
        return []
    selection = [dict(item=dense_table, model=model, method="dense")]
    if (method, depth) in _TRANSFER_TABLES:
        selection.append(dict(item=_TRANSFER_TABLES[method, depth], model=model, method=method))
    elif method == "direct_pruning" and depth == 18:
        selection.append(dict(item="table5", model=model, method="direct_pruning", row="own"))
    return selection


class PaperPoint(NamedTuple):
    """One published point of a figure: ``metric`` a table column (``bbox mAP``, ``VOC mAP``)."""

    metric: str
    network_sparsity: float
    value: float
    dataset: str
    source: str


def paper_points(model_label: str, method: str) -> list[PaperPoint]:
    """The published (network sparsity, metric) points of ``paper_selection``: every mAP / AP50 cell
    paired with the network sparsity of its row; sorted by metric and sparsity."""
    from lthsteps.published import published

    points = []
    for filters in paper_selection(model_label, method):
        rows = published(**filters)
        sparsity = {(r.row, r.prune_percent): r.value for r in rows if r.quantity == "network_sparsity"}
        for r in rows:
            if r.quantity in ("mAP", "AP50") and r.task and (r.row, r.prune_percent) in sparsity:
                points.append(PaperPoint(f"{TABLE_TASKS[r.task]} {r.quantity}", sparsity[r.row, r.prune_percent],
                                         r.value, r.dataset, r.source))
    return sorted(points, key=lambda p: (p.metric, p.network_sparsity))


def paper_legend(datasets, other_data: bool = False) -> str:
    """The legend of the paper's points: "Paper (COCO)", "Paper (VOC)", or "Paper (COCO, other data)" when
    the figure's runs are on other data (e.g. generated) than the paper's."""
    names = ", ".join(DATASETS.get(d, d) for d in dict.fromkeys(sorted(datasets)))
    inside = ", ".join(part for part in (names, "other data" if other_data else "") if part)
    return f"Paper ({inside})" if inside else "Paper"
