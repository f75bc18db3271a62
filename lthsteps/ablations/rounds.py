"""Fig 2d: iterative vs one-shot pruning, the ticket's mAP against the number of pruning rounds.

VALUE = the number of rounds that reach the prune percent (1 = one-shot). The table gives mean ±
std over seeds and the measured network sparsity per prune percent and rounds, dense first; the
figure draws one line per prune percent (band = ±1 std) against the rounds, the dense model
dashed. The paper finds one-shot best on detection, unlike iterative pruning on small classifiers.
"""
from __future__ import annotations

import pandas as pd
from matplotlib.ticker import MaxNLocator

from lthsteps.ablations import common, plots

NEEDS_DENSE = True
VALUE = "the number of pruning rounds, an integer >= 1 (1 = one-shot)"
load = common.records


def parse_value(text: str, where: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise ValueError(f"{where}: VALUE {text!r} is not a number of pruning rounds: give an integer >= 1")
    return int(text)


def table(recs: pd.DataFrame, dense: pd.DataFrame) -> pd.DataFrame:
    return common.sweep_table(recs, dense, "rounds", ["prune_percent", "rounds"])


def markdown(table: pd.DataFrame, title: str) -> str:
    return common.sweep_markdown(table, title, [("prune_percent", "Prune %", common.prune_label),
                                                ("rounds", "Rounds", lambda v: f"{v:.0f}")])


def figure(recs: pd.DataFrame, dense: pd.DataFrame, title: str):
    metric = common.headline(recs, dense)
    fig, (ax,) = plots.new_figure()
    plots.lines(ax, recs, "value", metric)
    plots.dense_line(ax, dense, metric)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # rounds are counts
    ax.set(xlabel="pruning rounds (1 = one-shot)", ylabel=f"{metric} (%)", title=title)
    ax.title.set_fontsize(9)
    ax.legend(fontsize=8, title="prune", title_fontsize=8)
    return fig
