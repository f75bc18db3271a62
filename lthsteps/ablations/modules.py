"""Table 3: pruning each module of the Faster R-CNN (Base, Top, RPN, Box/Cls head) and their combinations.

VALUE = the pruned module groups joined by '+', e.g. ``backbone_base+rpn``. Rows are in the paper's
order (dense first, then the combinations counted in binary with Top as the most significant bit,
then Base, RPN, Box head); "Param %" is the share of the network's parameters in the ticked modules,
"Network sparsity" what the mask actually pruned. Read it as the paper does: a module is worth
pruning when its row keeps the dense mAP (within a std) at the sparsity it adds. The figure puts
each combination at its network sparsity; the dashed line is the dense model (band = ±1 std).
"""
from __future__ import annotations

import pandas as pd

from lthsteps.ablations import common, plots
from lthsteps.plan import TABLE3_MODULES as MODULES

NEEDS_DENSE = True
VALUE = "the pruned modules joined by '+', from backbone_base, backbone_top, rpn, box_head"
SHORT = {"backbone_base": "Base", "backbone_top": "Top", "rpn": "RPN", "box_head": "Box"}
HEADERS = {"backbone_base": "Base", "backbone_top": "Top", "rpn": "RPN", "box_head": "Box, Cls head"}
# The paper's row order (Table 3) counts in binary with these weights.
BITS = {"backbone_top": 8, "backbone_base": 4, "rpn": 2, "box_head": 1}


def parse_value(text: str, where: str) -> str:
    """The canonical '+'-joined module list (so rpn+backbone_base and backbone_base+rpn are one row)."""
    parts = text.split("+")
    unknown = [p for p in parts if p not in MODULES]
    if unknown or len(set(parts)) != len(parts):
        what = f"unknown module {unknown[0]!r}" if unknown else "a module given twice"
        raise ValueError(f"{where}: {what} in VALUE {text!r}: join distinct modules of {', '.join(MODULES)} with '+'")
    return "+".join(m for m in MODULES if m in parts)


def param_percent(train: dict, value: str, where: str) -> float:
    """Percent of the network's parameters in the modules of ``value`` (train.json groups)."""
    groups, total = train.get("groups") or {}, train.get("network", {}).get("params")
    missing = [m for m in value.split("+") if "params" not in groups.get(m, {})]
    if missing or not total:
        raise ValueError(f"{where}/train.json has no parameter count of {missing or 'the network'}: "
                         "re-run its training step with this workflow's train.json")
    return 100 * sum(groups[m]["params"] for m in value.split("+")) / total


def load(runs: list[common.Run]) -> pd.DataFrame:
    recs = common.records(runs)
    recs["param_percent"] = [param_percent(common.read_json(r.dir / "train.json"), r.value, str(r.dir)) for r in runs]
    return recs


def _code(value: str) -> int:
    return sum(BITS[m] for m in value.split("+")) if value else 0


def table(recs: pd.DataFrame, dense: pd.DataFrame) -> pd.DataFrame:
    metric = common.headline(recs, dense)
    columns = ["param_percent", "network_sparsity", *common.metrics(pd.concat([recs, dense]), metric)]
    dense = dense.assign(value="", param_percent=0.0)
    out = common.summarize(pd.concat([dense, recs]), ["value", "prune_percent"], columns)
    out = out.drop(columns="param_percent_std").rename(columns={"param_percent_mean": "param_percent"})
    for m in MODULES:
        out.insert(1 + MODULES.index(m), m, [m in v.split("+") for v in out.value])
    out = out.iloc[sorted(range(len(out)), key=lambda i: (_code(out.value[i]), out.prune_percent[i]))]
    return out.rename(columns={"value": "modules"}).replace({"modules": {"": "dense"}}).reset_index(drop=True)


def markdown(table: pd.DataFrame, title: str) -> str:
    out = pd.DataFrame({HEADERS[m]: table[m].map({True: "✓", False: "-"}) for m in MODULES})
    if table.prune_percent[table.prune_percent > 0].nunique() > 1:  # the paper prunes 20% everywhere
        out["Prune %"] = table.prune_percent.map(common.prune_label)
    out["Param %"] = table.param_percent.map(lambda p: f"{p:.2f}")
    out["Network sparsity"] = table.network_sparsity_mean.map(lambda s: f"{s:.2f}%")
    for name in [c[:-5] for c in table if c.endswith("_mean") and c != "network_sparsity_mean"]:
        out[name] = [common.pm(m, s) for m, s in zip(table[f"{name}_mean"], table[f"{name}_std"])]
    out["Seeds"] = table.seeds.values
    return common.markdown(out, title)


def label(value: str) -> str:
    return "+".join(SHORT[m] for m in MODULES if m in value.split("+"))


def figure(recs: pd.DataFrame, dense: pd.DataFrame, title: str):
    metric = common.headline(recs, dense)
    t = table(recs, dense)
    t = t[t.modules != "dense"]
    fig, (ax,) = plots.new_figure(width=6.4, height=4.2)
    ax.errorbar(t.network_sparsity_mean, t[f"{metric}_mean"], yerr=t[f"{metric}_std"].fillna(0), fmt="o",
                capsize=3, label="pruned modules")
    for _, row in t.iterrows():
        ax.annotate(label(row.modules), (row.network_sparsity_mean, row[f"{metric}_mean"]), fontsize=7,
                    xytext=(3, 3), textcoords="offset points")
    plots.dense_line(ax, dense, metric)
    ax.set(xlabel="network sparsity (%)", ylabel=f"{metric} (%)", title=title)
    ax.title.set_fontsize(9)
    ax.legend(fontsize=8)
    return fig
