"""Percentage change of per-category AP against the dense model (the paper's Fig 5, §4.4).

    python -m lthsteps.category_change --by frequency --train-ann instances_train.json \\
        --name "Mask R-CNN R18" --paper "Fig 5a" [--task bbox] [--prunes 80,90] \\
        --dense 0:results/runs/m/seed0/dense --run 80:0:results/runs/m/seed0/s/p80/round1 ... \\
        --csv t.csv --markdown t.md --figure f.png
    python -m lthsteps.category_change --by difficulty --task segm --top 3 --paper "Fig 5c" ...

The paper (Fig 5) plots ``100 * (AP_ticket - AP_dense) / AP_dense`` of each COCO category's
AP: (a) for the 80%- and 90%-pruned Mask R-CNN, bbox AP, categories sorted by their number of
training instances -- rare categories (toaster, parking meter, bear) lose most at high sparsity,
common ones (person, car, chair) little; (b)/(c) for the 3 categories with the highest and the 3
with the lowest dense AP (bbox, segm), against sparsity -- easy and hard categories behave much
alike, hard ones falling somewhat more, and long thin objects (skis, spoon, fork) are hit hardest.

``--by frequency`` needs ``--train-ann``, the COCO annotation file of the training split (its
non-crowd annotations are counted per category name; the ``instances`` in metrics.json count the
evaluated split, not training). ``--by difficulty`` ranks categories by their dense AP (mean over
seeds; ties broken by name) and keeps the ``--top`` K highest ("easy") and K lowest ("hard").
``--dense``/``--run`` are as in :mod:`lthsteps.object_size`: each ticket is compared with the
dense run of its own seed.

A category whose dense AP is 0 or NaN (no ground truth in the evaluated split) in some seed has
no defined percentage change: it is left out, as the paper leaves out "hair drier" (0 mAP), and
named under the table. Outputs: the CSV has one row per category and prune percent (mean and std
over seeds of network sparsity, dense AP, ticket AP in percent, and % change); the Markdown table
shows them as ``mean ± std``. Frequency figure: one bar per prune percent for each category,
rarest first (training instances in brackets), whiskers ±1 std over seeds. Difficulty figure: %
change against network sparsity, one line per category, easy solid, hard dashed; zero = dense.
Input errors print one ``error: ...`` line and return 2 before anything is written.
"""
from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from lthsteps.ablations import common, plots
from lthsteps.object_size import COLUMNS, TASKS, Run, load, pairs, parse_run, section


def train_instances(path: Path) -> dict[str, int]:
    """Non-crowd annotations per category name of a COCO annotation file (0 for a category without)."""
    ann = common.read_json(Path(path))
    if not isinstance(ann, dict) or "categories" not in ann or "annotations" not in ann:
        raise ValueError(f"--train-ann {path} is not a COCO annotation file: give e.g. instances_train.json")
    names = {c["id"]: c["name"] for c in ann["categories"]}
    counts = dict.fromkeys(names.values(), 0)
    for a in ann["annotations"]:
        if not a.get("iscrowd", 0):
            counts[names[a["category_id"]]] += 1
    return counts


def records(dense: dict[int, Run], runs: list[Run], task: str,
            prunes: Sequence[float] | None = None) -> tuple[pd.DataFrame, list[str]]:
    """Per run and category: AP and % change; and the categories left out (dense AP 0 or NaN)."""
    if task not in TASKS:
        raise ValueError(f"--task {task!r} is unknown: give one of {', '.join(TASKS)}")
    have = sorted({r.prune for r in runs})
    for p in prunes or ():
        if p not in have:
            raise ValueError(f"no run has prune {p:g}%: give --prunes from {', '.join(f'{h:g}' for h in have)}")
    runs = [r for r in runs if not prunes or r.prune in prunes]

    def values(metrics: dict, where: Path) -> dict[tuple, float]:
        per = section(metrics, task, where).get("per_category")
        if not per:
            raise ValueError(f"{where}/metrics.json has no {task} per_category APs: re-run its evaluation")
        return {(name,): c.get("AP") for name, c in per.items()}

    frame = pairs(dense, runs, values, ("category",))
    undefined = frame.dense_ap.isna() | (frame.dense_ap == 0)
    left = sorted(set(frame.category[undefined]))
    frame = frame[~frame.category.isin(left)].copy()
    if frame.ticket_ap.isna().any():
        bad = frame[frame.ticket_ap.isna()].iloc[0]
        raise ValueError(f"{bad.category} has no {task} AP in the ticket of prune {bad.prune_percent:g}%, seed "
                         f"{bad.seed}: compare runs evaluated on the same data")
    if frame.empty:
        raise ValueError(f"every category has dense {task} AP 0 or NaN: the percentage change is undefined")
    frame["change"] = 100 * (frame.ticket_ap - frame.dense_ap) / frame.dense_ap
    return frame, left


def frequency_table(frame: pd.DataFrame, counts: dict[str, int]) -> pd.DataFrame:
    """Mean ± std per category and prune percent, rarest category (training instances) first."""
    missing = sorted(set(frame.category) - set(counts))
    if missing:
        raise ValueError(f"category {missing[0]!r} is not in --train-ann: give the training annotations of the "
                         "dataset the runs were evaluated on")
    out = common.summarize(frame, ["category", "prune_percent"], COLUMNS)
    out.insert(1, "train_instances", out.category.map(counts))
    return out.sort_values(["train_instances", "category", "prune_percent"], ignore_index=True)


def rank(frame: pd.DataFrame, top: int) -> tuple[list[str], list[str]]:
    """The ``top`` categories with the highest and the lowest dense AP (mean over seeds), ties by name."""
    ap = frame.drop_duplicates(["category", "seed"]).groupby("category").dense_ap.mean()
    if not 1 <= top <= len(ap) // 2:
        raise ValueError(f"--top {top} needs {2 * top} categories, the runs have {len(ap)} with a defined change: "
                         f"give --top from 1 to {len(ap) // 2}")
    easy = sorted(ap.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
    hard = sorted(ap.items(), key=lambda kv: (kv[1], kv[0]))[:top]
    return [c for c, _ in easy], [c for c, _ in hard]


def difficulty_table(frame: pd.DataFrame, top: int) -> pd.DataFrame:
    """Mean ± std per category and prune percent: easy ones (highest AP first), then hard (lowest first)."""
    easy, hard = rank(frame, top)
    out = common.summarize(frame[frame.category.isin(easy + hard)], ["category", "prune_percent"], COLUMNS)
    out.insert(0, "group", out.category.map(lambda c: "easy" if c in easy else "hard"))
    order = {c: i for i, c in enumerate(easy + hard)}
    return out.sort_values(["category", "prune_percent"], key=lambda c: c.map(order) if c.name == "category" else c,
                           ignore_index=True)


def markdown(summary: pd.DataFrame, title: str, left: Sequence[str] = ()) -> str:
    out = pd.DataFrame({"Group": summary.group} if "group" in summary else {})
    out["Category"] = summary.category.values
    if "train_instances" in summary:
        out["Train instances"] = summary.train_instances.astype(str).values
    out["Prune %"] = summary.prune_percent.map(common.prune_label).values
    out["Network sparsity"] = summary.network_sparsity_mean.map(lambda s: f"{s:.2f}%").values
    for col, head in (("dense_ap", "Dense AP"), ("ticket_ap", "Ticket AP"), ("change", "% change")):
        out[head] = [common.pm(m, s) for m, s in zip(summary[f"{col}_mean"], summary[f"{col}_std"])]
    out["Seeds"] = summary.seeds.astype(str).values
    note = f"\nDense AP 0 or no ground truth (% change undefined), left out: {', '.join(left)}.\n" if left else ""
    return common.markdown(out, title) + note


def figure(frame: pd.DataFrame, summary: pd.DataFrame, title: str):
    import seaborn as sns

    cats = list(dict.fromkeys(summary.category))
    data = frame[frame.category.isin(cats)].assign(prune=lambda f: f.prune_percent.map(common.prune_label))
    if "train_instances" in summary:
        counts = dict(zip(summary.category, summary.train_instances))
        fig, (ax,) = plots.new_figure(1, width=max(6.0, 0.35 * len(cats) * summary.prune_percent.nunique() + 2))
        data["label"] = data.category.map(lambda c: f"{c} ({counts[c]})")
        sns.barplot(data=data, x="label", y="change", hue="prune", order=[f"{c} ({counts[c]})" for c in cats],
                    hue_order=[common.prune_label(p) for p in sorted(set(data.prune_percent))], errorbar="sd", ax=ax)
        ax.tick_params(axis="x", labelrotation=90)
        ax.set(xlabel="category (training instances), rarest first")
    else:
        fig, (ax,) = plots.new_figure(1, width=6.5)
        data["group"] = data.category.map(dict(zip(summary.category, summary.group)))
        sns.lineplot(data=data, x="network_sparsity", y="change", hue="category", hue_order=cats, style="group",
                     style_order=["easy", "hard"], dashes={"easy": "", "hard": (4, 2)}, markers=True,
                     errorbar="sd", ax=ax)
        ax.set(xlabel="network sparsity (%)")
    ax.axhline(0, color="k", lw=1)
    ax.legend(bbox_to_anchor=(1.01, 1), loc="upper left")
    ax.set(ylabel="AP change vs dense (%)", title=title)
    return fig


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lthsteps.category_change", description=__doc__.split("\n\n")[0])
    parser.add_argument("--by", required=True, choices=["frequency", "difficulty"],
                        help="sort categories by training frequency (Fig 5a) or by dense AP (Figs 5b/5c)")
    parser.add_argument("--name", required=True, help="table and figure title, e.g. the model")
    parser.add_argument("--paper", default="", help="the paper item this is the analog of, e.g. 'Fig 5a'")
    parser.add_argument("--task", default="bbox", help="bbox (default), segm or keypoints")
    parser.add_argument("--train-ann", type=Path, help="COCO annotations of the training split (frequency)")
    parser.add_argument("--prunes", help="comma list of prune percents (default: 80,90 for frequency, "
                        "all for difficulty)")
    parser.add_argument("--top", type=int, default=3, help="K easy and K hard categories (difficulty; default 3)")
    parser.add_argument("--dense", action="append", default=[], metavar="SEED:DIR", help="dense run folder per seed")
    parser.add_argument("--run", action="append", default=[], metavar="PRUNE:SEED:DIR", help="a ticket's run folder")
    for name in ("--csv", "--markdown", "--figure"):
        parser.add_argument(name, required=True, type=Path)
    args = parser.parse_args(argv)
    title = common.title(args.name, args.paper)
    try:
        text = args.prunes if args.prunes is not None else ("80,90" if args.by == "frequency" else "")
        try:
            prunes = [float(p) for p in text.split(",") if p.strip()]
        except ValueError:
            raise ValueError(f"--prunes {text!r} is not a comma list of numbers: give e.g. --prunes 80,90") from None
        if args.by == "frequency" and args.train_ann is None:
            raise ValueError("--by frequency needs --train-ann: give the COCO annotation file of the training split")
        counts = train_instances(args.train_ann) if args.by == "frequency" else {}
        dense, runs = load([common.parse_dense(d) for d in args.dense], [parse_run(r) for r in args.run])
        frame, left = records(dense, runs, args.task, prunes)
        summary = frequency_table(frame, counts) if args.by == "frequency" else difficulty_table(frame, args.top)
        text = markdown(summary, title, left)
        fig = figure(frame, summary, title)  # made before any write: a failure leaves nothing behind
    except (ValueError, FileNotFoundError) as err:
        print("error: " + " ".join(str(err).split()), file=sys.stderr)
        return 2
    plots.write_outputs(summary, text, fig, args.csv, args.markdown, args.figure)
    return 0


if __name__ == "__main__":
    sys.exit(main())
