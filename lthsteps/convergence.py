"""Convergence of dense runs and tickets: validation loss against training progress (the paper's Fig 10).

    python -m lthsteps.convergence --name faster_rcnn_r18_c4 --paper "Fig 10" \
        --dense 0:results/runs/m/seed0/dense --dense 1:... \
        --run 80:0:results/runs/m/seed0/s/p80/round1 --run 80:1:... \
        --csv curves.csv --markdown convergence.md --figure convergence.png

``--dense SEED:DIR`` names a dense run's folder, ``--run PRUNE:SEED:DIR`` a ticket's of PRUNE
percent; each holds the ``val_loss.json`` (``lthsteps.paths.val_loss``) its training job wrote with
``lthsteps.train --val-loss-out``: the JSON list of ``lthsteps.val_loss.ValLossHook``, entries with
``iter`` (optimizer steps done), ``max_iters`` (the schedule), ``loss`` (the total) and ``losses``
(each term).

Training progress is ``iter / max_iters`` of the run's own schedule, in percent. A ticket that
starts at the rewind iteration (late resetting: ``--start-iter`` of ``lthsteps.train``) is placed at
its real iterations, on the same axis as the dense run: its first point is at the rewind iteration
and it ends at 100 %, as the dense run does. This is the paper's "training progress" (a round
trains the rest of the dense run's schedule); the iterations it did not train are the dense run's.

Outputs (written only when every input is valid; a bad one: one ``error:`` line, exit 2):

* ``--csv``: the curves, one row per run kind and iteration: progress, number of seeds, mean and
  std over seeds of the total loss and of every term (the data of the figure);
* ``--markdown``: ``### {title}`` and the table: per run kind the final validation loss (total and
  per term, mean ± std over seeds) and where the run "converges": the first measured iteration at
  which its total loss is within ``--tolerance`` (5 %) of its own final loss, |L(i) - L_end| <=
  0.05 L_end, taken per seed and then averaged; as iteration, as percent of training and as
  iterations the run itself trained to get there (from its first measurement: a ticket starts at
  its rewind iteration with the dense run's weights of that iteration, the paper's "converges
  faster" compares this);
* ``--figure``: one panel for the total loss and one per term, loss against progress, one line per
  run kind (dense, ticket P %), band = ±1 std over seeds.
"""
from __future__ import annotations

import argparse
import io
import json
import math
import sys
from pathlib import Path

import pandas as pd

from lthsteps import paths
from lthsteps.files import atomic_write

TOTAL = "loss"


class ConvergenceError(ValueError):
    """Bad input; the message names the file and what is wrong."""


def run_label(prune: float) -> str:
    return "dense" if prune == 0 else f"ticket {prune:g}%"


def load_curve(run: str | Path) -> list[dict]:
    """The entries of a run folder's ValLossHook file, checked: a finished run, increasing iterations,
    finite losses."""
    path = Path(paths.val_loss(str(run)))
    if not path.is_file():
        raise ConvergenceError(f"{path} does not exist: give the folder of a run trained with "
                               "lthsteps.train --val-loss-out (every training job of the workflow)")
    try:
        entries = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise ConvergenceError(f"{path} is not valid JSON ({err})") from err
    if not isinstance(entries, list) or not entries:
        raise ConvergenceError(f"{path} is not a non-empty list of ValLossHook measurements")
    terms = None
    for n, entry in enumerate(entries):
        where = f"{path} entry {n}"
        if not isinstance(entry, dict) or not all(k in entry for k in ("iter", "max_iters", "loss", "losses")):
            raise ConvergenceError(f"{where}: needs iter, max_iters, loss and losses")
        if not isinstance(entry["iter"], int) or not isinstance(entry["max_iters"], int) or entry["iter"] < 0:
            raise ConvergenceError(f"{where}: iter and max_iters must be non-negative integers")
        if not isinstance(entry["losses"], dict) or not entry["losses"]:
            raise ConvergenceError(f"{where}: losses must be a non-empty object of loss terms")
        values = {TOTAL: entry["loss"], **entry["losses"]}
        bad = [k for k, v in values.items() if not isinstance(v, (int, float)) or isinstance(v, bool)
               or not math.isfinite(v)]
        if bad:
            raise ConvergenceError(f"{where} (iteration {entry['iter']}): non-finite or non-numeric loss {bad}: "
                                   "the run diverged or the file is damaged")
        if terms is not None and set(entry["losses"]) != terms:
            raise ConvergenceError(f"{where}: loss terms {sorted(entry['losses'])} differ from the first entry's "
                                   f"{sorted(terms)}")
        terms = set(entry["losses"])
        if n and entry["iter"] <= entries[n - 1]["iter"]:
            raise ConvergenceError(f"{where}: iteration {entry['iter']} does not follow {entries[n - 1]['iter']}")
        if entry["max_iters"] != entries[0]["max_iters"] or entry["iter"] > entry["max_iters"]:
            raise ConvergenceError(f"{where}: iteration {entry['iter']} of max_iters {entry['max_iters']} does not "
                                   f"fit the file's schedule ({entries[0]['max_iters']} iterations)")
    if entries[-1]["iter"] != entries[-1]["max_iters"]:
        raise ConvergenceError(f"{path} ends at iteration {entries[-1]['iter']} of {entries[-1]['max_iters']}: the "
                               "run has not finished (its final loss is not measured)")
    return entries


def records(runs: list[tuple[float, int, str | Path]]) -> pd.DataFrame:
    """One row per (run, measurement) of (prune %, seed, run folder): run, prune_percent, seed, iter,
    max_iters, progress (%), the total ``loss`` and every term."""
    seen, rows, terms = set(), [], None
    for prune, seed, path in runs:
        if not 0 <= prune < 100:
            raise ConvergenceError(f"prune percent {prune:g} of {path} is not in [0, 100)")
        if (prune, seed) in seen:
            raise ConvergenceError(f"{run_label(prune)} seed {seed} is given twice (again as {path})")
        seen.add((prune, seed))
        curve = load_curve(path)
        if terms is not None and set(curve[0]["losses"]) != terms:
            raise ConvergenceError(f"{path} has loss terms {sorted(curve[0]['losses'])}, the other runs "
                                   f"{sorted(terms)}: compare runs of one model")
        terms = set(curve[0]["losses"])
        for e in curve:
            rows.append({"run": run_label(prune), "prune_percent": prune, "seed": seed, "iter": e["iter"],
                         "max_iters": e["max_iters"], "progress": 100 * e["iter"] / e["max_iters"],
                         TOTAL: e["loss"], **e["losses"]})
    if not any(prune == 0 for prune, _, _ in runs):
        raise ConvergenceError("no dense run: give at least one --dense SEED:DIR to compare the tickets with")
    return pd.DataFrame(rows)


def loss_columns(frame: pd.DataFrame) -> list[str]:
    return [TOTAL] + sorted(c for c in frame.columns if c.startswith("loss_"))


def _ordered(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(["prune_percent", "iter"] if "iter" in frame else ["prune_percent"]).reset_index(drop=True)


def curves(data: pd.DataFrame) -> pd.DataFrame:
    """Mean and std over seeds per run kind and iteration (dense first, then tickets by prune percent)."""
    columns = loss_columns(data)
    grouped = data.groupby(["run", "prune_percent", "iter", "progress"])
    table = grouped[columns].agg(["mean", "std"])
    table.columns = [f"{c}_{stat}" for c, stat in table.columns]
    table.insert(0, "seeds", grouped.size())
    return _ordered(table.reset_index())


def per_seed(data: pd.DataFrame, tolerance: float = 0.05) -> pd.DataFrame:
    """Per run and seed: the final losses and the first iteration within ``tolerance`` of the final total."""
    rows = []
    for (run, prune, seed), curve in data.groupby(["run", "prune_percent", "seed"]):
        curve = curve.sort_values("iter")
        end = curve.iloc[-1]
        close = curve[(curve[TOTAL] - end[TOTAL]).abs() <= tolerance * abs(end[TOTAL])].iloc[0]
        rows.append({"run": run, "prune_percent": prune, "seed": seed,
                     **{f"final_{c}": end[c] for c in loss_columns(data)},
                     "converged_iter": int(close["iter"]), "converged_progress": close["progress"],
                     "converged_trained_iters": int(close["iter"] - curve.iloc[0]["iter"])})
    return pd.DataFrame(rows)


def convergence_table(data: pd.DataFrame, tolerance: float = 0.05) -> pd.DataFrame:
    """Per run kind: seeds, mean and std over seeds of the final losses and of the convergence point."""
    seeds = per_seed(data, tolerance)
    values = [c for c in seeds.columns if c not in ("run", "prune_percent", "seed")]
    grouped = seeds.groupby(["run", "prune_percent"])
    table = grouped[values].agg(["mean", "std"])
    table.columns = [f"{c}_{stat}" for c, stat in table.columns]
    table.insert(0, "seeds", grouped.size())
    return _ordered(table.reset_index())


def _pm(mean: float, std: float, digits: int) -> str:
    return f"{mean:.{digits}f} ± {std:.{digits}f}" if pd.notna(std) else f"{mean:.{digits}f}"


def markdown(table: pd.DataFrame, title: str, tolerance: float = 0.05) -> str:
    out = pd.DataFrame({"Run": table["run"], "Seeds": table["seeds"].values})
    for column in [c[len("final_"):-len("_mean")] for c in table.columns
                   if c.startswith("final_") and c.endswith("_mean")]:
        name = "Final val loss" if column == TOTAL else f"final {column}"
        out[name] = [_pm(m, s, 4) for m, s in zip(table[f"final_{column}_mean"], table[f"final_{column}_std"])]
    within = f"{tolerance * 100:g}%"
    out[f"Within {within} of final: iteration"] = [
        _pm(m, s, 1) for m, s in zip(table["converged_iter_mean"], table["converged_iter_std"])]
    out[f"Within {within} of final: % of training"] = [
        _pm(m, s, 1) for m, s in zip(table["converged_progress_mean"], table["converged_progress_std"])]
    out[f"Within {within} of final: iterations trained"] = [
        _pm(m, s, 1) for m, s in zip(table["converged_trained_iters_mean"], table["converged_trained_iters_std"])]
    return f"### {title}\n\n" + out.to_markdown(index=False) + "\n"


def figure_png(data: pd.DataFrame, title: str) -> bytes:
    """Loss against training progress, one panel per loss (total first), one line per run kind."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import seaborn as sns

    sns.set_theme(style="whitegrid")
    columns = loss_columns(data)
    cols = min(3, len(columns))
    rows = math.ceil(len(columns) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(5 * cols, 3.6 * rows), squeeze=False)
    order = list(dict.fromkeys(_ordered(data[["run", "prune_percent"]].drop_duplicates())["run"]))
    for column, ax in zip(columns, axes.flat):
        sns.lineplot(data=data, x="progress", y=column, hue="run", hue_order=order, errorbar="sd", marker="o",
                     ax=ax)
        ax.set(xlabel="training progress (% of the schedule)",
               ylabel="validation loss" if column == TOTAL else column)
        ax.legend(title=None)
    for ax in list(axes.flat)[len(columns):]:
        ax.set_visible(False)
    fig.suptitle(title)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=120)
    plt.close(fig)
    return buffer.getvalue()


def _parse(text: str, with_prune: bool) -> tuple[float, int, str]:
    parts = text.split(":", 2 if with_prune else 1)
    form = "PRUNE:SEED:DIR" if with_prune else "SEED:DIR"
    try:
        if with_prune:
            prune, seed, path = float(parts[0]), int(parts[1]), parts[2]
            if prune <= 0:
                raise ConvergenceError(f"--run {text}: a ticket's prune percent must be above 0 (dense: --dense)")
        else:
            prune, seed, path = 0.0, int(parts[0]), parts[1]
    except (ValueError, IndexError) as err:
        if isinstance(err, ConvergenceError):
            raise
        raise ConvergenceError(f"{'--run' if with_prune else '--dense'} {text!r} is not {form}") from err
    return prune, seed, path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lthsteps.convergence", description=__doc__.split("\n\n")[0])
    parser.add_argument("--name", required=True, help="the experiment (model) the title names")
    parser.add_argument("--paper", default="", help="the paper's table/figure this reproduces")
    parser.add_argument("--dense", action="append", required=True, metavar="SEED:DIR", help="a dense run's folder")
    parser.add_argument("--run", action="append", default=[], metavar="PRUNE:SEED:DIR", help="a ticket's folder")
    parser.add_argument("--tolerance", type=float, default=0.05,
                        help="converged: within this fraction of the final loss")
    parser.add_argument("--csv", required=True, type=Path)
    parser.add_argument("--markdown", required=True, type=Path)
    parser.add_argument("--figure", required=True, type=Path)
    args = parser.parse_args(argv)
    title = f"{args.name}: validation loss against training progress" + (
        f" (analog of the paper's {args.paper})" if args.paper else "")
    try:
        if not 0 < args.tolerance < 1:
            raise ConvergenceError(f"--tolerance {args.tolerance} is not a fraction in (0, 1)")
        runs = [_parse(t, False) for t in args.dense] + [_parse(t, True) for t in args.run]
        data = records(runs)
    except ConvergenceError as err:
        print("error: " + " ".join(str(err).split()), file=sys.stderr)
        return 2
    # Everything is computed before the first file is written: all three or none.
    table = convergence_table(data, args.tolerance)
    text = markdown(table, title, args.tolerance)
    png = figure_png(data, title)
    atomic_write(args.csv, lambda tmp: curves(data).to_csv(tmp, index=False, float_format="%.6f"))
    atomic_write(args.markdown, lambda tmp: Path(tmp).write_text(text))
    atomic_write(args.figure, lambda tmp: Path(tmp).write_bytes(png))
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
