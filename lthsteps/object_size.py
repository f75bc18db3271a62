"""Percentage change of AP per object size against the dense model (the paper's Fig 4, §4.4).

    python -m lthsteps.object_size --name "Mask R-CNN R18" --paper "Fig 4" \\
        --dense 0:results/runs/m/seed0/dense --run 80:0:results/runs/m/seed0/s/p80/round1 ... \\
        [--tasks bbox,segm] --csv t.csv --markdown t.md --figure f.png

The paper (Fig 4) splits COCO objects by area into small (< 32^2), medium and large (> 96^2) and
plots, for detection, segmentation and keypoints, ``100 * (AP_ticket - AP_dense) / AP_dense`` of
each size against network sparsity. It found AP rising up to about 20% sparsity and falling after,
with small objects losing most in percent (over 17% for the 90%-sparse tickets in detection and
segmentation; keypoints bucking that trend).

``--dense SEED:DIR`` names the dense run of a seed, ``--run PRUNE:SEED:DIR`` a ticket (DIR holds
``metrics.json`` and ``train.json``). A ticket is compared with the dense run of its own seed; the
buckets are the ``AP_small/AP_medium/AP_large`` a task has in metrics.json (COCO has no small
bucket for keypoints). A bucket whose AP is -1 in every run (COCO: no ground truth of that size)
is left out and named under the table.

Outputs: the CSV has one row per task, bucket and prune percent with network sparsity, dense AP,
ticket AP (in percent) and the % change, each as mean and std over seeds; the Markdown table shows
them as ``mean ± std``. The figure has one panel per task: % change against network sparsity, one
line per bucket (band = ±1 std over seeds), the dense model as the zero line; below zero the
ticket is worse than the dense model on objects of that size.

A bucket whose dense AP is 0 in some seed (a detector that finds none of those objects, e.g. at
smoke-test scale) has no defined percentage change: its APs stay in the table, its change is empty
(``-`` in Markdown, NaN in the CSV) in every seed, it is named under the table and not plotted.

Input errors print one ``error: ...`` line and return 2 before anything is written: a run whose
seed has no dense run, a task a run lacks.
"""
from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from lthsteps.ablations import common, plots

TASKS = {"bbox": "detection", "segm": "segmentation", "keypoints": "keypoints"}
BUCKETS = ("small", "medium", "large")
COLUMNS = ["network_sparsity", "dense_ap", "ticket_ap", "change"]


@dataclass(frozen=True)
class Run:
    """One ``--run PRUNE:SEED:DIR`` with its measured sparsity (percent) and metrics."""
    prune: float
    seed: int
    dir: Path
    sparsity: float = math.nan
    metrics: dict | None = None


def parse_run(text: str) -> Run:
    parts = text.split(":", 2)  # a DIR may hold ':' itself
    if len(parts) != 3 or not parts[2]:
        raise ValueError(f"--run {text!r} is not PRUNE:SEED:DIR: give e.g. --run 80:0:results/runs/m/seed0/p80")
    try:
        prune = float(parts[0])
    except ValueError:
        raise ValueError(f"--run {text!r}: PRUNE {parts[0]!r} is not a number: give a prune percent, e.g. 80") from None
    if not 0 < prune < 100:
        raise ValueError(f"--run {text!r}: PRUNE {prune:g} is not a percent in (0, 100): give e.g. 80")
    return Run(prune, common._int(parts[1], "SEED", f"--run {text!r}"), Path(parts[2]))


def load(dense: list[tuple[int, Path]], runs: list[Run]) -> tuple[dict[int, Run], list[Run]]:
    """The dense run per seed and the tickets, with their metrics; every ticket's seed needs a dense run."""
    if len({seed for seed, _ in dense}) != len(dense):
        raise ValueError("a seed is given twice in --dense: give one dense run folder per seed")
    if not runs:
        raise ValueError("no --run given: give at least one ticket as --run PRUNE:SEED:DIR")
    common.check_runs([common.Run("ticket", r.prune, r.seed, r.dir) for r in runs])  # each once, same seeds
    lacking = sorted({r.seed for r in runs} - {seed for seed, _ in dense})
    if lacking:
        raise ValueError(f"runs of seed {lacking[0]} have no dense run to compare with: add --dense {lacking[0]}:DIR")
    base = {seed: Run(0.0, seed, d, 0.0, common.read_json(d / "metrics.json")) for seed, d in dense}
    out = []
    for run in runs:
        train = common.read_json(run.dir / "train.json")
        sparsity = train.get("network", {}).get("sparsity")
        if sparsity is None:
            raise ValueError(f"{run.dir}/train.json has no network.sparsity: rerun the training rule that writes it")
        out.append(Run(run.prune, run.seed, run.dir, 100 * sparsity, common.read_json(run.dir / "metrics.json")))
    return base, out


def section(metrics: dict, task: str, where: Path) -> dict:
    """The ``task`` section of a metrics.json, with an error naming the fix when it is null."""
    if not metrics.get(task):
        raise ValueError(f"{where}/metrics.json has no {task} results ({task} is null): choose a task the runs "
                         f"have ({', '.join(t for t in TASKS if metrics.get(t)) or 'none'})")
    return metrics[task]


def pairs(dense: dict[int, Run], runs: list[Run],
          values: Callable[[dict, Path], dict[tuple, float]], keys: tuple[str, ...]) -> pd.DataFrame:
    """One row per run and key of ``values(metrics, dir)``: dense and ticket AP in percent (NaN when
    COCO gives -1 or NaN, i.e. no ground truth); ``change`` is left to the caller."""
    rows = []
    for run in runs:
        base, ticket = values(dense[run.seed].metrics, dense[run.seed].dir), values(run.metrics, run.dir)
        for key, d in base.items():
            t = ticket.get(key, math.nan)
            rows.append({**dict(zip(keys, key)), "prune_percent": run.prune, "seed": run.seed,
                         "network_sparsity": run.sparsity, "dense_ap": _ap(d), "ticket_ap": _ap(t)})
    return pd.DataFrame(rows)


def _ap(value) -> float:
    return math.nan if value is None or pd.isna(value) or value < 0 else 100 * value


def records(dense: dict[int, Run], runs: list[Run], tasks: Sequence[str] = ()) -> tuple[pd.DataFrame, list[str]]:
    """Per run, task and bucket: AP and % change; and the buckets left out (no ground truth)."""
    for task in tasks:
        if task not in TASKS:
            raise ValueError(f"--tasks: unknown task {task!r}: give a comma list of {', '.join(TASKS)}")
    tasks = list(tasks) or [t for t in TASKS if all(r.metrics.get(t) for r in [*dense.values(), *runs])]
    if not tasks:
        raise ValueError("the runs have no task in common (bbox, segm or keypoints): compare runs of one model")

    def values(metrics: dict, where: Path) -> dict[tuple, float]:
        return {(t, b): section(metrics, t, where)[f"AP_{b}"] for t in tasks for b in BUCKETS
                if f"AP_{b}" in section(metrics, t, where)}

    frame = pairs(dense, runs, values, ("task", "bucket"))
    absent, keep = [], []
    for (task, bucket), cell in frame.groupby(["task", "bucket"], sort=False):
        missing = cell[["dense_ap", "ticket_ap"]].isna()
        if missing.all().all():
            absent.append(f"{task} {bucket}")
        elif missing.any().any():
            raise ValueError(f"{task} AP_{bucket} is -1/NaN (no ground truth) in some runs only: compare runs "
                             "evaluated on the same data")
        else:
            keep.append(cell)
    if not keep:
        raise ValueError("no size bucket has ground truth in these runs: evaluate on data with objects")
    frame = pd.concat(keep)
    frame["change"] = 100 * (frame.ticket_ap - frame.dense_ap) / frame.dense_ap
    # A dense AP of 0 in any seed: the percentage change is undefined for that task and size in every
    # seed (a mean over the other seeds would pass for all of them); the APs stay in the table.
    zero = frame.groupby(["task", "bucket"]).dense_ap.transform(lambda ap: (ap == 0).any())
    frame.loc[zero, "change"] = math.nan
    return frame, absent


def table(frame: pd.DataFrame) -> pd.DataFrame:
    """Mean and std over seeds per task, bucket and prune percent (tasks and buckets in paper order)."""
    out = common.summarize(frame, ["task", "bucket", "prune_percent"], COLUMNS)
    order = {k: i for i, k in enumerate([*TASKS, *BUCKETS])}
    return out.sort_values(["task", "bucket", "prune_percent"], key=lambda c: c.map(order) if c.name != "prune_percent"
                           else c, ignore_index=True)


def markdown(summary: pd.DataFrame, title: str, absent: Sequence[str] = ()) -> str:
    out = pd.DataFrame({"Task": summary.task.map(TASKS), "Size": summary.bucket,
                        "Prune %": summary.prune_percent.map(common.prune_label),
                        "Network sparsity": summary.network_sparsity_mean.map(lambda s: f"{s:.2f}%")})
    for col, head in (("dense_ap", "Dense AP"), ("ticket_ap", "Ticket AP"), ("change", "% change")):
        out[head] = [common.pm(m, s) for m, s in zip(summary[f"{col}_mean"], summary[f"{col}_std"])]
    out["Seeds"] = summary.seeds.astype(str).values
    note = f"\nNo ground truth of that size (COCO AP -1), left out: {', '.join(absent)}.\n" if absent else ""
    zero = list(dict.fromkeys(f"{t} {b}" for t, b in zip(summary.task, summary.bucket)
                              if summary[(summary.task == t) & (summary.bucket == b)].change_mean.isna().all()))
    if zero:
        note += f"\nDense AP 0 in some seed, % change undefined (shown as -): {', '.join(zero)}.\n"
    return common.markdown(out, title) + note


def figure(frame: pd.DataFrame, title: str):
    import seaborn as sns

    tasks = [t for t in TASKS if t in set(frame.task)]
    fig, axes = plots.new_figure(len(tasks), width=4.6)
    palette = dict(zip(BUCKETS, sns.color_palette(n_colors=len(BUCKETS))))  # a size keeps its colour across panels
    for task, ax in zip(tasks, axes):
        cell = frame[(frame.task == task) & frame.change.notna()]
        ax.set(title=TASKS[task], xlabel="network sparsity (%)", ylabel="AP change vs dense (%)")
        if cell.empty:
            ax.text(0.5, 0.5, "dense AP 0:\n% change undefined", ha="center", va="center", transform=ax.transAxes)
            continue
        sns.lineplot(data=cell, x="network_sparsity", y="change", hue="bucket", palette=palette, marker="o",
                     hue_order=[b for b in BUCKETS if b in set(cell.bucket)], errorbar="sd", ax=ax)
        ax.axhline(0, color="k", ls="--", lw=1, label="dense")
        ax.set(title=TASKS[task], xlabel="network sparsity (%)", ylabel="AP change vs dense (%)")
        ax.legend(title="object size")
    fig.suptitle(title)
    return fig


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lthsteps.object_size", description=__doc__.split("\n\n")[0])
    parser.add_argument("--name", required=True, help="table and figure title, e.g. the model")
    parser.add_argument("--paper", default="", help="the paper item this is the analog of, e.g. 'Fig 4'")
    parser.add_argument("--dense", action="append", default=[], metavar="SEED:DIR", help="dense run folder per seed")
    parser.add_argument("--run", action="append", default=[], metavar="PRUNE:SEED:DIR", help="a ticket's run folder")
    parser.add_argument("--tasks", default="", help="comma list of bbox, segm, keypoints (default: all the runs have)")
    parser.add_argument("--csv", required=True, type=Path)
    parser.add_argument("--markdown", required=True, type=Path)
    parser.add_argument("--figure", required=True, type=Path)
    args = parser.parse_args(argv)
    title = common.title(args.name, args.paper)
    try:
        dense, runs = load([common.parse_dense(d) for d in args.dense], [parse_run(r) for r in args.run])
        frame, absent = records(dense, runs, [t for t in args.tasks.split(",") if t])
        summary = table(frame)
        text = markdown(summary, title, absent)
        fig = figure(frame, title)  # made before any write: a failure leaves nothing behind
    except (ValueError, FileNotFoundError) as err:
        print("error: " + " ".join(str(err).split()), file=sys.stderr)
        return 2
    plots.write_outputs(summary, text, fig, args.csv, args.markdown, args.figure)
    return 0


if __name__ == "__main__":
    sys.exit(main())
