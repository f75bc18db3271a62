"""Error types of the dense model and its ticket side by side (the paper's Figs 7-9, Appendix C).

    python -m lthsteps.error_comparison tide --task bbox --name "Mask R-CNN R50" --paper "Fig 7" \\
        --dense 0:results/runs/m/seed0/dense --run 80:0:results/runs/m/seed0/s/p80/round1 ... \\
        --csv t.csv --markdown t.md --figure f.png
    python -m lthsteps.error_comparison keypoint_errors --name "Keypoint R-CNN R18" --paper "Fig 9" ...

Reads, per run folder, the error files the workflow writes beside its metrics (``lthsteps.paths``):
``errors/tide_<task>.json`` (``lthsteps.tide_errors``) or ``errors/keypoints.json`` and
``errors/keypoints_pr.csv`` (``lthsteps.keypoint_errors``), and each ticket's ``train.json`` (its
network sparsity). ``--dense SEED:DIR`` names the dense run of a seed, ``--run PRUNE:SEED:DIR`` a ticket;
every ticket's seed needs a dense run, and every prune percent the same seeds. Values are mean ± std
over seeds.

tide: per error type, TIDE's dAP (AP50 points, 0-100, recovered by fixing only that error): the main
errors Cls, Loc, Both, Dupe, Bkg, Miss and the special errors FalsePos, FalseNeg; and the AP50 itself.
keypoint_errors: the percent of the matched detections' visible keypoints that are Good, Jitter,
Inversion, Swap, Miss; the keypoint AP (OKS 0.50:0.95, percent) of the original detections and with each
error type fixed alone (Miss, Swap, Inversion, Jitter, background false positives, false negatives); the
number of background false positives and false negatives.

Outputs: the CSV has one row per measure and model (``prune_percent`` 0 = dense): ``group``,
``measure``, ``prune_percent``, ``seeds``, network sparsity and value as ``_mean``/``_std``; the Markdown
table has one row per measure and a column per model. The figure shows the paper's comparison as grouped
bars (dense and each ticket side by side per error type; whiskers ±1 std over seeds) rather than TIDE's
pies; for keypoints also the PR curves at OKS 0.5 of the original detections and of each fix, dense
solid and ticket dashed (precision averaged over seeds at each recall point).

Input errors print one ``error: ...`` line and return 2 before anything is written.
"""
from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from lthsteps import paths
from lthsteps.ablations import common, plots
from lthsteps.object_size import Run, parse_run

TIDE_MAIN = ("Cls", "Loc", "Both", "Dupe", "Bkg", "Miss")
TIDE_SPECIAL = ("FalsePos", "FalseNeg")
KEYPOINT_ERRORS = {"good": "Good", "jitter": "Jitter", "inversion": "Inversion", "swap": "Swap", "miss": "Miss"}
KEYPOINT_FIXES = {"none": "original", "miss": "Miss fixed", "swap": "Swap fixed", "inversion": "Inversion fixed",
                  "jitter": "Jitter fixed", "background_fp": "background FPs removed",
                  "false_negatives": "false negatives ignored"}
GROUPS = {"tide": ("AP50", "main error dAP", "special error dAP"),
          "keypoint_errors": ("keypoints (%)", "AP with the error fixed (%)", "count")}


def tide_values(errors: dict, where: Path) -> list[tuple[str, str, float]]:
    """(group, measure, value) of a tide_errors JSON: AP50, then every main and special error's dAP."""
    try:
        rows = [("AP50", "AP50", float(errors["AP50"]))]
        rows += [("main error dAP", e, float(errors["main_errors"][e])) for e in TIDE_MAIN]
        rows += [("special error dAP", e, float(errors["special_errors"][e])) for e in TIDE_SPECIAL]
    except (KeyError, TypeError):
        raise ValueError(f"{where} is not a lthsteps.tide_errors output (AP50, main_errors {{{', '.join(TIDE_MAIN)}}}, "
                         "special_errors): re-run its tide_errors rule") from None
    return rows


def keypoint_values(errors: dict, where: Path) -> list[tuple[str, str, float]]:
    """(group, measure, value) of a keypoint_errors JSON: keypoint error percents, AP per fix (percent,
    each fix alone), background false positives and false negatives."""
    try:
        percent = {r["error"]: float(r["percent"]) for r in errors["counts"]}
        # COCOeval's -1: no person left to evaluate (e.g. every one ignored): no AP, not -100%
        ap = {r["fix"]: 100 * float(r["AP"]) if float(r["AP"]) >= 0 else float("nan")
              for r in errors["ap"] if r["mode"] in ("original", "individual")}
        rows = [("keypoints (%)", label, percent[e]) for e, label in KEYPOINT_ERRORS.items()]
        rows += [("AP with the error fixed (%)", label, ap[f]) for f, label in KEYPOINT_FIXES.items()]
        rows += [("count", "background FPs", float(errors["totals"]["background_fp"])),
                 ("count", "false negatives", float(errors["totals"]["false_negatives"]))]
    except (KeyError, TypeError):
        raise ValueError(f"{where} is not a lthsteps.keypoint_errors output (counts, ap, totals): re-run its "
                         "keypoint_errors rule") from None
    return rows


def error_file(analysis: str, run_dir: Path, task: str) -> Path:
    return Path(paths.tide_errors(str(run_dir), task) if analysis == "tide" else paths.keypoint_errors(str(run_dir)))


def load(analysis: str, dense: list[tuple[int, Path]], runs: list[Run], task: str = "bbox") -> pd.DataFrame:
    """One row per run and measure: model ("dense" or the ticket's prune percent), prune_percent (0 =
    dense), seed, network_sparsity (percent), group, measure, value."""
    if len({seed for seed, _ in dense}) != len(dense):
        raise ValueError("a seed is given twice in --dense: give one dense run folder per seed")
    if not dense:
        raise ValueError("no --dense given: give the dense run of every seed as --dense SEED:DIR")
    if not runs:
        raise ValueError("no --run given: give at least one ticket as --run PRUNE:SEED:DIR")
    common.check_runs([common.Run("ticket", r.prune, r.seed, r.dir) for r in runs])  # each once, same seeds
    lacking = sorted({r.seed for r in runs} - {seed for seed, _ in dense})
    if lacking:
        raise ValueError(f"runs of seed {lacking[0]} have no dense run to compare with: add --dense {lacking[0]}:DIR")
    values = tide_values if analysis == "tide" else keypoint_values
    rows = []
    for prune, seed, run_dir in [(0.0, s, d) for s, d in dense] + [(r.prune, r.seed, r.dir) for r in runs]:
        sparsity = 0.0
        if prune:
            sparsity = common.read_json(run_dir / "train.json").get("network", {}).get("sparsity")
            if sparsity is None:
                raise ValueError(f"{run_dir}/train.json has no network.sparsity: rerun the training rule that writes it")
            sparsity *= 100
        file = error_file(analysis, run_dir, task)
        for group, measure, value in values(common.read_json(file), file):
            rows.append({"prune_percent": prune, "seed": seed, "network_sparsity": sparsity, "group": group,
                         "measure": measure, "value": value})
    return pd.DataFrame(rows)


def table(frame: pd.DataFrame) -> pd.DataFrame:
    """Mean and std over seeds per measure and model, measures in their file order, dense first."""
    out = common.summarize(frame, ["group", "measure", "prune_percent"], ["network_sparsity", "value"])
    order = {m: i for i, m in enumerate(dict.fromkeys(frame.measure))}
    return out.sort_values(["measure", "prune_percent"], key=lambda c: c.map(order) if c.name == "measure" else c,
                           ignore_index=True)[["group", "measure", "prune_percent", *[c for c in out if c not in (
                               "group", "measure", "prune_percent")]]]


def model_label(prune: float, sparsity: float) -> str:
    return "dense" if prune == 0 else f"{common.prune_label(prune)} ticket ({sparsity:.1f}% sparse)"


def labels(summary: pd.DataFrame) -> dict[float, str]:
    """The column/legend label of each model: dense, or prune percent and measured network sparsity."""
    first = summary.drop_duplicates("prune_percent")
    return {p: model_label(p, s) for p, s in zip(first.prune_percent, first.network_sparsity_mean)}


def markdown(summary: pd.DataFrame, title: str, analysis: str) -> str:
    names = labels(summary)
    keys = list(dict.fromkeys(zip(summary.group, summary.measure)))
    out = pd.DataFrame({"Group": [g for g, _ in keys], "Measure": [m for _, m in keys]})
    cells = {(g, m, p): common.pm(v, s, 0 if g == "count" else 2) for g, m, p, v, s in zip(
        summary.group, summary.measure, summary.prune_percent, summary.value_mean, summary.value_std)}
    for prune, name in names.items():
        out[name[:1].upper() + name[1:]] = [cells.get((g, m, prune), "-") for g, m in zip(out.Group, out.Measure)]
    seeds = int(summary.seeds.max())
    unit = ("dAP = AP50 points (0-100) recovered by fixing only that error type (TIDE)" if analysis == "tide" else
            "keypoint error types in percent of the matched detections' visible keypoints; AP = COCO keypoint AP "
            "(OKS 0.50:0.95) in percent, each fix alone")
    return common.markdown(out, title) + f"\n{unit}; mean ± std over {seeds} seed(s).\n"


def read_pr(dense: list[tuple[int, Path]], runs: list[Run]) -> pd.DataFrame:
    """The PR curves at OKS 0.5 of the original detections and of each fix alone, every run."""
    frames = []
    for prune, seed, run_dir in [(0.0, s, d) for s, d in dense] + [(r.prune, r.seed, r.dir) for r in runs]:
        file = Path(paths.keypoint_pr(str(run_dir)))
        if not file.is_file():
            raise FileNotFoundError(f"{file} does not exist: check the run folder, or run the rule that makes it")
        pr = pd.read_csv(file, dtype={"oks": str})
        if not {"mode", "fix", "oks", "recall", "precision"} <= set(pr):
            raise ValueError(f"{file} is not a lthsteps.keypoint_errors --pr-csv output: re-run its keypoint_errors rule")
        pr = pr[(pr.oks == "0.5") & pr["mode"].isin(["original", "individual"])].copy()
        pr["precision"] = pr.precision.where(pr.precision >= 0)
        frames.append(pr.assign(prune_percent=prune, seed=seed))
    return pd.concat(frames, ignore_index=True)


def figure(frame: pd.DataFrame, summary: pd.DataFrame, title: str, analysis: str, pr: pd.DataFrame | None = None):
    import seaborn as sns

    names = labels(summary)
    hue_order = list(names.values())
    data = frame.assign(model=frame.prune_percent.map(names))
    if analysis == "tide":
        fig, axes = plots.new_figure(1, width=7.5, height=4.0)
        panels = [(axes[0], data[data.group != "AP50"], "dAP (AP50 points)", "error type (TIDE)")]
    else:
        fig, axes = plots.new_figure(3, width=5.2, height=4.0)
        panels = [(axes[0], data[data.group == "keypoints (%)"], "keypoints (%)", "keypoint error type"),
                  (axes[1], data[data.group == "AP with the error fixed (%)"], "keypoint AP (%)", "error fixed alone")]
    for ax, cell, ylabel, xlabel in panels:
        sns.barplot(data=cell, x="measure", y="value", hue="model", hue_order=hue_order,
                    order=list(dict.fromkeys(cell.measure)), errorbar="sd", ax=ax)
        ax.set(ylabel=ylabel, xlabel=xlabel)
        ax.tick_params(axis="x", labelrotation=45)
        ax.legend(title=None, fontsize="small")
    if analysis == "keypoint_errors" and pr is not None:
        ax = axes[2]
        curves = pr.assign(model=pr.prune_percent.map(lambda p: "dense" if p == 0 else f"{common.prune_label(p)} ticket"),
                           fix=pr.fix.map(KEYPOINT_FIXES))
        mean = curves.groupby(["model", "fix", "recall"], sort=False).precision.mean().reset_index()
        sns.lineplot(data=mean, x="recall", y="precision", hue="fix", hue_order=list(KEYPOINT_FIXES.values()),
                     style="model", ax=ax)
        ax.set(title="PR at OKS 0.5", xlim=(0, 1), ylim=(0, 1.02))
        ax.legend(fontsize="x-small", loc="upper left", bbox_to_anchor=(1.01, 1))
    fig.suptitle(title)
    return fig


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lthsteps.error_comparison", description=__doc__.split("\n\n")[0])
    parser.add_argument("analysis", choices=["tide", "keypoint_errors"])
    parser.add_argument("--name", required=True, help="table and figure title, e.g. the model")
    parser.add_argument("--paper", default="", help="the paper item this is the analog of, e.g. 'Fig 7'")
    parser.add_argument("--task", default="bbox", choices=["bbox", "segm"], help="tide: bbox (default) or segm")
    parser.add_argument("--dense", action="append", default=[], metavar="SEED:DIR", help="dense run folder per seed")
    parser.add_argument("--run", action="append", default=[], metavar="PRUNE:SEED:DIR", help="a ticket's run folder")
    for name in ("--csv", "--markdown", "--figure"):
        parser.add_argument(name, required=True, type=Path)
    args = parser.parse_args(argv)
    title = common.title(args.name, args.paper)
    try:
        dense, runs = [common.parse_dense(d) for d in args.dense], [parse_run(r) for r in args.run]
        frame = load(args.analysis, dense, runs, args.task)
        summary = table(frame)
        pr = read_pr(dense, runs) if args.analysis == "keypoint_errors" else None
        text = markdown(summary, title, args.analysis)
        fig = figure(frame, summary, title, args.analysis, pr)  # made before any write: a failure leaves nothing
    except (ValueError, FileNotFoundError) as err:
        print("error: " + " ".join(str(err).split()), file=sys.stderr)
        return 2
    plots.write_outputs(summary, text, fig, args.csv, args.markdown, args.figure)
    return 0


if __name__ == "__main__":
    sys.exit(main())
