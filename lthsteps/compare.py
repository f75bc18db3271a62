"""Compare experiments side by side: their change against their own dense model (the paper's Fig 3)
or their metrics themselves (Fig 1, Fig 6: direct pruning vs transferred tickets vs dense).

    python -m lthsteps.compare --name backbones --paper "Fig 3" [--measure change|absolute] \
        --table r18=results/tables/mask_r18.csv --table r50=results/tables/mask_r50.csv \
        --csv c.csv --markdown c.md --figure c.png

Reads the CSV tables ``lthsteps.summary`` writes (one row per prune percent, 0 = dense). ``change``:
for every task metric the tables share (``bbox mAP``, ``segm mAP``, ``keypoints mAP``, ``VOC mAP``),
the change of the ticket's mean against the dense mean in points: the paper's "change in mAP" of
ResNet-18 vs ResNet-50 tickets. ``absolute``: the means of every shared mAP and AP50 column, with the
first table's dense model as the baseline.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from lthsteps.files import atomic_write
from lthsteps.summary import METRICS

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


def figure(result: pd.DataFrame, title: str, path: Path) -> None:
    """One panel per metric against network sparsity, a line per experiment: the change in points
    (zero = own dense model), or the metric itself with the first experiment's dense model dashed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import seaborn as sns

    sns.set_theme(style="whitegrid")
    metrics = [c for c in result.columns if c not in ("experiment", "prune_percent", "network_sparsity")]
    fig, axes = plt.subplots(1, len(metrics), figsize=(5 * len(metrics), 4.3), squeeze=False)
    tickets = result[result.prune_percent > 0]
    baseline = result[result.prune_percent == 0].iloc[0]
    for metric, ax in zip(metrics, axes.flat):
        sns.lineplot(data=tickets, x="network_sparsity", y=metric, hue="experiment", marker="o", ax=ax)
        change = metric.endswith(" change")
        ax.axhline(0 if change else baseline[metric], color="k", ls="--", lw=1,
                   label=None if change else f"dense ({baseline['experiment']})")
        ax.set(xlabel="network sparsity (%)", ylabel=f"{metric} vs dense (points)" if change else metric)
        if ax.get_legend() is not None:
            ax.get_legend().remove()
    # One legend below the panels: inside them it hid the points of the sparsest tickets.
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), fontsize="small", frameon=False)
    fig.suptitle(title)
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    atomic_write(path, lambda tmp: fig.savefig(tmp, format="png", dpi=120))
    plt.close(fig)


def _table_arg(text: str) -> tuple[str, Path]:
    label, sep, path = text.partition("=")
    if not sep:
        raise argparse.ArgumentTypeError(f"expected LABEL=CSV, got {text!r}")
    return label, Path(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lthsteps.compare", description=__doc__.split("\n\n")[0])
    parser.add_argument("--name", required=True)
    parser.add_argument("--paper", default="", help="the paper's table/figure this reproduces")
    parser.add_argument("--measure", choices=("change", "absolute"), default="change",
                        help="change against each experiment's own dense model (Fig 3), or the metrics (Fig 1, 6)")
    parser.add_argument("--table", action="append", type=_table_arg, required=True, metavar="LABEL=CSV")
    parser.add_argument("--csv", required=True, type=Path)
    parser.add_argument("--markdown", required=True, type=Path)
    parser.add_argument("--figure", required=True, type=Path)
    args = parser.parse_args(argv)
    try:
        tables = {label: pd.read_csv(path) for label, path in args.table}
        result = compare(tables) if args.measure == "change" else absolute(tables)
    except (ValueError, FileNotFoundError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    title = args.name + (f" (analog of the paper's {args.paper})" if args.paper else "")
    atomic_write(args.csv, lambda tmp: result.to_csv(tmp, index=False, float_format="%.4f"))
    atomic_write(args.markdown, lambda tmp: Path(tmp).write_text(markdown(result, title)))
    figure(result, title, args.figure)
    print(markdown(result, title))
    return 0


if __name__ == "__main__":
    sys.exit(main())
