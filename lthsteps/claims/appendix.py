"""Claims of the appendices: task transfer (B, Table 5), error types (C, Figs 7-9), convergence (D, Fig 10)."""
from __future__ import annotations

import pandas as pd

from lthsteps import convergence
from lthsteps.claims.core import (
    FAILS, HOLDS, SEEDS, ClaimsError, Collector, Finding, claim, compare, conclude, entry_ref, noise_of, num, one_row,
    point, section, signed,
)

TIDE_TYPES = ("Cls", "Loc", "Both", "Dupe", "Bkg", "Miss")
KEYPOINT_TYPES = ("Jitter", "Inversion", "Swap", "Miss")
KEYPOINT_BOUND = 2.0  # percentage points of keypoints: the largest shift of an error type's share called alike
TOLERANCE = 0.05  # "within 5% of final", as lthsteps.convergence's table
DAP_THRESHOLD = "dap_threshold"
VALUES = ("group", "measure", "prune_percent", "seeds", "value_mean", "value_std")


def _analyses(config, kind: str) -> dict:
    return {n: e for n, e in section(config, "analyses").items() if e.get("analysis") == kind}


def _ticket_prune(table: pd.DataFrame, entry: dict, name: str) -> float:
    prunes = sorted(set(table.prune_percent[table.prune_percent > 0]))
    prune = entry.get("prune_percent", prunes[-1] if prunes else None)
    if prune is None or not any(abs(p - float(prune)) < 1e-6 for p in prunes):
        raise ClaimsError(f"table {name!r} has no ticket at prune percent {prune}: not this config's table")
    return float(prune)


@claim("keypoint_transfer_direction",
       "Tickets transfer better from detection/segmentation to keypoints than from keypoints to "
       "detection/segmentation",
       "Appendix B (Table 5)")
def keypoint_transfer_direction(config, results, noise, made):
    """Appendix B: "We can observe that the drop is marginal for the transfer of tickets between
    detection-segmentation to keypoint task, as compared with the reverse case which registers a
    significant drop."

    Reads ``task_transfers`` entries between a keypoint model and a detection/segmentation model (table:
    ``lthsteps.task_transfer_table``, one row per target and source task). The drop of a target task is
    its own ticket's mAP minus the transferred ticket's (mAP points; the paper compares points across
    tasks too). For Det and Seg each: ``beats`` (their drop from Keypoint − Keypoint's drop from Det/Seg >
    noise). Noise: seed std of the four means where all have ≥ 2 seeds, else ``--noise``.
    """
    got = Collector()
    for name in section(config, "task_transfers"):
        table = results.table(name, ("target_task", "source_task", "seeds", "mAP_mean"))
        got.entries.append(entry_ref("task_transfers", name))
        sources = set(table.source_task)
        if "Keypoint" not in sources or len(sources) != 2:
            got.notes.append(f"{name}: not between a keypoint and a detection/segmentation model")
            continue
        other = next(s for s in sources if s != "Keypoint")

        def row(target, source):
            found = one_row(table, name, target_task=target, source_task=source)
            return None if found is None else point(found, "mAP")

        kp_own, kp_from = row("Keypoint", "Keypoint"), row("Keypoint", other)
        if kp_own is None or kp_from is None:
            continue
        for target in [t for t in dict.fromkeys(table.target_task) if t != "Keypoint"]:
            own, moved = row(target, other), row(target, "Keypoint")
            if own is None or moved is None:
                continue
            level, rule = noise_of([own, moved, kp_own, kp_from], noise)
            got.add(compare(f"{name} {target} drop from Keypoint vs Keypoint drop from {other}", "beats",
                            own.mean - moved.mean, kp_own.mean - kp_from.mean, level, rule, f"{target} drop",
                            "Keypoint drop"))
    return conclude(made, got.findings, got.entries, noise, got.notes,
                    needs="needs a task_transfers entry between a keypoint and a detection/segmentation experiment")


def _values(table: pd.DataFrame, group: str, prune: float, types) -> pd.DataFrame:
    rows = table[(table.group == group) & ((table.prune_percent - prune).abs() < 1e-6)].set_index("measure")
    return rows.loc[[t for t in types if t in rows.index]]


def _ranking(values: pd.Series) -> list[str]:
    return [t for t, _ in sorted(values.items(), key=lambda kv: (-kv[1], kv[0]))]


@claim("error_types_alike",
       "Tickets make the same kinds of errors as their dense model (TIDE error types of boxes and masks, "
       "keypoint error types)",
       "Appendix C (Figs 7, 8, 9)")
def error_types_alike(config, results, noise, made):
    """Appendix C: Fig 7 "The error types of unpruned and pruned models are nearly the same."; Fig 8 "The
    error types of unpruned and pruned models are quite similar."; C.2 "it appears that both the dense and
    sparse models make similar mistakes" (Fig 9).

    Reads ``analyses`` entries with ``analysis: tide`` (TIDE's main error types Cls, Loc, Both, Dupe, Bkg,
    Miss: dAP, AP50 points) and ``analysis: keypoint_errors`` (Jitter, Inversion, Swap, Miss: percent of
    keypoints). Per entry, alike (holds) when the error types ranked by value are in the same order for the
    dense model and the ticket, or when no type shifts by more than its bound; else does not hold. Bound
    per type: the seed std of the difference where both have ≥ 2 seeds; else ``--noise`` (dAP points) for
    TIDE and a fixed 2 percentage points of keypoints for the keypoint errors.
    """
    got = Collector()
    plan = [(n, e, "main error dAP", TIDE_TYPES) for n, e in _analyses(config, "tide").items()]
    plan += [(n, e, "keypoints (%)", KEYPOINT_TYPES) for n, e in _analyses(config, "keypoint_errors").items()]
    for name, entry, group, types in plan:
        table = results.table(name, VALUES)
        got.entries.append(entry_ref("analyses", name))
        prune = _ticket_prune(table, entry, name)
        dense, ticket = _values(table, group, 0.0, types), _values(table, group, prune, types)
        shared = [t for t in dense.index if t in ticket.index]
        if not shared:
            continue
        dense, ticket = dense.loc[shared], ticket.loc[shared]
        seeds = (dense.seeds >= 2).all() and (ticket.seeds >= 2).all() and dense.value_std.notna().all() \
            and ticket.value_std.notna().all()
        keypoints = types is KEYPOINT_TYPES
        bounds = ((dense.value_std ** 2 + ticket.value_std ** 2) ** 0.5 if seeds else
                  pd.Series(KEYPOINT_BOUND if keypoints else noise, index=shared))
        shift = ticket.value_mean - dense.value_mean
        worst = (shift.abs() - bounds).idxmax()
        same = _ranking(dense.value_mean) == _ranking(ticket.value_mean)
        within = bool((shift.abs() <= bounds + 1e-9).all())
        verdict = HOLDS if same or within else FAILS
        unit = "pp of keypoints" if keypoints else "dAP"
        task = "keypoints" if keypoints else entry.get("task", "bbox")
        text = (f"{name} {task} {prune:g}%: ranking {'same' if same else 'differs'} (dense "
                f"{'>'.join(_ranking(dense.value_mean))}, ticket {'>'.join(_ranking(ticket.value_mean))}); largest "
                f"shift {worst} {signed(float(shift[worst]))} {unit} (bound {num(float(bounds[worst]))})")
        rule = SEEDS if seeds else ("kp_bound" if keypoints else DAP_THRESHOLD)
        got.add(Finding(f"{name} {task} {prune:g}%", verdict, text,
                        {"dense": {t: round(float(v), 4) for t, v in dense.value_mean.items()},
                         "ticket": {t: round(float(v), 4) for t, v in ticket.value_mean.items()},
                         "same_ranking": same, "largest_shift": worst, "shift": round(float(shift[worst]), 4),
                         "bound": round(float(bounds[worst]), 4), "verdict": verdict},
                        rule, max(float((bounds - shift.abs()).min()), 1.0 if same else -1e9)))
    return conclude(made, got.findings, got.entries, noise, got.notes,
                    rules={SEEDS: "seed std of each type's difference (both >= 2 seeds)",
                           DAP_THRESHOLD: "same ranking, or every dAP shift <= --noise {noise:g} AP points",
                           "kp_bound": f"same ranking, or every shift <= {KEYPOINT_BOUND:g} percentage points of "
                                       "keypoints"},
                    needs="needs an analyses entry with analysis: tide or keypoint_errors")


@claim("segm_fewer_loc_more_bkg",
       "On masks the ticket makes fewer localisation errors but more background errors than the dense model",
       "Appendix C.1 (Fig 8)")
def segm_fewer_loc_more_bkg(config, results, noise, made):
    """Appendix C.1: "While in the case of object detection, the performance of both the models is
    identical, subtle differences emerge in case of segmentation where sparse model makes fewer
    localization errors but higher background errors."

    Reads ``analyses`` entries with ``analysis: tide`` and ``task: segm``: ``beats`` (dense Loc dAP −
    ticket Loc dAP > noise) and ``beats`` (ticket Bkg dAP − dense Bkg dAP > noise). Noise: seed std where
    both have ≥ 2 seeds, else ``--noise`` in dAP (AP50) points.
    """
    got = Collector()
    for name, entry in _analyses(config, "tide").items():
        if entry.get("task", "bbox") != "segm":
            continue
        table = results.table(name, VALUES)
        got.entries.append(entry_ref("analyses", name))
        prune = _ticket_prune(table, entry, name)
        for kind, better in (("Loc", "dense"), ("Bkg", "ticket")):
            d = one_row(table, name, group="main error dAP", measure=kind, prune_percent=0.0)
            t = one_row(table, name, group="main error dAP", measure=kind, prune_percent=prune)
            if d is None or t is None:
                continue
            pd_, pt = point(d, "value"), point(t, "value")
            level, rule = noise_of([pd_, pt], noise)
            a, b = (pd_, pt) if better == "dense" else (pt, pd_)
            got.add(compare(f"{name} segm {prune:g}% {kind} dAP", "beats", a.mean, b.mean, level,
                            DAP_THRESHOLD if rule != SEEDS else SEEDS, better,
                            "ticket" if better == "dense" else "dense", unit="dAP"))
    return conclude(made, got.findings, got.entries, noise, got.notes,
                    rules={DAP_THRESHOLD: "threshold: --noise {noise:g} AP points of dAP (a side has fewer than 2 "
                                          "seeds)"},
                    needs="needs an analyses entry with analysis: tide and task: segm")


def convergence_point(curve: pd.DataFrame) -> tuple[float, float]:
    """(first progress within 5% of the final total loss, first measured progress) of one mean curve."""
    frame = pd.DataFrame({"run": "r", "prune_percent": 0.0, "seed": 0, "iter": curve["iter"].astype(int),
                          "progress": curve.progress.astype(float), convergence.TOTAL: curve.loss_mean.astype(float)})
    seeds = convergence.per_seed(frame, TOLERANCE)
    return float(seeds.converged_progress.iloc[0]), float(curve.progress.min())


@claim("tickets_converge_faster",
       "Tickets converge faster than their dense model (validation loss within 5% of its final value earlier "
       "in training)",
       "Appendix D (Fig 10)")
def tickets_converge_faster(config, results, noise, made):
    """Appendix D: "The comparisons confirm that the sparse subnetwork initialized from the winning ticket
    weights converge much faster. This observation is consistent for heterogeneous tasks".

    Reads ``analyses`` entries with ``analysis: convergence``: the CSV's mean validation-loss curves (total
    loss) of the dense run and of the entry's ticket; each run's convergence point is the first measured
    progress (percent of training) at which the mean curve is within 5% of its own final value
    (``lthsteps.convergence.per_seed`` on the mean curve; with one seed the Markdown table's number).
    ``beats`` (dense point − ticket point > noise). Noise: half the dense run's measuring interval (its
    largest gap between measurements, in percent of training): the points lie on the measured grid, so
    one interval earlier holds and the same point is within noise. A ticket trained from a late rewind
    point starts there (named): it cannot be within 5% before that.
    """
    got = Collector()
    for name, entry in _analyses(config, "convergence").items():
        table = results.table(name, ("run", "prune_percent", "iter", "progress", "loss_mean"))
        got.entries.append(entry_ref("analyses", name))
        prune = _ticket_prune(table, entry, name)
        dense = table[table.prune_percent == 0].sort_values("iter")
        ticket = table[(table.prune_percent - prune).abs() < 1e-6].sort_values("iter")
        if not len(dense) or not len(ticket):
            continue
        (dp, _), (tp, start) = convergence_point(dense), convergence_point(ticket)
        interval = float(dense.progress.diff().max()) if len(dense) > 1 else 100.0
        found = compare(f"{name} {prune:g}%", "beats", dp, tp, interval / 2, "grid",
                        "dense within 5% of its final loss at", "ticket at", unit="pp of training", digits=1)
        found = Finding(found.label, found.verdict, found.text[:-1] + f"; ticket trains from {start:.1f}%)",
                        {**found.numbers, "ticket_start": round(start, 4), "interval": round(interval, 4)},
                        found.rule, found.margin)
        got.add(found)
    return conclude(made, got.findings, got.entries, noise, got.notes,
                    rules={"grid": "half the measuring interval of the validation loss (percent of training)"},
                    needs="needs an analyses entry with analysis: convergence")
