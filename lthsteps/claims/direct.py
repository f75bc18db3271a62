"""Claims on direct pruning's tickets (§4.3, Fig 1, Fig 2a; §4.4, Fig 3)."""
from __future__ import annotations

from lthsteps.claims.core import (
    Collector, backbone_depth, claim, compare, conclude, dense_row, entry_ref, noise_of, one_row, point, section,
    task_metrics,
)

SECTION = "experiments"
TARGET = 80.0  # the paper's "80% sparsity" tickets: prune percent 80 (20% of the pruned weights left)
COLUMNS = ("prune_percent", "seeds", "network_sparsity_mean")


@claim("direct_pruning_80",
       "Direct pruning finds tickets with 80% of the weights pruned and no drop against the dense model",
       "§4.3 (Fig 2a, Fig 1); §6")
def direct_pruning_80(config, results, noise, made):
    """§4.3: "We obtain winning tickets with 80% sparsity on all the three tasks while outperforming the
    unpruned network for lower levels of sparsity." Fig 1 caption: "For each of the tasks, we can obtain
    the same performance as the original dense networks with only 20% of the weights." §6: "we can find
    subnetworks or winning tickets in object recognition pipelines with up to 80% sparsity, without any
    drop in performance on the task."

    Reads every ``experiments`` entry: its 80% ticket, or its highest prune percent below 80 (named) when
    it has no 80%; per task mAP ``not_below`` (ticket − dense ≥ −noise: within noise of dense or above).
    An experiment whose every prune percent is above 80 is not compared (named). Noise: seed std where
    both have ≥ 2 seeds, else ``--noise``.
    """
    got = Collector()
    above = []
    for name in section(config, SECTION):
        table = results.table(name, COLUMNS)
        got.entries.append(entry_ref(SECTION, name))
        dense = dense_row(table, name)
        tickets = table[(table.prune_percent > 0) & (table.prune_percent <= TARGET + 1e-9)]
        if not len(tickets):
            above.append(name)
            continue
        row = tickets.sort_values("prune_percent").iloc[-1]
        for metric in task_metrics(table):
            t, d = point(row, metric), point(dense, metric)
            level, rule = noise_of([t, d], noise)
            got.add(compare(f"{name} {row.prune_percent:g}% ({row.network_sparsity_mean:.1f}% sparse) {metric}",
                            "not_below", t.mean, d.mean, level, rule, "ticket", "dense"))
    if above:
        got.notes.append(f"no prune percent <= {TARGET:g} in: " + ", ".join(above))
    return conclude(made, got.findings, got.entries, noise, got.notes,
                    needs=f"needs an experiments entry with a prune percent <= {TARGET:g}")


def _task_kind(table) -> tuple[str, ...]:
    return tuple(task_metrics(table))


def depth_pairs(config, results) -> list[tuple[str, str]]:
    """(ResNet-18 experiment, ResNet-50 experiment) pairs of the same dataset, tasks and strategy; the depth
    is the backbone's in the model's MMDetection config (after its cfg_options)."""
    experiments = section(config, SECTION)
    by_depth: dict[int, list[str]] = {18: [], 50: []}
    for name, entry in experiments.items():
        depth = backbone_depth(config, entry["model"])
        if depth in by_depth:
            by_depth[depth].append(name)

    def key(name):
        entry = experiments[name]
        dataset = config["models"][entry["model"]]["dataset"]
        return dataset, entry["strategy"], _task_kind(results.table(name, COLUMNS))

    return [(a, b) for a in by_depth[18] for b in by_depth[50] if key(a) == key(b)]


@claim("resnet50_holds_resnet18_gains",
       "ResNet-50 tickets hold up longer at the highest sparsity; at lower sparsity ResNet-18 tickets gain more "
       "against their dense model than ResNet-50 ones",
       "§4.4 (Fig 3); §5")
def resnet50_holds_resnet18_gains(config, results, noise, made):
    """§4.4, Effect of backbone architecture: "breaking point for both the networks is approximately at
    80% sparsity, however, performance of ResNet-18 drops more sharply afterwards as compared to
    ResNet-50. [...] As we increase the sparsity of the networks, starting from 10%, mAP values in case of
    both networks increase for all tasks, however, gains for ResNet-18 models are consistently more than
    the gains for ResNet-50." §5: "tickets with fewer parameters such as ResNet-18 show more gains in
    performance as compared to tickets with more parameters (ResNet-50)."

    Reads pairs of ``experiments`` entries of the same dataset, strategy and tasks whose models' backbones
    have depth 18 and 50 (``model.backbone.depth`` of the MMDetection config after ``cfg_options``). Each
    side's change = ticket mAP − its own dense mAP, per task mAP. Part 1, at the highest prune percent both
    have: ``beats`` (R50 change − R18 change > noise). Part 2, at every lower common prune percent:
    ``beats`` (R18 change − R50 change > noise). Noise: seed std of the four means where all have ≥ 2
    seeds, else ``--noise``.
    """
    got = Collector()
    for r18, r50 in depth_pairs(config, results):
        t18, t50 = results.table(r18, COLUMNS), results.table(r50, COLUMNS)
        got.entries += [entry_ref(SECTION, r18), entry_ref(SECTION, r50)]
        d18, d50 = dense_row(t18, r18), dense_row(t50, r50)
        common = sorted(set(t18.prune_percent[t18.prune_percent > 0]) & set(t50.prune_percent[t50.prune_percent > 0]))
        if not common:
            continue
        if len(common) == 1:
            got.notes.append(f"{r18} / {r50}: one common prune percent, no lower one for the gains part")
        for prune in common:
            a, b = one_row(t18, r18, prune_percent=prune), one_row(t50, r50, prune_percent=prune)
            for metric in task_metrics(t18):
                pa, pb, qa, qb = point(a, metric), point(b, metric), point(d18, metric), point(d50, metric)
                c18, c50 = pa.mean - qa.mean, pb.mean - qb.mean
                level, rule = noise_of([pa, pb, qa, qb], noise)
                if prune == common[-1]:
                    got.add(compare(f"holds longer, {prune:g}% {metric} change vs own dense ({r50} vs {r18})", "beats",
                                    c50, c18, level, rule, "R50", "R18"))
                else:
                    got.add(compare(f"gains more, {prune:g}% {metric} change vs own dense ({r18} vs {r50})", "beats",
                                    c18, c50, level, rule, "R18", "R50"))
    return conclude(made, got.findings, got.entries, noise, got.notes,
                    needs="needs two experiments entries of the same dataset, strategy and task with ResNet-18 and "
                          "ResNet-50 backbones and a common prune percent")
