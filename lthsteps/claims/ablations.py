"""Claims of the §4.3 ablations (Fig 2b, Table 3, Fig 2f, Fig 2d, Fig 2e) of a direct-pruning ticket.

Each reads the ``ablations`` entries of one ``setting`` (their tables: ``lthsteps.ablations``, one row per
prune percent and value, the dense row first with the value empty). The metric is every task mAP the
table has (VOC mAP on VOC data, as the paper's Fig 2).
"""
from __future__ import annotations

import math

from lthsteps.claims.core import (
    Collector, Finding, FAILS, HOLDS, claim, compare, conclude, dense_row, entry_ref, noise_of, num, one_row, point,
    section, task_metrics,
)

SECTION = "ablations"
IOU_BOUND = 0.9
EARLY_FRACTION = 0.5
SCOPE_SPARSITY = 60.0


def _ablations(config, setting: str) -> dict:
    return {n: e for n, e in section(config, SECTION).items() if e.get("setting") == setting}


def _needs(setting: str, what: str = "") -> str:
    return f"needs an ablations entry with setting: {setting}" + (f" ({what})" if what else "")


@claim("late_resetting_not_needed",
       "Late resetting is not needed with ImageNet-initialised backbones: rewinding to iteration 0 does as well "
       "as rewinding to the configured rewind point",
       "§4.3 (Fig 2b); §5")
def late_resetting_not_needed(config, results, noise, made):
    """§4.3, Effect of Early/Late Resetting: "resetting during the earlier or even mid stages of training
    does not have a very strong effect on the final mAP. This is likely because the backbones of detection
    networks are initialized with ImageNet weights [...] Therefore, the weights are more stable and late
    resetting is not necessary." §5: "due to the use of pretrained weights from ImageNet for the backbone of
    detection networks, late resetting is not necessary for finding winning tickets."

    Reads ``ablations`` entries with ``setting: rewind_iter`` that have the value 0. Per prune percent and
    task mAP: the ticket rewound to iteration 0 ``not_below`` the ticket rewound to the experiment model's
    ``rewind_iter`` (0 − configured ≥ −noise) — the row of that value when the ablation has it, else the
    experiment's own table at that prune percent (named). Noise: seed std where both have ≥ 2 seeds, else
    ``--noise``.
    """
    got = Collector()
    for name, entry in _ablations(config, "rewind_iter").items():
        if 0 not in [int(v) for v in entry.get("values", [])]:
            continue
        exp = entry["experiment"]
        own = int(config["models"][config["experiments"][exp]["model"]]["rewind_iter"])
        if own == 0:
            got.notes.append(f"{name}: the model's rewind point is 0 itself, nothing to compare")
            continue
        table = results.table(name, ("prune_percent", "rewind_iter", "seeds"))
        got.entries.append(entry_ref(SECTION, name))
        for prune in sorted(set(table.prune_percent[table.prune_percent > 0])):
            zero = one_row(table, name, prune_percent=prune, rewind_iter=0.0)
            ref = one_row(table, name, prune_percent=prune, rewind_iter=float(own))
            where = f"iteration {own}"
            if ref is None:
                ref = one_row(results.table(exp, ("prune_percent", "seeds")), exp, prune_percent=prune)
                got.entries.append(entry_ref("experiments", exp))
                where = f"iteration {own} ({exp}'s table)"
            if zero is None or ref is None:
                continue
            for metric in task_metrics(table):
                a, b = point(zero, metric), point(ref, metric)
                level, rule = noise_of([a, b], noise)
                got.add(compare(f"{name} {prune:g}% {metric}", "not_below", a.mean, b.mean, level, rule,
                                "rewind to 0", f"rewind to {where}"))
    return conclude(made, got.findings, got.entries, noise, got.notes,
                    needs=_needs("rewind_iter", "with value 0 and a model rewind_iter above 0"))


HEADS = ("rpn", "box_head")


@claim("prune_heads_not_backbone_top",
       "Pruning only the small RPN and box head modules keeps the dense mAP; every combination that prunes the "
       "backbone's top loses mAP",
       "§4.3 (Table 3)")
def prune_heads_not_backbone_top(config, results, noise, made):
    """§4.3, Pruning different Faster-RCNN modules (Table 3): "Pruning the Box and Classification head
    [...] outperforms the baseline case of no pruning [...] pruning the RPN module increases the
    performance slightly [...] Pruning the Base module alone, excluding the Top module, performs nearly as
    well as the baseline, while including the Top module yields a lower mAP."

    Reads ``ablations`` entries with ``setting: modules``. Part 1, every row pruning only ``rpn`` and/or
    ``box_head``: ``not_below`` (row − dense ≥ −noise). Part 2, every row pruning ``backbone_top``:
    ``beats`` (dense − row > noise). Rows pruning ``backbone_base`` without the top are not judged (the
    paper: "nearly as well"). Noise: seed std where both have ≥ 2 seeds, else ``--noise``.
    """
    got = Collector()
    for name in _ablations(config, "modules"):
        table = results.table(name, ("modules", "prune_percent", "seeds"))
        got.entries.append(entry_ref(SECTION, name))
        dense = dense_row(table, name)
        for _, row in table[table.prune_percent > 0].iterrows():
            pruned = str(row.modules).split("+")
            heads_only = set(pruned) <= set(HEADS)
            if not heads_only and "backbone_top" not in pruned:
                continue
            for metric in task_metrics(table):
                r, d = point(row, metric), point(dense, metric)
                level, rule = noise_of([r, d], noise)
                label = f"{name} {row.modules} {row.prune_percent:g}% {metric}"
                if heads_only:
                    got.add(compare(label, "not_below", r.mean, d.mean, level, rule, "pruned", "dense"))
                else:
                    got.add(compare(label, "beats", d.mean, r.mean, level, rule, "dense", "pruned"))
    return conclude(made, got.findings, got.entries, noise, got.notes, needs=_needs("modules"))


@claim("early_bird_masks",
       "Early-bird masks are stable by mid-training: the mask drawn at 50% of training overlaps the final one "
       f"(IoU >= {IOU_BOUND:g}) and its ticket keeps the final ticket's mAP",
       "§4.3 (Fig 2f)")
def early_bird_masks(config, results, noise, made):
    """§4.3, Performance of Early-bird tickets: "We see that within 50% of network training we find tickets
    whose performance is within a standard deviation of the performance of the default ticket (obtained at
    the end of training). This is because the IoU becomes more or less stable at around 0.96 during the
    middle stages of training".

    Reads ``ablations`` entries with ``setting: early_bird``: the mask drawn at 50% of training (or the
    latest fraction before it, named), per prune percent. Holds when its IoU with the end-of-training mask
    (the table's ``iou``, mean over seeds) is ≥ 0.9 — a fixed bound, no noise — and its ticket is
    ``not_below`` the end-of-training ticket (fraction 1; the experiment's own table when the ablation has
    no fraction 1, named) in every task mAP (early − final ≥ −noise; seed std where both have ≥ 2 seeds,
    else ``--noise``).
    """
    got = Collector()
    for name, entry in _ablations(config, "early_bird").items():
        fractions = sorted(float(v) for v in entry.get("values", []) if 0 < float(v) <= EARLY_FRACTION + 1e-9)
        if not fractions:
            continue
        fraction = fractions[-1]
        exp = entry["experiment"]
        table = results.table(name, ("prune_percent", "fraction", "seeds", "iou_mean"))
        got.entries.append(entry_ref(SECTION, name))
        for prune in sorted(set(table.prune_percent[table.prune_percent > 0])):
            early = one_row(table, name, prune_percent=prune, fraction=fraction)
            final = one_row(table, name, prune_percent=prune, fraction=1.0)
            final_name = "final ticket"
            if final is None:
                final = one_row(results.table(exp, ("prune_percent", "seeds")), exp, prune_percent=prune)
                got.entries.append(entry_ref("experiments", exp))
                final_name = f"final ticket ({exp}'s table)"
            if early is None or final is None:
                continue
            iou = float(early.iou_mean)
            ok = math.isfinite(iou) and iou >= IOU_BOUND
            got.add(Finding(f"{name} {prune:g}% IoU at {fraction:g}", HOLDS if ok else FAILS,
                            f"{name} {prune:g}%: mask IoU at {fraction:g} of training {num(iou, 3)} "
                            f"({'>=' if ok else '<'} {IOU_BOUND:g})",
                            {"iou": round(iou, 4) if math.isfinite(iou) else None, "bound": IOU_BOUND,
                             "verdict": HOLDS if ok else FAILS},
                            "iou", iou - IOU_BOUND if math.isfinite(iou) else -1.0))
            for metric in task_metrics(table):
                a, b = point(early, metric), point(final, metric)
                level, rule = noise_of([a, b], noise)
                got.add(compare(f"{name} {prune:g}% {metric} at {fraction:g}", "not_below", a.mean, b.mean, level,
                                rule, f"early-bird {fraction:g}", final_name))
        if fraction < EARLY_FRACTION - 1e-9:
            got.notes.append(f"{name} has no mask at {EARLY_FRACTION:g}: the one at {fraction:g} is checked")
    return conclude(made, got.findings, got.entries, noise, got.notes,
                    rules={"iou": f"mask IoU: a fixed bound >= {IOU_BOUND:g}, no noise"},
                    needs=_needs("early_bird", f"with a fraction <= {EARLY_FRACTION:g}"))


@claim("one_shot_beats_iterative",
       "One-shot pruning beats iterative pruning (more rounds) at the same prune percent",
       "§4.3 (Fig 2d); §5")
def one_shot_beats_iterative(config, results, noise, made):
    """§4.3, Effect of number of rounds of pruning: "[12] states that iterative pruning performs better than
    one-shot pruning [...] We show that this does not necessarily hold true for detection tasks [...] and
    observe that one-shot pruning outperforms iterative methods in Fig. 2d." §5: "iterative pruning
    degrades the performance of subnetworks on detection tasks and one-shot pruning provides the best
    networks."

    Reads ``ablations`` entries with ``setting: rounds`` whose values include 1 and a larger number. Per
    prune percent, number of rounds k > 1 and task mAP: ``beats`` (1 round − k rounds > noise). Noise:
    seed std where both have ≥ 2 seeds, else ``--noise``.
    """
    got = Collector()
    for name, entry in _ablations(config, "rounds").items():
        values = sorted(int(v) for v in entry.get("values", []))
        if 1 not in values or values[-1] < 2:
            continue
        table = results.table(name, ("prune_percent", "rounds", "seeds"))
        got.entries.append(entry_ref(SECTION, name))
        for prune in sorted(set(table.prune_percent[table.prune_percent > 0])):
            one = one_row(table, name, prune_percent=prune, rounds=1.0)
            if one is None:
                continue
            for k in [v for v in values if v > 1]:
                more = one_row(table, name, prune_percent=prune, rounds=float(k))
                if more is None:
                    continue
                for metric in task_metrics(table):
                    a, b = point(one, metric), point(more, metric)
                    level, rule = noise_of([a, b], noise)
                    got.add(compare(f"{name} {prune:g}% {metric} 1 vs {k} rounds", "beats", a.mean, b.mean, level,
                                    rule, "one-shot", f"{k} rounds"))
    return conclude(made, got.findings, got.entries, noise, got.notes,
                    needs=_needs("rounds", "with values 1 and more"))


@claim("global_beats_layerwise",
       f"Layer-wise pruning does as well as global pruning at low sparsity, global beats it above "
       f"~{SCOPE_SPARSITY:g}% network sparsity",
       "§4.3 (Fig 2e, Fig 2c)")
def global_beats_layerwise(config, results, noise, made):
    """§4.3, Layer-wise vs. global pruning: "Layer-wise pruning does as good as global pruning for lower
    levels of sparsity. However, there is a noticeable performance gap for sparsity levels above 60%."

    Reads ``ablations`` entries with ``setting: scope`` whose values include ``global`` and ``layerwise``.
    Per prune percent and task mAP, by the global ticket's network sparsity: above 60%, ``beats`` (global
    − layer-wise > noise); at or below, ``approx`` (|global − layer-wise| ≤ noise). Noise: seed std where
    both have ≥ 2 seeds, else ``--noise``.
    """
    got = Collector()
    for name, entry in _ablations(config, "scope").items():
        if not {"global", "layerwise"} <= set(entry.get("values", [])):
            continue
        table = results.table(name, ("prune_percent", "scope", "seeds", "network_sparsity_mean"))
        got.entries.append(entry_ref(SECTION, name))
        for prune in sorted(set(table.prune_percent[table.prune_percent > 0])):
            glob = one_row(table, name, prune_percent=prune, scope="global")
            layer = one_row(table, name, prune_percent=prune, scope="layerwise")
            if glob is None or layer is None:
                continue
            sparse = float(glob.network_sparsity_mean)
            high = sparse > SCOPE_SPARSITY
            for metric in task_metrics(table):
                a, b = point(glob, metric), point(layer, metric)
                level, rule = noise_of([a, b], noise)
                got.add(compare(f"{name} {prune:g}% ({sparse:.1f}% sparse) {metric}", "beats" if high else "approx",
                                a.mean, b.mean, level, rule, "global", "layer-wise"))
    return conclude(made, got.findings, got.entries, noise, got.notes,
                    needs=_needs("scope", "with values global and layerwise"))
