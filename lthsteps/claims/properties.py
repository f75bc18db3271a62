"""Claims on how tickets differ from their dense model by object size and category (§4.4, Figs 4, 5).

These analyses give each size or category's change as a percent of its dense AP, ``100 × (AP_ticket −
AP_dense) / AP_dense`` (tables of ``lthsteps.object_size`` / ``lthsteps.category_change``). Their noise
is in the same unit: with ≥ 2 seeds the table's ``change_std``; otherwise the ``--noise`` threshold in
mAP points as a percent of each dense AP (``100 × noise / AP_dense``: a category whose dense AP is 1.4
has a noise of 71% at 1 point), combined in quadrature — for a mean over k categories,
sqrt(Σ n_i²) / k — and for a difference of two such numbers, sqrt(n_A² + n_B²).
"""
from __future__ import annotations

import math

import pandas as pd

from lthsteps.claims.core import Collector, claim, compare, conclude, entry_ref, section

SECTION = "analyses"
PCT_SEEDS, PCT_THRESHOLD = "pct_seeds", "pct_threshold"
RULES = {
    PCT_SEEDS: "seed std of the % changes (the tables' change_std, >= 2 seeds), combined in quadrature",
    PCT_THRESHOLD: "--noise {noise:g} mAP points as a percent of each dense AP (100 x noise / AP_dense), "
                   "combined in quadrature",
}
CHANGE = ("prune_percent", "seeds", "dense_ap_mean", "change_mean", "change_std")


def _analyses(config, kind: str) -> dict:
    return {n: e for n, e in section(config, SECTION).items() if e.get("analysis") == kind}


def item_noise(rows: pd.DataFrame, threshold: float) -> tuple[list[float], str]:
    """Per row the noise of its % change, and the rule used (seed std only if every row has it)."""
    if len(rows) and (rows.seeds >= 2).all() and rows.change_std.notna().all():
        return [float(s) for s in rows.change_std], PCT_SEEDS
    return [100 * threshold / float(d) if d > 0 else math.inf for d in rows.dense_ap_mean], PCT_THRESHOLD


def mean_change(rows: pd.DataFrame, threshold: float) -> tuple[float, float, str]:
    """Mean % change of the rows and its noise (sqrt(Σ n_i²) / k)."""
    noises, rule = item_noise(rows, threshold)
    return float(rows.change_mean.mean()), math.sqrt(sum(n * n for n in noises)) / len(rows), rule


def _highest(table: pd.DataFrame) -> pd.DataFrame:
    top = table.prune_percent.max()
    return table[(table.prune_percent - top).abs() < 1e-6]


@claim("small_and_rare_lose_most",
       "At high sparsity small objects lose most of the object sizes, and rare categories lose more than "
       "frequent ones",
       "§4.4 (Fig 4, Fig 5a); §5")
def small_and_rare_lose_most(config, results, noise, made):
    """§4.4: "We should also note that the percentage drop for small boxes is more, with winning tickets
    (10% of weights) showing a drop of over 17% in case of detection and segmentation tasks" (Fig 4
    caption: "After which, small objects are hit slightly harder as compared to medium and large
    objects"); on Fig 5a: "performance drops sharply with more pruning in case of rare categories [...] as
    compared to more common categories". §5: "small and infrequent objects face higher performance drop as
    the sparsity increases."

    Part 1, ``analyses`` entries with ``analysis: object_size``: at the table's highest prune percent, for
    every task with a small bucket (COCO's keypoint AP has none), the small bucket's % change is below
    each other bucket's: ``beats`` (other − small > noise). Part 2, ``analysis: category_frequency``: at
    the highest prune percent, categories sorted by training instances (those without a defined change
    left out, as in the table), the mean % change of the rarest third (n // 3 categories) below that of
    the most frequent third: ``beats`` (frequent − rare > noise). Noise: the module's rule for % changes.
    """
    got = Collector()
    for name in _analyses(config, "object_size"):
        table = results.table(name, ("task", "bucket", *CHANGE))
        got.entries.append(entry_ref(SECTION, name))
        top = _highest(table[table.change_mean.notna()])
        for task in dict.fromkeys(top.task):
            rows = top[top.task == task].set_index("bucket")
            if "small" not in rows.index:
                continue
            for bucket in [b for b in rows.index if b != "small"]:
                pair = rows.loc[["small", bucket]].reset_index()
                noises, rule = item_noise(pair, noise)
                got.add(compare(f"{name} {task} {rows.prune_percent.iloc[0]:g}% {bucket} vs small", "beats",
                                float(rows.loc[bucket, "change_mean"]), float(rows.loc["small", "change_mean"]),
                                math.hypot(*noises), rule, bucket, "small", unit="pp"))
    for name in _analyses(config, "category_frequency"):
        table = results.table(name, ("category", "train_instances", *CHANGE))
        got.entries.append(entry_ref(SECTION, name))
        top = _highest(table[table.change_mean.notna()]).sort_values(["train_instances", "category"])
        k = len(top) // 3
        if k == 0:
            got.notes.append(f"{name}: fewer than 3 categories with a defined change")
            continue
        rare, frequent = top.iloc[:k], top.iloc[-k:]
        (mr, nr, rule), (mf, nf, _) = mean_change(rare, noise), mean_change(frequent, noise)
        found = compare(f"{name} {top.prune_percent.iloc[0]:g}% frequent vs rare third", "beats", mf, mr,
                        math.hypot(nr, nf), rule, f"most frequent {k}", f"rarest {k}", unit="pp")
        found.numbers.update(rare=list(rare.category), frequent=list(frequent.category))
        got.add(found)
    return conclude(made, got.findings, got.entries, noise, got.notes, rules=RULES,
                    needs="needs an analyses entry with analysis: object_size or category_frequency")


@claim("hard_categories_lose_most",
       "With increased sparsity, mAP falls more for hard categories (lowest dense AP) than for easy ones",
       "§4.4 (Fig 5b, Fig 5c)")
def hard_categories_lose_most(config, results, noise, made):
    """§4.4, easy vs hard categories: "From the Figure 5(b) and (c), we make the following observations —
    (i) with increased sparsity, mAP falls more for hard categories".

    Reads ``analyses`` entries with ``analysis: category_difficulty``: at the table's highest prune
    percent, the mean % change of the easy group (the ``top`` categories of highest dense AP) against that
    of the hard group: ``beats`` (easy − hard > noise). Noise: the module's rule for % changes.
    """
    got = Collector()
    for name, entry in _analyses(config, "category_difficulty").items():
        table = results.table(name, ("group", "category", *CHANGE))
        got.entries.append(entry_ref(SECTION, name))
        top = _highest(table[table.change_mean.notna()])
        easy, hard = top[top.group == "easy"], top[top.group == "hard"]
        if not len(easy) or not len(hard):
            got.notes.append(f"{name}: no easy or no hard category with a defined change")
            continue
        (me, ne, rule), (mh, nh, _) = mean_change(easy, noise), mean_change(hard, noise)
        found = compare(f"{name} {entry.get('task', 'bbox')} {top.prune_percent.iloc[0]:g}% easy vs hard", "beats",
                        me, mh, math.hypot(ne, nh), rule, "easy", "hard", unit="pp")
        found.numbers.update(easy=list(easy.category), hard=list(hard.category))
        got.add(found)
    return conclude(made, got.findings, got.entries, noise, got.notes, rules=RULES,
                    needs="needs an analyses entry with analysis: category_difficulty")
