"""Tables and figures of an experiment: metrics of dense baselines and tickets over seeds.

    python -m lthsteps.summary --experiment direct_pruning --paper "Fig 2a" \
        --run 0:0:results/runs/m/seed0/dense --run 80:0:results/runs/m/seed0/s/p80/round1 ... \
        --csv t.csv --markdown t.md --figure f.png

``--run PRUNE:SEED:DIR`` names a run folder holding ``metrics.json`` and ``train.json``
(PRUNE 0 = the dense baseline). The CSV has one row per prune percent (mean and std over seeds
of every number, in percent); the Markdown table shows them as ``mean ± std``.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pandas as pd

from lthsteps.files import atomic_write

# Table column -> (metrics.json section, key); a column appears when its section is not null.
METRICS = {
    "bbox mAP": ("bbox", "mAP"), "bbox AP50": ("bbox", "AP50"), "bbox AP75": ("bbox", "AP75"),
    "segm mAP": ("segm", "mAP"), "segm AP50": ("segm", "AP50"),
    "keypoints mAP": ("keypoints", "mAP"), "keypoints AP50": ("keypoints", "AP50"),
    "VOC mAP": ("voc", "mAP"),
}
TASKS = ("bbox", "segm", "keypoints")


def run_record(prune: float, seed: int, run_dir: Path) -> dict:
    """One row: the run's metrics (in percent) and its measured network sparsity."""
    metrics = json.loads((run_dir / "metrics.json").read_text())
    train = json.loads((run_dir / "train.json").read_text())
    row = {"prune_percent": prune, "seed": seed,
           "network_sparsity": 100 * train.get("network", {}).get("sparsity", 0.0)}
    for name, (task, key) in METRICS.items():
        if metrics.get(task):
            row[name] = 100 * metrics[task][key]
    return row


def summarize(records: pd.DataFrame) -> pd.DataFrame:
    """Mean and std over seeds per prune percent (dense first)."""
    values = [c for c in records.columns if c not in ("prune_percent", "seed")]
    grouped = records.groupby("prune_percent")
    table = grouped[values].agg(["mean", "std"])
    table.columns = [f"{c}_{stat}" for c, stat in table.columns]
    table.insert(0, "seeds", grouped.size())
    return table.reset_index().sort_values("prune_percent")


def markdown(summary: pd.DataFrame, title: str) -> str:
    """The paper-style table: prune %, network sparsity, metrics as mean ± std."""
    out = pd.DataFrame({"Prune %": summary["prune_percent"].map(lambda p: f"{p:g}%"),
                        "Network sparsity": summary["network_sparsity_mean"].map(lambda s: f"{s:.2f}%")})
    for name in METRICS:
        if f"{name}_mean" in summary:
            out[name] = [f"{m:.2f} ± {s:.2f}" if pd.notna(s) else f"{m:.2f}"
                         for m, s in zip(summary[f"{name}_mean"], summary[f"{name}_std"])]
    out["Seeds"] = summary["seeds"].values
    return f"### {title}\n\n" + out.to_markdown(index=False) + "\n"


def figure_metrics(records: pd.DataFrame) -> list[list[str]]:
    """Panels of the figure, rows x columns: VOC mAP alone for VOC data (the paper's Fig 2), else
    mAP over AP50 for every task the runs have (its Fig 1)."""
    if "VOC mAP" in records:
        return [["VOC mAP"]]
    tasks = [t for t in TASKS if f"{t} mAP" in records]
    return [[f"{t} {m}" for t in tasks] for m in ("mAP", "AP50")]


def figure(records: pd.DataFrame, title: str, path: Path) -> None:
    """Metrics against network sparsity for tickets (band = ±1 std over seeds), dense as a line."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import seaborn as sns

    sns.set_theme(style="whitegrid")
    panels = figure_metrics(records)
    rows, cols = len(panels), len(panels[0])
    fig, axes = plt.subplots(rows, cols, figsize=(5 * cols, 3.6 * rows), squeeze=False)
    dense, tickets = records[records.prune_percent == 0], records[records.prune_percent > 0]
    for metric, ax in zip((m for row in panels for m in row), axes.flat):
        sns.lineplot(data=tickets, x="network_sparsity", y=metric, marker="o", errorbar="sd", ax=ax, label="ticket")
        mean = dense[metric].mean()
        ax.axhline(mean, color="k", ls="--", label=f"dense ({mean:.2f})")
        if len(dense) > 1:
            ax.axhspan(mean - dense[metric].std(), mean + dense[metric].std(), color="k", alpha=0.1)
        ax.set(xlabel="network sparsity (%)", ylabel=f"{metric} (%)")
        ax.legend()
    fig.suptitle(title)
    fig.tight_layout()
    atomic_write(path, lambda tmp: fig.savefig(tmp, format="png", dpi=120))
    plt.close(fig)


def _run_arg(text: str) -> tuple[float, int, Path]:
    prune, seed, run_dir = text.split(":", 2)
    return float(prune), int(seed), Path(run_dir)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lthsteps.summary", description=__doc__.split("\n\n")[0])
    parser.add_argument("--experiment", required=True)
    parser.add_argument("--paper", default="", help="the paper's table/figure this reproduces")
    parser.add_argument("--run", action="append", type=_run_arg, required=True, metavar="PRUNE:SEED:DIR")
    parser.add_argument("--csv", required=True, type=Path)
    parser.add_argument("--markdown", required=True, type=Path)
    parser.add_argument("--figure", required=True, type=Path)
    args = parser.parse_args(argv)
    records = pd.DataFrame([run_record(*run) for run in args.run])
    summary = summarize(records)
    title = f"{args.experiment}" + (f" (analog of the paper's {args.paper})" if args.paper else "")
    atomic_write(args.csv, lambda tmp: summary.to_csv(tmp, index=False, float_format="%.4f"))
    atomic_write(args.markdown, lambda tmp: Path(tmp).write_text(markdown(summary, title)))
    figure(records, title, args.figure)
    print(markdown(summary, title))
    return 0


if __name__ == "__main__":
    sys.exit(main())
