"""Fig 2e: layer-wise vs global pruning, the ticket's mAP against network sparsity per scope.

VALUE = the pruning scope: ``global`` (all weights ranked together), ``groupwise`` (per module) or
``layerwise`` (every layer pruned at the same rate). The table gives per scope and prune percent
the measured network sparsity and mean ± std over seeds, dense first; the figure draws one line per
scope (band = ±1 std), the dense model dashed. The paper finds layer-wise pruning falling behind
global above ~60% sparsity, as it prunes the small lower layers as hard as the rest (Fig 2c).
"""
from __future__ import annotations

import pandas as pd

from lthsteps.masks import SCOPES
from lthsteps.ablations import common, plots

NEEDS_DENSE = True
VALUE = "the pruning scope: global, groupwise or layerwise"
load = common.records


def parse_value(text: str, where: str) -> str:
    if text not in SCOPES:
        raise ValueError(f"{where}: VALUE {text!r} is not a pruning scope: give one of {', '.join(SCOPES)}")
    return text


def table(recs: pd.DataFrame, dense: pd.DataFrame) -> pd.DataFrame:
    out = common.sweep_table(recs, dense, "scope", ["scope", "prune_percent"])
    rank = {s: i for i, s in enumerate(SCOPES)}  # the scopes' own order, not the alphabet's
    return out.sort_values(["scope", "prune_percent"], key=lambda c: c.map(rank) if c.name == "scope" else c,
                           na_position="first", kind="stable").reset_index(drop=True)


def markdown(table: pd.DataFrame, title: str) -> str:
    return common.sweep_markdown(table, title, [("scope", "Scope", str),
                                                ("prune_percent", "Prune %", common.prune_label)])


def figure(recs: pd.DataFrame, dense: pd.DataFrame, title: str):
    metric = common.headline(recs, dense)
    # x = the mean sparsity of each (scope, prune) so seeds pool into one point with a std band.
    recs = recs.assign(network_sparsity=recs.groupby(["value", "prune_percent"]).network_sparsity.transform("mean"))
    recs = recs.sort_values("value", key=lambda v: v.map(list(SCOPES).index), kind="stable")  # legend in SCOPES order
    fig, (ax,) = plots.new_figure()
    plots.lines(ax, recs, "network_sparsity", metric, hue="value")
    plots.dense_line(ax, dense, metric)
    ax.set(xlabel="network sparsity (%)", ylabel=f"{metric} (%)", title=title)
    ax.title.set_fontsize(9)
    ax.legend(fontsize=8, title="scope", title_fontsize=8)
    return fig
