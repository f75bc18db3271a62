"""Compare experiments side by side: their change against their own dense model (the paper's Fig 3)
or their metrics themselves (Fig 1, Fig 6: direct pruning vs transferred tickets vs dense).

    python -m lthsteps.compare --name backbones --paper "Fig 3" [--measure change|absolute] \
        --table "Mask R-CNN R18=results/tables/mask_r18.csv" --table "Mask R-CNN R50=results/tables/mask_r50.csv" \
        --title "Mask R-CNN R18 vs R50 on COCO: direct pruning" --csv c.csv --markdown c.md --figure c.png

Reads the CSV tables ``lthsteps.summary`` writes (one row per prune percent, 0 = dense); ``--table
LABEL=CSV``: LABEL is the curve's legend (and the ``experiment`` column of the output). ``change``:
for every task metric the tables share (``bbox mAP``, ``segm mAP``, ``keypoints mAP``, ``VOC mAP``),
the change of the ticket's mean against the dense mean in points: the paper's "change in mAP" of
ResNet-18 vs ResNet-50 tickets. ``absolute``: the means of every shared mAP and AP50 column, with the
dense model as the dashed baseline; there ``--paper-points LABEL=METHOD:MODEL`` overlays the paper's
published points of a curve's model and method (``lthsteps.labels.paper_selection``).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from lthsteps import labels
from lthsteps.files import atomic_write
from lthsteps.summary import METRICS, draw_paper, finish, new_figure, panel_grid, save

# The summary table's mAP column of every task: bbox, segm, keypoints and VOC mAP.
TASK_METRICS = tuple(name for name in METRICS if name.endswith(" mAP"))
# Fig 1 plots mAP and AP50 of every task.
ABSOLUTE_METRICS = tuple(name for name in METRICS if name.endswith((" mAP", " AP50")))


def changes(table: pd.DataFrame) -> pd.DataFrame:
    """Per prune percent: network sparsity and, per task metric, mean minus the dense mean."""
    dense = table[table.prune_percent == 0]
    if len(dense) != 1:
        raise ValueError("the table has no dense row (prune_percent 0): pass a table of lthsteps.summary")
    out = table[["prune_percent", "network_sparsity_mean"]].rename(
        columns={"network_sparsity_mean": "network_sparsity"})
    for metric in TASK_METRICS:
        if f"{metric}_mean" in table:
            out[f"{metric} change"] = table[f"{metric}_mean"] - dense[f"{metric}_mean"].item()
    return out.reset_index(drop=True)


def compare(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Long table: one row per (label, prune percent), the change columns the tables share."""
    parts = [changes(table).assign(experiment=label) for label, table in tables.items()]
    shared = set.intersection(*(set(p.columns) for p in parts))
    changed = [c for c in parts[0].columns if c.endswith(" change") and c in shared]
    columns = ["experiment", "prune_percent", "network_sparsity", *changed]
    return pd.concat([p[columns] for p in parts], ignore_index=True)


def absolute(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Long table: one row per (label, prune percent), the means of the mAP/AP50 columns all tables have."""
    shared = [m for m in ABSOLUTE_METRICS if all(f"{m}_mean" in t for t in tables.values())]
    if not shared:
        raise ValueError("the tables share no mAP/AP50 column: compare experiments of the same task")
    parts = []
    for label, table in tables.items():
        part = table[["prune_percent", "network_sparsity_mean"]].rename(
            columns={"network_sparsity_mean": "network_sparsity"})
        for metric in shared:
            part[metric] = table[f"{metric}_mean"]
        parts.append(part.assign(experiment=label))
    return pd.concat(parts, ignore_index=True)[["experiment", "prune_percent", "network_sparsity", *shared]]


def markdown(result: pd.DataFrame, title: str) -> str:
    shown = result.copy()
    shown["prune_percent"] = shown["prune_percent"].map(lambda p: f"{p:g}%")
    shown["network_sparsity"] = shown["network_sparsity"].map(lambda s: f"{s:.2f}%")
    for column in shown.columns:
        if column.endswith(" change"):
            shown[column] = shown[column].map(lambda v: f"{v:+.2f}")
        elif column.endswith((" mAP", " AP50")):
            shown[column] = shown[column].map(lambda v: f"{v:.2f}")
    shown.columns = [c.replace("_", " ").capitalize() if c in ("prune_percent", "network_sparsity") else c
                     for c in shown.columns]
    # disable_numparse: tabulate would turn "+1.00" back into 1.
    return f"### {title}\n\n" + shown.to_markdown(index=False, disable_numparse=True) + "\n"


def draw(result: pd.DataFrame, title: str, paper: dict | None = None, paper_label: str = "Paper"):
    """The comparison's figure (a matplotlib Figure): a panel per metric against network sparsity, a curve
    per experiment starting at its dense model at 0%: the change in points (zero = each one's own dense
    model, dashed "Dense"), or the metric itself with the dense model dashed ("Dense"; one line per
    experiment in its colour when their dense models differ). ``paper``: label -> the paper's points of
    that curve (``labels.PaperPoint``), grey diamonds edged in the curve's colour."""
    import seaborn as sns

    metrics = [c for c in result.columns if c not in ("experiment", "prune_percent", "network_sparsity")]
    fig, panels = new_figure(panel_grid(metrics))
    series = list(dict.fromkeys(result["experiment"]))
    colours = dict(zip(series, sns.color_palette(n_colors=len(series))))
    dense = result[result.prune_percent == 0].drop_duplicates("experiment").set_index("experiment")
    for metric, ax in panels.items():
        for label in series:
            part = result[result.experiment == label].sort_values("prune_percent")
            ax.plot(part["network_sparsity"], part[metric], marker="o", label=label, color=colours[label], zorder=3)
        if metric.endswith(" change"):
            ax.axhline(0, color="k", ls="--", lw=1, label="Dense", zorder=2)
        elif len(dense) and dense[metric].max() - dense[metric].min() < 1e-9:
            ax.axhline(dense[metric].iloc[0], color="k", ls="--", lw=1, label="Dense", zorder=2)
        else:
            for label, value in dense[metric].items():
                ax.axhline(value, color=colours[label], ls="--", lw=1, label=f"Dense ({label})", zorder=2)
        for label, points in (paper or {}).items():
            draw_paper(ax, [p for p in points if p.metric == metric], paper_label, edge=colours.get(label, "0.3"))
    finish(fig, title, paper_label)
    return fig


def figure(result: pd.DataFrame, title: str, path: Path, **kwargs) -> None:
    """``draw`` saved as a PNG."""
    save(draw(result, title, **kwargs), path)


def _table_arg(text: str) -> tuple[str, Path]:
    label, sep, path = text.partition("=")
    if not sep:
        raise argparse.ArgumentTypeError(f"expected LABEL=CSV, got {text!r}")
    return label, Path(path)


def _paper_arg(text: str) -> tuple[str, str, str]:
    label, sep, rest = text.partition("=")
    method, colon, model = rest.partition(":")
    if not (sep and colon) or method not in labels.METHODS:
        raise argparse.ArgumentTypeError(f"expected LABEL=METHOD:MODEL (METHOD one of {', '.join(labels.METHODS)}), "
                                         f"got {text!r}")
    return label, method, model


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lthsteps.compare", description=__doc__.split("\n\n")[0])
    parser.add_argument("--name", required=True)
    parser.add_argument("--paper", default="", help="the paper's table/figure this reproduces")
    parser.add_argument("--measure", choices=("change", "absolute"), default="change",
                        help="change against each experiment's own dense model (Fig 3), or the metrics (Fig 1, 6)")
    parser.add_argument("--table", action="append", type=_table_arg, required=True, metavar="LABEL=CSV",
                        help="a summary table and its curve's legend")
    parser.add_argument("--title", help="what the figure shows, in words (default: --name)")
    parser.add_argument("--paper-points", action="append", type=_paper_arg, default=[], metavar="LABEL=METHOD:MODEL",
                        help="overlay the paper's published points of the curve LABEL: its METHOD (direct_pruning, "
                             "imagenet_ticket, mask_transfer) and MODEL in words ('Mask R-CNN R18'); absolute only")
    parser.add_argument("--no-paper-points", action="store_true", help="no overlay, whatever --paper-points says")
    parser.add_argument("--other-data", action="store_true",
                        help="the runs are not on the paper's data: its points say so in the legend")
    parser.add_argument("--csv", required=True, type=Path)
    parser.add_argument("--markdown", required=True, type=Path)
    parser.add_argument("--figure", required=True, type=Path)
    args = parser.parse_args(argv)
    names = [label for label, _ in args.table]
    unknown = [label for label, _, _ in args.paper_points if label not in names]
    if unknown:
        parser.error(f"--paper-points for {', '.join(map(repr, unknown))}: not a --table label ({', '.join(names)})")
    try:
        tables = {label: pd.read_csv(path) for label, path in args.table}
        result = compare(tables) if args.measure == "change" else absolute(tables)
    except (ValueError, FileNotFoundError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    paper = {}
    if args.paper_points and not args.no_paper_points:
        if args.measure == "change":
            print("note: the paper publishes no changes; --paper-points are drawn with --measure absolute only",
                  file=sys.stderr)
        else:
            paper = {label: labels.paper_points(model, method) for label, method, model in args.paper_points}
    datasets = {p.dataset for points in paper.values() for p in points}
    title = args.name + (f" (analog of the paper's {args.paper})" if args.paper else "")
    atomic_write(args.csv, lambda tmp: result.to_csv(tmp, index=False, float_format="%.4f"))
    atomic_write(args.markdown, lambda tmp: Path(tmp).write_text(markdown(result, title)))
    heading = (args.title or args.name) + (f" (analog of the paper's {args.paper})" if args.paper else "")
    figure(result, heading, args.figure, paper=paper, paper_label=labels.paper_legend(datasets, args.other_data))
    print(markdown(result, title))
    return 0


if __name__ == "__main__":
    sys.exit(main())
