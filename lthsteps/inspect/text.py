"""Human-readable text of the summaries of :mod:`lthsteps.inspect.core`, :mod:`~lthsteps.inspect.runs` and
:mod:`~lthsteps.inspect.diff`."""
from __future__ import annotations

import os
from pathlib import Path

from lthsteps.inspect.core import MaskSummary, WeightsSummary
from lthsteps.inspect.diff import MaskDiff, WeightsDiff
from lthsteps.inspect.runs import RunSummary, TreeSummary

_MAIN_META = ("sparsity", "round_sparsity", "scope", "groups", "kinds", "exclude", "round", "rounds")


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.2f}%"


def _table(header: tuple, rows: list[tuple], indent: str, align: str = "") -> list[str]:
    """Columns padded to their widest cell: ``align`` ``l``/``r`` per column (default: first left, others right)."""
    align = align or "l" + "r" * (len(header) - 1)
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]

    def line(row: tuple) -> str:
        cells = [str(c).ljust(w) if a == "l" else str(c).rjust(w) for c, w, a in zip(row, widths, align)]
        return (indent + "  ".join(cells)).rstrip()

    return [line(header), *map(line, rows)]


def mask_text(s: MaskSummary, indent: str = "") -> list[str]:
    m = s.meta
    what = [f"scope {m['scope']}" if "scope" in m else None,
            f"groups {', '.join(m['groups'])}" if m.get("groups") else None,
            f"kinds {', '.join(m['kinds'])}" if m.get("kinds") else None,
            f"round {m['round']} of {m.get('rounds', '?')}" if "round" in m else None,
            f"target sparsity {_pct(m['sparsity'])}" if isinstance(m.get("sparsity"), (int, float)) else None]
    lines = [f"{indent}mask {s.path}", f"{indent}  {'; '.join(w for w in what if w) or 'no meta'}"]
    if m.get("exclude"):
        lines.append(f"{indent}  dense by exclude: {', '.join(m['exclude'])}")
    lines += [f"{indent}  {key}: {value}" for key, value in m.items() if key not in _MAIN_META and value is not None]
    lines.append(f"{indent}  masked parameters {s.masked:,} in {s.tensors} tensors, {s.pruned:,} pruned "
                 f"({_pct(s.fraction)} of the masked)")
    if s.report:
        lines.append(f"{indent}  network sparsity {_pct(s.report.get('sparsity'))} (mask.json: "
                     f"{s.report.get('pruned', 0):,} of {s.report.get('params', 0):,} parameters pruned)")
    rows = [(g, f"{v['masked']:,}", f"{v['pruned']:,}", _pct(v["fraction"])) for g, v in s.groups.items()]
    lines += _table(("group", "masked", "pruned", "pruned %"), rows, indent + "  ")
    if s.layers:
        rows = [(n, v["group"], f"{v['numel']:,}", f"{v['pruned']:,}", _pct(v["fraction"])) for n, v in s.layers.items()]
        lines += _table(("layer", "group", "masked", "pruned", "pruned %"), rows, indent + "  ", "llrrr")
    return lines


def weights_text(s: WeightsSummary, indent: str = "") -> list[str]:
    net = s.network
    lines = [f"{indent}weights {s.path}: {s.tensors} tensors, {s.numel:,} elements",
             f"{indent}  network sparsity {_pct(net['sparsity'])}: {net['zeros']:,} of {net['params']:,} parameters "
             "are zero (BatchNorm statistics excluded)"]
    rows = [(g, f"{v['params']:,}", f"{v['zeros']:,}", _pct(v["fraction"])) for g, v in s.groups.items()]
    lines += _table(("group", "params", "zeros", "zero %"), rows, indent + "  ")
    if s.layers:
        rows = [(n, v["group"], f"{v['numel']:,}", f"{v['zeros']:,}", _pct(v["fraction"])) for n, v in s.layers.items()]
        lines += _table(("layer", "group", "params", "zeros", "zero %"), rows, indent + "  ", "llrrr")
    if s.mask is None:
        lines.append(f"{indent}  no mask to check against")
    elif not s.violations:
        lines.append(f"{indent}  OK: exactly zero where {s.mask} prunes")
    else:
        lines.append(f"{indent}  VIOLATION: {sum(s.violations.values()):,} weights not zero where {s.mask} prunes:")
        lines += [f"{indent}    {name}: {n:,}" for name, n in s.violations.items()]
    return lines


def _metrics(metrics: dict, short: bool = False) -> str:
    if short:
        return " ".join(f"{k.replace(' mAP', '')} {100 * v:.1f}" for k, v in metrics.items()) or "-"
    return ", ".join(f"{k} {100 * v:.2f}" for k, v in metrics.items()) or "none"


def run_text(s: RunSummary) -> list[str]:
    lines = [f"{s.kind} {s.path}", "  " + ", ".join(f"{k} {v}" for k, v in s.where.items()),
             f"  metrics: {_metrics(s.metrics)}"]
    if s.train is not None:
        t = s.train
        recorded = t.get("zeros_violations")
        record = "not recorded" if recorded is None else ("none recorded" if not recorded else str(recorded))
        start = f" (from {t['start_iter']})" if t.get("start_iter") else ""
        resumed = f", resumed from {t['resumed_from_iter']}" if t.get("resumed_from_iter") is not None else ""
        lines.append(f"  train.json: {t.get('iterations', '?')} iterations{start}, {t.get('train_seconds', '?')} s"
                     f"{resumed}, zeros_violations: {record}")
    if s.mask is not None:
        lines += mask_text(s.mask, "  ")
    for weights in s.weights:
        if Path(weights.path).parent == Path(s.path):
            lines += weights_text(weights, "  ")
        else:  # a dense run's snapshots: one line each
            lines.append(f"  snapshot {weights.path}: {weights.tensors} tensors, network sparsity "
                         f"{_pct(weights.network['sparsity'])}")
    checked = sum(1 for w in s.weights if w.mask is not None)
    ok = (f"{checked} weights file(s) exactly zero where the mask prunes" if checked else
          "no problem found (no weights file under a mask here)")
    return lines + _verdict(s.problems, ok)


def _verdict(problems: list[str], ok: str) -> list[str]:
    if not problems:
        return [f"OK: {ok}"]
    return [f"PROBLEMS ({len(problems)}):", *(f"  {p}" for p in problems)]


def _relative(path: str, root: str) -> str:
    try:
        return Path(os.path.relpath(path, root)).as_posix()
    except ValueError:
        return path


def run_sparsity(run: RunSummary) -> str:
    """The measured network sparsity of a run's first weights file, or its mask.json's, marked ``*``."""
    if run.weights:
        return _pct(run.weights[0].network["sparsity"])
    if run.mask is not None and run.mask.report:
        return _pct(run.mask.report.get("sparsity")) + "*"
    return "-"


def tree_text(s: TreeSummary) -> list[str]:
    rows = []
    for run in s.runs:
        status = "OK" if run.ok else ("VIOLATION" if any(w.violations for w in run.weights) else "PROBLEM")
        rows.append((run.kind, run_sparsity(run), status, _metrics(run.metrics, short=True),
                     _relative(run.path, s.path)))
    lines = _table(("kind", "sparsity", "status", "metrics", "run"), rows, "", "lrlll")
    masked_only = any(r[1].endswith("*") for r in rows)
    lines.append(f"{len(s.runs)} runs under {s.path}; sparsity = zeros among the network parameters of the run's "
                 "first weights file" + ("; * = mask only, mask.json's network sparsity" if masked_only else ""))
    return lines + _verdict(s.offending, f"{s.weights_checked} weights files checked against their masks: all exactly "
                                         "zero off the mask")


def mask_diff_text(d: MaskDiff) -> list[str]:
    lines = [f"masks A {d.a}", f"      B {d.b}"]
    if d.note:
        lines.append(f"DIFFERENT MODELS: {d.note}")
    lines.append(f"IoU of the pruned sets {d.iou:.4f}")
    rows = [(g, f"{v['iou']:.4f}", f"{v['pruned_a']:,}", f"{v['pruned_b']:,}", f"{v['both']:,}")
            for g, v in d.groups.items()]
    lines += _table(("group", "IoU", "pruned A", "pruned B", "both"), rows, "  ")
    rows = [(n, f"{v['iou']:.4f}", f"{v['pruned_a']:,}", f"{v['pruned_b']:,}", f"{v['both']:,}")
            for n, v in d.layers.items()]
    lines += _table(("layer", "IoU", "pruned A", "pruned B", "both"), rows, "  ")
    return lines + _one_side(d)


def _one_side(d: MaskDiff | WeightsDiff) -> list[str]:
    absent = "not masked in {}: dense there, or not in its model" if d.kind == "masks" else "not in {}"
    lines = [f"in {side} only ({absent.format(other)}): {len(names)}: {_names(names)}"
             for side, names, other in (("A", d.only_a, "B"), ("B", d.only_b, "A")) if names]
    return lines + [f"shape differs: {n} A {a} vs B {b}" for n, (a, b) in d.shape_mismatch.items()]


def _names(names: list[str], shown: int = 8) -> str:
    more = f" and {len(names) - shown} more (all in --json)" if len(names) > shown else ""
    return ", ".join(names[:shown]) + more


def weights_diff_text(d: WeightsDiff) -> list[str]:
    lines = [f"weights A {d.a}", f"        B {d.b}"]
    if d.note:
        lines.append(f"DIFFERENT MODELS: {d.note}")
    lines.append(f"{len(d.differ)} of {d.compared} tensors in both differ, {d.identical} identical")
    rows = [(n, f"{v['max_abs']:.6g}", _pct(v["fraction"]), f"{v['differ']:,} of {v['numel']:,}")
            for n, v in d.differ.items()]
    if rows:
        lines += _table(("tensor", "max |A-B|", "differ %", "elements"), rows, "  ")
    return lines + _one_side(d)


def render(summary) -> str:
    """The text of any summary or diff."""
    for cls, fn in ((MaskSummary, mask_text), (WeightsSummary, weights_text), (RunSummary, run_text),
                    (TreeSummary, tree_text), (MaskDiff, mask_diff_text), (WeightsDiff, weights_diff_text)):
        if isinstance(summary, cls):
            return "\n".join(fn(summary))
    raise TypeError(f"no text for {type(summary).__name__}")
