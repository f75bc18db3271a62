"""The paper's Tables 1-5 in its own layout, assembled from this run's result tables, with the
published value and the difference beside each cell.

    python -m lthsteps.paper_tables table1 \\
        --source mask_rcnn_r18_ticket_transfer=results/tables/mask_rcnn_r18_ticket_transfer.csv \\
        --source faster_rcnn_r18_ticket_transfer=results/tables/faster_rcnn_r18_ticket_transfer.csv \\
        --note "embedded data" --csv paper_table1.csv --markdown paper_table1.md

Each ``--source NAME=CSV`` is the table of a config entry whose ``paper`` names the table
(``lthsteps.plan.paper_table_sources`` finds them): an ImageNet transfer's per-prune table for Tables
1, 2 and 4 (placed in the column group its tasks say: a keypoint model in "COCO Keypoint", a model
with VOC mAP in "VOC Detection", one with masks in "COCO Detection" and "COCO Segmentation"), the
``modules`` ablation's table for Table 3, a task transfer's table for Table 5. The published numbers
are ``lthsteps.published``'s; the paper prints a Mask R-CNN's network sparsity under Detection and
Segmentation, and Table 5's once per target task, so those numbers fill two cells each.

Outputs (written only when every source is readable and fits its table; else one ``error:`` line,
exit 2):

* ``--csv``: one row per cell of the paper's table: ``row`` and ``column`` as the paper labels them,
  ``quantity``, ``paper`` and ``paper_std`` (as printed), ``ours`` and ``ours_std`` (mean and std over
  seeds; empty where this config has no result for the cell), ``seeds``, ``difference`` (ours -
  paper, points), ``entry`` (the config entry the cell comes from) and ``paper_source``;
* ``--markdown``: ``### Table N ...`` and the table in the paper's layout, each cell
  ``ours (paper, ±difference)``, ``—`` where this config has no result; ``--note`` under it (the
  workflow says there when the data are not the paper's).

No library lays out a paper's table from result tables; this module is the project's own.
"""
from __future__ import annotations

import argparse
import math
import sys
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from lthsteps.files import atomic_write
from lthsteps.published import Published, published

TITLES = {
    "table1": "Table 1: ImageNet tickets, ResNet-18",
    "table2": "Table 2: ImageNet tickets, ResNet-50",
    "table3": "Table 3: pruning each module of the Faster R-CNN R18 (VOC)",
    "table4": "Table 4: ImageNet masks (mask transfer), ResNet-50",
    "table5": "Table 5: ticket transfer across tasks (80% pruned)",
}
QUANTITY_LABEL = {"network_sparsity": "Network sparsity", "mAP": "mAP", "AP50": "AP50", "param_percent": "Param %"}
TASK_COLUMN = {"bbox": "bbox", "segm": "segm", "keypoints": "keypoints", "voc": "VOC"}  # our tables' prefixes
GROUP_LABEL = {"bbox": "COCO Detection", "segm": "COCO Segmentation", "keypoints": "COCO Keypoint",
               "voc": "VOC Detection"}
MODULES = (("backbone_base", "Base"), ("backbone_top", "Top"), ("rpn", "RPN"), ("box_head", "Box, Cls Head"))
TARGET = {"bbox": "Det", "segm": "Seg", "keypoints": "Keypoint"}
SOURCE = {"own": None, "keypoints -> det/seg": "Keypoint", "det/seg -> keypoints": "Det/Seg"}


class PaperTableError(ValueError):
    """A source that does not fit its table; the message names it and the fix."""


@dataclass(frozen=True)
class Cell:
    """One cell of the paper's table: where it sits and what the paper prints there."""

    row: str
    column: str
    paper: Published
    lookup: dict  # how to find our number: the source kind's keys


def family(model: str) -> str:
    """The task family of a published model name: the column group of Tables 1, 2, 4."""
    return "keypoints" if model.startswith("keypoint") else "voc" if model.startswith("faster") else "detseg"


def cells(table: str) -> list[Cell]:
    """The paper's cells of ``table`` in its order, each published number in every place it is printed."""
    out = []
    for p in published(item=table):
        quantity = QUANTITY_LABEL[p.quantity]
        if table in ("table1", "table2", "table4"):
            row = f"{p.prune_percent:g}%"
            tasks = [p.task] if p.task else (["bbox", "segm"] if family(p.model) == "detseg"
                                             else ["keypoints"] if family(p.model) == "keypoints" else ["voc"])
            out += [Cell(row, f"{GROUP_LABEL[t]}: {quantity}", p,
                         {"family": family(p.model), "prune": p.prune_percent, "task": p.task or None,
                          "quantity": p.quantity}) for t in tasks]
        elif table == "table3":
            out.append(Cell(p.row, quantity, p, {"modules": p.row, "prune": p.prune_percent, "quantity": p.quantity}))
        else:  # table5
            targets = [TARGET[p.task]] if p.task else (["Det", "Seg"] if family(p.model) == "detseg" else ["Keypoint"])
            for target in targets:
                source = SOURCE[p.row] or ("Det/Seg" if target in ("Det", "Seg") else "Keypoint")
                out.append(Cell(f"{target} ← {source}", quantity, p,
                                {"target": target, "source": source, "quantity": p.quantity}))
    return out


def table_family(frame: pd.DataFrame, name: str) -> str:
    """The column group an ImageNet transfer's table fills, from the tasks its columns hold."""
    if "keypoints mAP_mean" in frame:
        return "keypoints"
    if "VOC mAP_mean" in frame:
        return "voc"
    if "segm mAP_mean" in frame:
        return "detseg"
    raise PaperTableError(f"{name}: its table has no keypoints, VOC or segm mAP column: Tables 1, 2 and 4 take "
                          "the tables of ImageNet transfers into Mask R-CNN, Keypoint R-CNN or VOC detectors")


def _pick(frame: pd.DataFrame, column: str) -> tuple[float, float | None, int] | None:
    if frame.empty or f"{column}_mean" not in frame and column not in frame:
        return None
    row = frame.iloc[0]
    mean = row[f"{column}_mean"] if f"{column}_mean" in frame else row[column]
    std = row.get(f"{column}_std")
    return float(mean), (None if std is None or pd.isna(std) else float(std)), int(row.get("seeds", 1))


def _column(quantity: str, task: str | None) -> str:
    return "network_sparsity" if quantity == "network_sparsity" else (
        "param_percent" if quantity == "param_percent" else f"{TASK_COLUMN[task]} {quantity}")


def ours(table: str, cell: Cell, sources: dict[str, pd.DataFrame]) -> tuple[str, tuple | None]:
    """(entry, (mean, std, seeds)) of our result for a cell; (entry or "", None) where there is none."""
    look = cell.lookup
    if table in ("table1", "table2", "table4"):
        for name, frame in sources.items():
            if table_family(frame, name) == look["family"]:
                rows = frame[(frame.prune_percent - look["prune"]).abs() < 1e-6]
                return name, _pick(rows, _column(look["quantity"], look["task"]))
        return "", None
    if table == "table3":
        for name, frame in sources.items():
            labels = frame.apply(lambda r: " + ".join(label for key, label in MODULES if bool(r[key])) or "none",
                                 axis=1)
            rows = frame[(labels == look["modules"]) & ((frame.prune_percent - look["prune"]).abs() < 1e-6)]
            if not rows.empty:
                return name, _pick(rows, _column(look["quantity"], "voc"))
        return "", None
    for name, frame in sources.items():
        rows = frame[(frame.target_task == look["target"]) & (frame.source_task == look["source"])]
        if not rows.empty:
            return name, _pick(rows, look["quantity"])
    return "", None


def check_sources(table: str, sources: dict[str, pd.DataFrame]) -> None:
    """Each source fits the table's kind; Tables 1, 2, 4 take one source per column group."""
    if table not in TITLES:
        raise PaperTableError(f"unknown table {table!r}: one of {', '.join(TITLES)}")
    need = {"table3": ("backbone_base", "backbone_top", "rpn", "box_head", "param_percent"),
            "table5": ("target_task", "source_task", "mAP_mean")}.get(table, ("prune_percent", "network_sparsity_mean"))
    for name, frame in sources.items():
        missing = [c for c in need if c not in frame]
        if missing:
            raise PaperTableError(f"{name}: its table lacks {', '.join(missing)}: it is not the kind of table "
                                  f"{TITLES[table].split(':')[0]} is made from (docs/paper-tables.md)")
    if table in ("table1", "table2", "table4"):
        seen: dict[str, str] = {}
        for name, frame in sources.items():
            group = table_family(frame, name)
            if group in seen:
                raise PaperTableError(f"{seen[group]} and {name} both fill the {group} columns of {table}: name "
                                      f"the table in the `paper` entry of one of them only")
            seen[group] = name


def assemble(table: str, sources: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per cell of the paper's table, ours beside the paper's."""
    check_sources(table, sources)
    rows = []
    for cell in cells(table):
        entry, found = ours(table, cell, sources)
        mean, std, seeds = found if found else (math.nan, math.nan, 0)
        rows.append({"row": cell.row, "column": cell.column, "quantity": cell.paper.quantity,
                     "paper": cell.paper.value, "paper_std": cell.paper.std, "ours": mean,
                     "ours_std": std if std is not None else math.nan, "seeds": seeds,
                     "difference": mean - cell.paper.value, "entry": entry, "paper_source": cell.paper.source})
    return pd.DataFrame(rows)


def _cell_text(row) -> str:
    if pd.isna(row.ours):
        return f"— ({row.paper:g})"
    return f"{row.ours:.2f} ({row.paper:g}, {row.difference:+.2f})"


def _order(labels: list[str], first: list[str]) -> list[str]:
    """``labels`` in the order of the prefixes ``first`` (stable within one prefix)."""
    return sorted(labels, key=lambda label: next((i for i, f in enumerate(first) if label.startswith(f)), len(first)))


def markdown(frame: pd.DataFrame, table: str, note: str = "") -> str:
    """The paper's layout: its rows and columns in its order, each cell "ours (paper, difference)"."""
    rows = list(dict.fromkeys(frame["row"]))
    columns = list(dict.fromkeys(frame["column"]))
    if table in ("table1", "table2", "table4"):  # column groups as printed: Detection, Segmentation, Keypoint, VOC
        columns = sorted(columns, key=lambda c: (list(GROUP_LABEL.values()).index(c.split(": ")[0]),
                                                 list(QUANTITY_LABEL.values()).index(c.split(": ")[1])))
    elif table == "table5":  # target tasks as printed: Det, Seg, Keypoint; own source first for Det and Seg
        rows = _order(rows, ["Det ← Det/Seg", "Det ←", "Seg ← Det/Seg", "Seg ←", "Keypoint ← Det/Seg", "Keypoint"])
    grid = frame.assign(text=frame.apply(_cell_text, axis=1)).pivot(index="row", columns="column", values="text")
    grid = grid.reindex(index=rows, columns=columns).fillna("")
    head = "Prune %" if table in ("table1", "table2", "table4") else "Modules pruned" if table == "table3" \
        else "Target ← source"
    grid.index.name = head
    text = (f"### {TITLES[table]}\n\nEach cell: this run (the paper's value, this run minus the paper); — : this "
            f"config has no result for the cell.\n\n" + grid.reset_index().to_markdown(index=False) + "\n")
    return text + (f"\n{note}\n" if note else "")


def _source(text: str) -> tuple[str, Path]:
    name, sep, path = text.partition("=")
    if not sep or not name or not path:
        raise PaperTableError(f"--source {text!r} is not NAME=CSV")
    if not Path(path).is_file():
        raise PaperTableError(f"--source {name}: {path} does not exist: make that entry's table first")
    return name, Path(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lthsteps.paper_tables", description=__doc__.split("\n\n")[0])
    parser.add_argument("table", help=", ".join(TITLES))
    parser.add_argument("--source", action="append", default=[], metavar="NAME=CSV",
                        help="a config entry's result table that fills part of the paper's table")
    parser.add_argument("--note", default="", help="a line under the Markdown table (e.g. whose data these are)")
    parser.add_argument("--csv", required=True, type=Path)
    parser.add_argument("--markdown", required=True, type=Path)
    args = parser.parse_args(argv)
    try:
        sources = {name: pd.read_csv(path) for name, path in map(_source, args.source)}
        frame = assemble(args.table, sources)
    except PaperTableError as err:
        print("error: " + " ".join(str(err).split()), file=sys.stderr)
        return 2
    text = markdown(frame, args.table, args.note)
    atomic_write(args.csv, lambda tmp: frame.to_csv(tmp, index=False, float_format="%.4f"))
    atomic_write(args.markdown, lambda tmp: Path(tmp).write_text(text))
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
