"""Tables and figures of an experiment: metrics of dense baselines and tickets over seeds.

    python -m lthsteps.summary --experiment mask_rcnn_r18_direct_pruning --paper "Fig 1" \
        --run 0:0:results/runs/m/seed0/dense --run 80:0:results/runs/m/seed0/s/p80/round1 ... \
        --label "Direct pruning" --method direct_pruning --model-label "Mask R-CNN R18" \
        --dataset COCO --paper-points --csv t.csv --markdown t.md --figure f.png

``--run PRUNE:SEED:DIR`` names a run folder holding ``metrics.json`` and ``train.json``
(PRUNE 0 = the dense baseline). The CSV has one row per prune percent (mean and std over seeds
of every number, in percent); the Markdown table shows them as ``mean ± std``.

The figure (as the paper's Fig 1 and Fig 2a): per task a panel of mAP (and AP50) against network
sparsity, the curve (``--label``, band = ±1 std over seeds) starting at the dense model at 0%, the dense
model also as a dashed line ("Dense"); with ``--paper-points`` the paper's published points of the
same model and method (``lthsteps.labels.paper_selection``) in grey, "Paper (COCO)" or, with
``--other-data`` (runs on other, e.g. generated, data), "Paper (COCO, other data)".
"""
from __future__ import annotations

import argparse
import json
import sys
import textwrap
from pathlib import Path

import pandas as pd

from lthsteps import labels
from lthsteps.files import atomic_write

# Table column -> (metrics.json section, key); a column appears when its section is not null.
METRICS = {
    "bbox mAP": ("bbox", "mAP"), "bbox AP50": ("bbox", "AP50"), "bbox AP75": ("bbox", "AP75"),
    "segm mAP": ("segm", "mAP"), "segm AP50": ("segm", "AP50"),
    "keypoints mAP": ("keypoints", "mAP"), "keypoints AP50": ("keypoints", "AP50"),
    "VOC mAP": ("voc", "mAP"),
}
TASKS = ("bbox", "segm", "keypoints")
# Panel order: tasks left to right, measures top to bottom.
PANEL_TASKS = (*TASKS, "VOC")
PANEL_MEASURES = ("mAP", "AP50", "mAP change", "AP50 change")
# The paper's published points: grey diamonds on a dotted grey line.
PAPER_STYLE = dict(color="0.55", ls=":", lw=1.2, marker="D", ms=6, mfc="0.7", mew=1.3, zorder=4)


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


def panel_grid(columns) -> list[list[str | None]]:
    """Panels (rows x columns) of metric columns (``bbox mAP``, ``segm AP50``, ``VOC mAP change``): VOC
    mAP alone for VOC data (the paper's Fig 2a), else a column per task and a row per measure, mAP
    over AP50 (its Fig 1); None where a task lacks a measure."""
    columns = list(columns)
    voc = [c for c in columns if labels.metric_parts(c)[0] == "VOC"]
    shown = voc or columns
    tasks = [t for t in PANEL_TASKS if any(labels.metric_parts(c)[0] == t for c in shown)]
    measures = [m for m in PANEL_MEASURES if any(labels.metric_parts(c)[1] == m for c in shown)]
    return [[f"{t} {m}" if f"{t} {m}" in shown else None for t in tasks] for m in measures]


def figure_metrics(records: pd.DataFrame) -> list[list[str]]:
    """Panels of an experiment's figure, rows x columns: VOC mAP alone for VOC data (the paper's Fig 2),
    else mAP over AP50 for every task the runs have (its Fig 1)."""
    return panel_grid(c for c in METRICS if c in records and labels.metric_parts(c)[1] in ("mAP", "AP50"))


def new_figure(grid: list[list[str | None]]):
    """A figure with a panel per metric of the grid (titled by task, axes labelled as the paper's):
    (figure, {metric: axes})."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import seaborn as sns

    sns.set_theme(style="whitegrid")
    rows, cols = len(grid), len(grid[0])
    fig, axes = plt.subplots(rows, cols, figsize=(max(5.0 * cols, 7.5), 3.6 * rows + 0.9), squeeze=False)
    panels = {}
    for metric, ax in zip((m for row in grid for m in row), axes.flat):
        if metric is None:
            ax.set_visible(False)
            continue
        task, measure = labels.metric_parts(metric)
        ax.set(title=labels.task_label(task), xlabel="Network sparsity (%)", ylabel=labels.axis_label(measure))
        panels[metric] = ax
    return fig, panels


def draw_paper(ax, points, label: str, edge: str = "0.3") -> None:
    """The paper's published points of one curve on a panel (``labels.PaperPoint``s of its metric)."""
    if points:
        ax.plot([p.network_sparsity for p in points], [p.value for p in points], label=label, mec=edge,
                **PAPER_STYLE)


def wrap_title(title: str, width: int) -> str:
    """The title in lines of at most ``width`` characters, broken first after "MODEL on DATA:" and before
    "(analog of the paper's ...)", then between words."""
    head, colon, rest = title.partition(": ")
    what, analog, paper = (rest if colon else title).partition(" (analog of")
    segments = [head + ":" if colon else None, what, "(analog of" + paper if analog else None]
    lines: list[str] = []
    for segment in filter(None, segments):
        if lines and len(lines[-1]) + 1 + len(segment) <= width:
            lines[-1] += " " + segment
        else:
            lines += textwrap.wrap(segment, width, break_long_words=False, break_on_hyphens=False) or [segment]
    return "\n".join(lines)


def finish(fig, title: str, paper_label: str | None = None) -> None:
    """The title (wrapped to the figure's width) and one legend below the panels, each label once (the
    paper's with a neutral grey marker)."""
    import matplotlib as mpl
    from matplotlib.font_manager import FontProperties
    from matplotlib.lines import Line2D

    handles: dict[str, object] = {}
    for ax in fig.axes:
        for handle, text in zip(*ax.get_legend_handles_labels()):
            handles.setdefault(text, handle)
    if paper_label in handles:
        handles[paper_label] = Line2D([], [], label=paper_label, mec="0.3", **PAPER_STYLE)
    width, height = fig.get_size_inches()
    # As many legend columns as fit the width (an entry: its text at ~0.55 em a character, plus the marker).
    em = FontProperties(size=mpl.rcParams["legend.fontsize"]).get_size_in_points() / 72
    entries = [1.1 + 0.55 * em * len(text) for text in handles]
    ncol = max((n for n in range(1, len(entries) + 1)
                if sum(sorted(entries, reverse=True)[:n]) <= 0.95 * width), default=1)
    legend_rows = -(-len(handles) // ncol)
    fig.legend(list(handles.values()), list(handles), loc="lower center", ncol=ncol, frameon=False)
    size = FontProperties(size=mpl.rcParams["figure.titlesize"]).get_size_in_points()
    fig.suptitle(wrap_title(title, int(0.95 * width * 72 / (0.58 * size))))  # ~0.58 em a character
    fig.tight_layout(rect=(0, min(0.3, (0.12 + 0.28 * legend_rows) / height), 1, 1))


def draw(records: pd.DataFrame, title: str, label: str = "Tickets", paper=(), paper_label: str = "Paper"):
    """The figure of an experiment (a matplotlib Figure): per panel the curve of ``label`` over the prune
    percents (mean, band ±1 std over seeds) from the dense model at its measured 0% network sparsity, the
    dense mean as a dashed "Dense" line, and the paper's ``paper`` points (``labels.PaperPoint``)."""
    summary = summarize(records)
    fig, panels = new_figure(figure_metrics(records))
    x = summary["network_sparsity_mean"]
    dense = summary[summary.prune_percent == 0]
    for metric, ax in panels.items():
        mean, std = summary[f"{metric}_mean"], summary[f"{metric}_std"]
        (line,) = ax.plot(x, mean, marker="o", label=label, zorder=3)
        if std.notna().any():
            ax.fill_between(x, mean - std.fillna(0), mean + std.fillna(0), color=line.get_color(), alpha=0.2, lw=0)
        if len(dense):
            ax.axhline(dense[f"{metric}_mean"].item(), color="k", ls="--", lw=1, label="Dense", zorder=2)
        draw_paper(ax, [p for p in paper if p.metric == metric], paper_label)
    finish(fig, title, paper_label)
    return fig


def save(fig, path: Path) -> None:
    import matplotlib.pyplot as plt

    atomic_write(path, lambda tmp: fig.savefig(tmp, format="png", dpi=120))
    plt.close(fig)


def figure(records: pd.DataFrame, title: str, path: Path, **kwargs) -> None:
    """``draw`` saved as a PNG."""
    save(draw(records, title, **kwargs), path)


def figure_title(subject: str, what: str, dataset: str = "", paper: str = "") -> str:
    """The figure's title, e.g. "Mask R-CNN R18 on COCO: direct pruning (analog of the paper's Fig 1)"."""
    return (subject + (f" on {dataset}" if dataset else "") + f": {labels.in_sentence(what)}"
            + (f" (analog of the paper's {paper})" if paper else ""))


def _run_arg(text: str) -> tuple[float, int, Path]:
    prune, seed, run_dir = text.split(":", 2)
    return float(prune), int(seed), Path(run_dir)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lthsteps.summary", description=__doc__.split("\n\n")[0])
    parser.add_argument("--experiment", required=True)
    parser.add_argument("--paper", default="", help="the paper's table/figure this reproduces")
    parser.add_argument("--run", action="append", type=_run_arg, required=True, metavar="PRUNE:SEED:DIR")
    parser.add_argument("--method", choices=[m for m in labels.METHODS if m != "dense"],
                        help="how the tickets were found: the curve's default label and which of the paper's "
                             "points fit")
    parser.add_argument("--label", help="the curve's legend (default: the method in words, else 'Tickets')")
    parser.add_argument("--model-label", help="the model in words, e.g. 'Mask R-CNN R18' (default: read from "
                                              "--experiment, else the experiment's name)")
    parser.add_argument("--dataset", default="", help="the data in words for the title, e.g. COCO")
    parser.add_argument("--paper-points", action=argparse.BooleanOptionalAction, default=False,
                        help="overlay the paper's published points of this model and --method")
    parser.add_argument("--other-data", action="store_true",
                        help="the runs are not on the paper's data: its points say so in the legend")
    parser.add_argument("--csv", required=True, type=Path)
    parser.add_argument("--markdown", required=True, type=Path)
    parser.add_argument("--figure", required=True, type=Path)
    args = parser.parse_args(argv)
    if args.paper_points and not args.method:
        parser.error("--paper-points needs --method (which of the paper's points fit)")
    label = args.label or (labels.METHODS[args.method] if args.method else "Tickets")
    model = args.model_label or labels.model_label(args.experiment)
    points = labels.paper_points(model, args.method) if args.paper_points else []
    records = pd.DataFrame([run_record(*run) for run in args.run])
    summary = summarize(records)
    title = f"{args.experiment}" + (f" (analog of the paper's {args.paper})" if args.paper else "")
    atomic_write(args.csv, lambda tmp: summary.to_csv(tmp, index=False, float_format="%.4f"))
    atomic_write(args.markdown, lambda tmp: Path(tmp).write_text(markdown(summary, title)))
    figure(records, figure_title(model, label, args.dataset, args.paper), args.figure, label=label, paper=points,
           paper_label=labels.paper_legend({p.dataset for p in points}, args.other_data))
    print(markdown(summary, title))
    return 0


if __name__ == "__main__":
    sys.exit(main())
