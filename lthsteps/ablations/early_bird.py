"""Fig 2f: early-bird tickets, masks drawn part-way through training.

VALUE = the fraction of training the mask was drawn at, in (0, 1]; DIR is the ticket trained from
that mask and holds the mask as ``mask.npz``. Fraction 1.0 is the default ticket (mask drawn at the
end of training) and must be given for every prune percent and seed. The table gives per prune
percent and fraction the IoU of the mask's pruned weights with the default ticket's (same prune,
same seed; 1 for 1.0) and the ticket's mAP, mean ± std over seeds, dense first. The figure shows
(a) mAP against the fraction, the default ticket as a shaded band and the dense model dashed, and
(b) the IoU against the fraction. The paper finds tickets within a std of the default from ~50% of
training, where the IoU settles near 0.96.
"""
from __future__ import annotations

import math

import pandas as pd

from lthsteps.masks import load_masks, mask_iou
from lthsteps.ablations import common, plots

NEEDS_DENSE = True
VALUE = "the fraction of training the mask was drawn at, in (0, 1]; DIR holds mask.npz; 1.0 required"


def parse_value(text: str, where: str) -> float:
    try:
        fraction = float(text)
    except ValueError:
        fraction = math.nan
    if not 0 < fraction <= 1:  # also false for nan
        raise ValueError(f"{where}: VALUE {text!r} is not a fraction of training in (0, 1]: give e.g. 0.5 "
                         "(1.0 = the default ticket)")
    return fraction


def load(runs: list[common.Run]) -> pd.DataFrame:
    """Run records with ``iou``: the run's mask against its prune & seed's fraction-1.0 mask."""
    recs = common.records(runs)
    default = {(r.prune, r.seed): r.dir for r in runs if r.value == 1.0}
    masks: dict = {}  # each default mask is compared with several fractions: read it once

    def read(run_dir):
        if run_dir not in masks:
            masks[run_dir] = load_masks(run_dir / "mask.npz")[0]
        return masks[run_dir]

    ious = []
    for run in runs:
        ref = default.get((run.prune, run.seed))
        if ref is None:
            raise ValueError(f"no default ticket (fraction 1.0) for prune {run.prune:g}%, seed {run.seed}: add "
                             f"--run 1.0:{run.prune:g}:{run.seed}:DIR, the ticket of the end-of-training mask")
        ious.append(mask_iou(read(run.dir), read(ref)))
    return recs.assign(iou=ious)


def table(recs: pd.DataFrame, dense: pd.DataFrame) -> pd.DataFrame:
    return common.sweep_table(recs, dense, "fraction", ["prune_percent", "fraction"], extra=("iou",))


def markdown(table: pd.DataFrame, title: str) -> str:
    table = table.assign(iou_text=[common.pm(m, s, 4) for m, s in zip(table.iou_mean, table.iou_std)])
    return common.sweep_markdown(table, title, [("prune_percent", "Prune %", common.prune_label),
                                                ("fraction", "Fraction of training", _fraction),
                                                ("iou_text", "Mask IoU", str)])


def _fraction(v: float) -> str:
    return "1 (default)" if v == 1 else f"{v:g}"


def figure(recs: pd.DataFrame, dense: pd.DataFrame, title: str):
    import seaborn as sns

    metric = common.headline(recs, dense)
    fig, (ax, ax_iou) = plots.new_figure(cols=2, width=4.6)
    plots.lines(ax, recs, "value", metric)
    for color, (prune, runs) in zip(sns.color_palette(), recs.groupby("prune_percent")):
        ref = runs[runs.value == 1.0][metric]  # the default ticket's spread, to read "within a std" off
        std = ref.std() if len(ref) > 1 else 0.0
        ax.axhline(ref.mean(), color=color, ls=":", lw=1)
        ax.axhspan(ref.mean() - std, ref.mean() + std, color=color, alpha=0.12)
    plots.dense_line(ax, dense, metric)
    ax.set(xlabel="fraction of training at mask draw", ylabel=f"{metric} (%)", title="(a) ticket performance")
    ax.legend(fontsize=8, title="prune", title_fontsize=8)
    plots.lines(ax_iou, recs, "value", "iou")
    ax_iou.set(xlabel="fraction of training at mask draw", ylabel="mask IoU with default ticket",
               title="(b) mask IoU")
    ax_iou.legend(fontsize=8, title="prune", title_fontsize=8)
    fig.suptitle(title, fontsize=9)
    return fig
