"""Fig 2b: late resetting, the ticket's mAP against the iteration its weights are rewound to.

VALUE = the rewind iteration (0 = the initialisation). The table gives mean ± std over seeds per
prune percent and rewind iteration, dense first; the figure draws one line per prune percent
(band = ±1 std) against the rewind iteration, the dense model dashed. The paper finds early and
mid rewinding about equal (ImageNet-initialised backbones are stable) and a sharp drop when the
rewind point passes the learning-rate decay.
"""
from __future__ import annotations

import pandas as pd

from lthsteps.ablations import common, plots

NEEDS_DENSE = True
VALUE = "the rewind iteration, an integer >= 0"
load = common.records


def parse_value(text: str, where: str) -> int:
    if not text.isdigit():
        raise ValueError(f"{where}: VALUE {text!r} is not a rewind iteration: give an integer >= 0, e.g. 600")
    return int(text)


def table(recs: pd.DataFrame, dense: pd.DataFrame) -> pd.DataFrame:
    return common.sweep_table(recs, dense, "rewind_iter", ["prune_percent", "rewind_iter"])


def markdown(table: pd.DataFrame, title: str) -> str:
    return common.sweep_markdown(table, title, [("prune_percent", "Prune %", common.prune_label),
                                                ("rewind_iter", "Rewind iteration", lambda v: f"{v:.0f}")])


def figure(recs: pd.DataFrame, dense: pd.DataFrame, title: str):
    metric = common.headline(recs, dense)
    fig, (ax,) = plots.new_figure()
    plots.lines(ax, recs, "value", metric)
    plots.dense_line(ax, dense, metric)
    ax.set(xlabel="rewind iteration", ylabel=f"{metric} (%)", title=title)
    ax.title.set_fontsize(9)
    ax.legend(fontsize=8, title="prune", title_fontsize=8)
    return fig
