"""Fig 2c: where global pruning prunes, the pruned percentage of each backbone layer.

Runs are ``--run -:PRUNE:SEED:DIR`` with DIR holding the mask's ``mask.json`` (its sparsity
report); there is no dense run. The table has one row per backbone layer (Base and Top modules) in
network order with the percent of its weights pruned at each prune percent (mean over seeds); the
figure draws those percentages against the layer, one line per prune percent. The paper sees the
lower layers pruned less than the upper ones under global pruning.
"""
from __future__ import annotations

import pandas as pd

from lthsteps.ablations import common, plots

NEEDS_DENSE = False
VALUE = "'-' (unused); DIR holds mask.json; no --dense"
BACKBONE = ("backbone_base", "backbone_top")


def parse_value(text: str, where: str) -> str:
    if text != "-":
        raise ValueError(f"{where}: layer_sparsity takes no VALUE: write '-' (e.g. --run -:80:0:DIR)")
    return text


def backbone_layers(report: dict) -> list[tuple[str, dict]]:
    """The Base and Top layers of a sparsity report, in its (network) order."""
    return [(name, info) for name, info in report.get("layers", {}).items() if info.get("group") in BACKBONE]


def load(runs: list[common.Run]) -> pd.DataFrame:
    """One row per (run, backbone layer): its numel and pruned percent."""
    common.check_runs(runs)
    rows, first = [], None
    for run in runs:
        layers = backbone_layers(common.read_json(run.dir / "mask.json"))
        names = [name for name, _ in layers]
        if not names:
            raise ValueError(f"{run.dir}/mask.json lists no backbone layer: give masks that prune the backbone")
        first = first or (run.dir, names)
        if names != first[1]:
            raise ValueError(f"{run.dir}/mask.json and {first[0]}/mask.json list different backbone layers: "
                             "give masks of the same model")
        rows += [{"prune_percent": run.prune, "seed": run.seed, "index": i, "layer": name, "group": info["group"],
                  "numel": info["numel"], "pruned_percent": 100 * info["pruned"] / info["numel"]}
                 for i, (name, info) in enumerate(layers)]
    return pd.DataFrame(rows)


def table(recs: pd.DataFrame, dense: pd.DataFrame | None = None) -> pd.DataFrame:
    out = recs.pivot_table(index=["index", "layer", "group", "numel"], columns="prune_percent",
                           values="pruned_percent", aggfunc="mean")
    out.columns = [f"pruned_percent_at_{p:g}" for p in out.columns]
    return out.reset_index().sort_values("index").drop(columns="index").reset_index(drop=True)


def markdown(table: pd.DataFrame, title: str) -> str:
    out = pd.DataFrame({"Layer": table.layer, "Group": table.group, "Numel": table.numel})
    for col in [c for c in table if c.startswith("pruned_percent_at_")]:
        out[f"pruned % at {col.removeprefix('pruned_percent_at_')}%"] = table[col].map(lambda v: f"{v:.2f}")
    return common.markdown(out, title)


def short(name: str) -> str:
    for prefix in ("backbone.", "roi_head.shared_head."):
        name = name.removeprefix(prefix)
    return name.removesuffix(".weight")


def figure(recs: pd.DataFrame, dense: pd.DataFrame | None, title: str):
    names = table(recs).layer
    fig, (ax,) = plots.new_figure(width=max(5.0, 0.28 * len(names)), height=4.2)
    plots.lines(ax, recs, "index", "pruned_percent")
    ax.set_xticks(range(len(names)), [short(n) for n in names], rotation=90, fontsize=6)
    ax.set(xlabel="backbone layer (network order)", ylabel="weights pruned (%)", title=title)
    ax.title.set_fontsize(9)
    ax.legend(fontsize=8, title="prune", title_fontsize=8)
    return fig
