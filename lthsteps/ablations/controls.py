"""Lottery-ticket controls (the standard sanity checks the paper does not report).

VALUE = the arm: ``ticket`` (the winning-ticket candidate: its mask and its rewound weights),
``random_mask`` (a random mask with the ticket's per-layer pruned counts, same weights) or
``reinit`` (the ticket's mask on freshly initialised weights). Every prune percent needs the ticket
and the same control arms. The table gives per prune percent the ticket's network sparsity, the
dense model and each arm's mAP (mean ± std over seeds) and "Winning ticket" = yes when the ticket's
mean beats every control's mean: only then does the mask-and-weights pairing, not the sparsity
pattern alone, explain the ticket. The figure draws each arm against the prune percent, dense dashed.
"""
from __future__ import annotations

import pandas as pd

from lthsteps.ablations import common, plots

NEEDS_DENSE = True
VALUE = "the arm: ticket, random_mask or reinit"
ARMS = ("ticket", "random_mask", "reinit")
HEADERS = {"ticket": "Ticket", "random_mask": "Random mask", "reinit": "Re-init"}


def parse_value(text: str, where: str) -> str:
    if text not in ARMS:
        raise ValueError(f"{where}: VALUE {text!r} is not a control arm: give one of {', '.join(ARMS)}")
    return text


def load(runs: list[common.Run]) -> pd.DataFrame:
    """Run records, checked: the ticket and the same control arms at every prune percent."""
    recs = common.records(runs)
    arms = {p: set(group.value) for p, group in recs.groupby("prune_percent")}
    every = set(recs.value)
    for prune, have in arms.items():
        if have != every:
            raise ValueError(f"prune {prune:g}% lacks arm(s) {sorted(every - have)} that other prune percents have: "
                             "add those runs or drop those arms")
    if "ticket" not in every or every == {"ticket"}:
        raise ValueError("controls need the ticket and at least one control arm (random_mask, reinit): add their runs")
    return recs


def table(recs: pd.DataFrame, dense: pd.DataFrame) -> pd.DataFrame:
    metric = common.headline(recs, dense)
    cells = common.summarize(recs, ["prune_percent", "value"], ["network_sparsity", metric])
    out = cells[cells.value == "ticket"][["prune_percent", "network_sparsity_mean"]].reset_index(drop=True)
    out["dense_mean"], out["dense_std"] = dense[metric].mean(), dense[metric].std()
    for arm in [a for a in ARMS if a in set(recs.value)]:
        arm_cells = cells[cells.value == arm].set_index("prune_percent")
        out[f"{arm}_mean"] = out.prune_percent.map(arm_cells[f"{metric}_mean"])
        out[f"{arm}_std"] = out.prune_percent.map(arm_cells[f"{metric}_std"])
    controls = [a for a in ARMS[1:] if f"{a}_mean" in out]
    out["winning_ticket"] = (out[[f"{a}_mean" for a in controls]].lt(out.ticket_mean, axis=0)).all(axis=1)
    out["seeds"] = out.prune_percent.map(cells[cells.value == "ticket"].set_index("prune_percent").seeds)
    out.attrs["metric"] = metric  # for the Markdown headers
    return out


def markdown(table: pd.DataFrame, title: str) -> str:
    metric = table.attrs.get("metric", "mAP")
    out = pd.DataFrame({"Prune %": table.prune_percent.map(common.prune_label),
                        "Network sparsity": table.network_sparsity_mean.map(lambda s: f"{s:.2f}%")})
    for arm in ("dense", *ARMS):
        if f"{arm}_mean" in table:
            out[f"{HEADERS.get(arm, 'Dense')} {metric}"] = [common.pm(m, s)
                                                            for m, s in zip(table[f"{arm}_mean"], table[f"{arm}_std"])]
    out["Winning ticket"] = table.winning_ticket.map({True: "yes", False: "no"})
    out["Seeds"] = table.seeds.values
    return common.markdown(out, title)


def figure(recs: pd.DataFrame, dense: pd.DataFrame, title: str):
    metric = common.headline(recs, dense)
    fig, (ax,) = plots.new_figure()
    recs = recs.assign(arm=recs.value.map(HEADERS))
    plots.lines(ax, recs.sort_values("value", key=lambda v: v.map(ARMS.index)), "prune_percent", metric, hue="arm")
    plots.dense_line(ax, dense, metric)
    ax.set(xlabel="prune percent", ylabel=f"{metric} (%)", title=title)
    ax.title.set_fontsize(9)
    ax.legend(fontsize=8, title="arm", title_fontsize=8)
    return fig
