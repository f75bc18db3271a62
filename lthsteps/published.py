"""The paper's published numbers (Girish et al., CVPR 2021): every numeric cell of Tables 1-5 and the
numbers its text and figure captions state, one row per number, from ``lthsteps/published.csv``.

    python -m lthsteps.published --item table3                  # a Markdown table of the rows
    python -m lthsteps.published --item table1 --quantity mAP --format csv

    from lthsteps.published import published, value
    published(item="table1", quantity="mAP")                     # list[Published]
    value(item="table3", row="Base + RPN", quantity="param_percent")   # 31.64

Columns (``COLUMNS``; docs/published-numbers.md says how the cells were transcribed):

- ``item``: ``table1`` ... ``table5``; ``fig1`` ... ``fig10`` for a number a figure caption states;
  ``text`` for a number the body text states (the quote is in ``source``).
- ``model``: the project's model name (``faster_rcnn_r18_c4``, ``mask_rcnn_r50_fpn``, ...); empty where
  the paper's statement covers several models.
- ``dataset``: ``coco`` or ``voc``; ``task``: ``bbox``, ``segm``, ``keypoints`` or ``voc`` (VOC
  detection); empty for task-independent numbers (network sparsity, parameter shares).
- ``method``: ``dense``, ``imagenet_ticket`` (Tables 1, 2), ``mask_transfer`` (Table 4),
  ``direct_pruning``, ``task_transfer`` (Table 5), ``module_pruning`` (Table 3); empty for
  structural numbers of the text (parameter shares).
- ``row``: the table row where ``prune_percent`` does not identify it (Table 3: the ticked modules,
  ``Base + RPN``, ``none``; Table 5: ``own``, ``keypoints -> det/seg``, ``det/seg -> keypoints``); in
  the text's rows the module (``Base + Top``, ``backbone``), object size or category a number is about.
- ``prune_percent``: percent of the selected weights pruned (0 for dense); empty where not applicable.
- ``quantity``: ``network_sparsity``, ``mAP``, ``AP50``, ``param_percent`` (percent of the network's
  parameters in the modules of ``row``), or one of the text's quantities in ``QUANTITIES``.
- ``value``, ``std``: as printed (percent points; ``std`` empty where the paper gives none).
- ``source``: where the paper prints it: table, row, column as the paper labels them, or the quote.
"""
from __future__ import annotations

import argparse
import csv
import io
import sys
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

COLUMNS = ("item", "model", "dataset", "task", "method", "row", "prune_percent", "quantity", "value", "std",
           "source")
# What identifies a number: no two rows share these.
KEY = ("item", "model", "dataset", "task", "method", "row", "prune_percent", "quantity")
FILTERS = COLUMNS[:-1]  # every column but source

ITEMS = frozenset([f"table{i}" for i in range(1, 6)] + [f"fig{i}" for i in range(1, 11)] + ["text"])
MODELS = frozenset({"faster_rcnn_r18_c4", "faster_rcnn_r50_c4", "mask_rcnn_r18_fpn", "mask_rcnn_r50_fpn",
                    "keypoint_rcnn_r18_fpn", "keypoint_rcnn_r50_fpn"})
DATASETS = frozenset({"coco", "voc"})
TASKS = frozenset({"bbox", "segm", "keypoints", "voc"})
METHODS = frozenset({"dense", "imagenet_ticket", "mask_transfer", "direct_pruning", "task_transfer",
                     "module_pruning"})
QUANTITIES = {
    "network_sparsity": "percent of all the network's parameters pruned",
    "mAP": "COCO AP (IoU .50:.95) or VOC mAP, percent",
    "AP50": "COCO AP at IoU .50, percent",
    "param_percent": "percent of the network's parameters in the modules named by row",
    "winning_ticket_sparsity": "the sparsity up to which the paper finds tickets as good as the dense network",
    "remaining_weight_percent": "percent of the weights a ticket keeps that the paper calls as good as dense",
    "breaking_point_sparsity": "the sparsity after which mAP drops (Fig 3)",
    "peak_sparsity": "the sparsity up to which mAP increases (Fig 4)",
    "map_drop_percent": "relative drop of mAP from the dense network, percent of the dense mAP",
    "map_gain_percent": "relative gain of mAP over the dense network, percent of the dense mAP",
    "mask_iou": "IoU of an early-bird mask with the final mask (a fraction, not percent)",
    "early_bird_training_percent": "percent of training after which early-bird tickets are as good (Fig 2f)",
    "late_reset_drop_iteration": "the rewind iteration after which tickets drop sharply (Fig 2b)",
    "layerwise_gap_sparsity": "the sparsity above which layer-wise pruning falls behind global (Fig 2e)",
}
# Empty allowed: text and caption rows may cover several models, tasks or methods.
ALLOWED = {"item": ITEMS, "model": MODELS | {""}, "dataset": DATASETS | {""}, "task": TASKS | {""},
           "method": METHODS | {""}, "quantity": frozenset(QUANTITIES)}
NUMERIC = ("prune_percent", "value", "std")
OPTIONAL_NUMERIC = ("prune_percent", "std")


class PublishedError(ValueError):
    """A malformed published-numbers file; the message names the file and line."""


@dataclass(frozen=True)
class Published:
    """One published number: the CSV's columns, numbers as floats (``None`` where empty)."""

    item: str
    model: str
    dataset: str
    task: str
    method: str
    row: str
    prune_percent: float | None
    quantity: str
    value: float
    std: float | None
    source: str
    # The CSV row as written (numbers as the paper prints them, e.g. "49.40"); not part of equality.
    text: tuple[str, ...] = field(default=(), compare=False, repr=False)

    @property
    def key(self) -> tuple:
        return tuple(getattr(self, c) for c in KEY)


def _number(text: str, column: str, where: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise PublishedError(f"{where}: column {column!r} is not a number: {text!r}") from None


def parse(text: str, name: str = "published.csv") -> tuple[Published, ...]:
    """The rows of a published-numbers CSV, validated; ``PublishedError`` names the file and line."""
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None or tuple(header) != COLUMNS:
        raise PublishedError(f"{name} line 1: the header must be {','.join(COLUMNS)}, not {header}")
    rows: list[Published] = []
    seen: dict[tuple, int] = {}
    for cells in reader:
        where = f"{name} line {reader.line_num}"
        if not cells:
            continue
        if len(cells) != len(COLUMNS):
            raise PublishedError(f"{where}: {len(cells)} fields, expected {len(COLUMNS)} ({','.join(COLUMNS)})")
        raw = dict(zip(COLUMNS, cells))
        for column, allowed in ALLOWED.items():
            if raw[column] not in allowed:
                known = ", ".join(sorted(a for a in allowed if a)) + (" or empty" if "" in allowed else "")
                raise PublishedError(f"{where}: unknown {column} {raw[column]!r} (known: {known})")
        if raw["item"].startswith("table") and not all(raw[c] for c in ("model", "dataset", "method")):
            raise PublishedError(f"{where}: a table cell needs a model, a dataset and a method")
        if not raw["source"].strip():
            raise PublishedError(f"{where}: empty source (say where the paper prints the number)")
        numbers = {c: None if c in OPTIONAL_NUMERIC and raw[c] == "" else _number(raw[c], c, where)
                   for c in NUMERIC}
        row = Published(**{**raw, **numbers}, text=tuple(cells))
        if row.key in seen:
            raise PublishedError(f"{where}: duplicate of line {seen[row.key]} "
                                 f"({', '.join(f'{c}={raw[c]!r}' for c in KEY)})")
        seen[row.key] = reader.line_num
        rows.append(row)
    return tuple(rows)


def read(path) -> tuple[Published, ...]:
    """``parse`` of a file on disk (any path, e.g. a test's broken copy)."""
    from pathlib import Path

    path = Path(path)
    return parse(path.read_text(encoding="utf-8"), str(path))


@cache
def rows() -> tuple[Published, ...]:
    """Every row of the shipped ``lthsteps/published.csv`` (read once)."""
    return parse(resources.files("lthsteps").joinpath("published.csv").read_text(encoding="utf-8"),
                 "lthsteps/published.csv")


def _matches(row: Published, column: str, wanted) -> bool:
    have = getattr(row, column)
    if column in NUMERIC:
        if wanted is None or wanted == "":
            return have is None
        return have is not None and have == float(wanted)
    return have == ("" if wanted is None else str(wanted))


def _check_filters(filters: dict) -> None:
    unknown = sorted(set(filters) - set(FILTERS))
    if unknown:
        raise TypeError(f"unknown filter column(s) {', '.join(unknown)}; columns: {', '.join(FILTERS)}")


def published(**filters) -> list[Published]:
    """The rows whose columns equal the filters, in file order, e.g. ``published(item="table1",
    quantity="mAP")``. Numbers compare as numbers (``prune_percent=80`` matches "80"); ``None`` or ""
    matches an empty cell."""
    _check_filters(filters)
    return [r for r in rows() if all(_matches(r, c, w) for c, w in filters.items())]


def value(**filters) -> float:
    """The value of the one row matching the filters; ``LookupError`` if none or several match."""
    found = published(**filters)
    if len(found) != 1:
        named = ", ".join(f"{c}={w!r}" for c, w in filters.items()) or "no filters"
        detail = "" if not found else ": " + "; ".join(r.source for r in found[:5]) + (
            " ..." if len(found) > 5 else "")
        raise LookupError(f"{len(found)} published numbers match {named}, expected exactly one{detail}")
    return found[0].value


def markdown(selected: list[Published]) -> str:
    """The rows as a Markdown table, numbers as printed."""
    lines = ["| " + " | ".join(COLUMNS) + " |",
             "|" + "|".join("---:" if c in NUMERIC else "---" for c in COLUMNS) + "|"]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in r.text) + " |" for r in selected]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lthsteps.published", description=__doc__.split("\n\n")[0],
                                     epilog="Filters select rows whose column equals the value "
                                            "(an empty string selects empty cells).")
    for column in FILTERS:
        parser.add_argument(f"--{column.replace('_', '-')}", dest=column, metavar=column.upper(),
                            help=f"rows whose {column} equals {column.upper()}")
    parser.add_argument("--format", choices=("md", "csv"), default="md", help="output format (default: md)")
    args = parser.parse_args(argv)
    filters = {c: getattr(args, c) for c in FILTERS if getattr(args, c) is not None}
    try:
        selected = published(**filters)
    except ValueError as err:  # a non-numeric --prune-percent / --value / --std
        parser.error(str(err))
    if not selected:
        print("no published number matches " + (", ".join(f"{c}={w!r}" for c, w in filters.items())
                                                or "no filters"), file=sys.stderr)
        return 1
    if args.format == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(COLUMNS)
        writer.writerows(r.text for r in selected)
        print(out.getvalue(), end="")
    else:
        print(markdown(selected))
    return 0


if __name__ == "__main__":
    sys.exit(main())
