"""What a mask file or a weights file holds, as dataclasses (JSON-ready with ``dataclasses.asdict``).

Pure functions of the files: no model is built, no MMDetection imported; weights are loaded by
:func:`lthsteps.checkpoints.load_state_dict` (torch's weights-only unpickler). Run folders and
results trees: :mod:`lthsteps.inspect.runs`.
"""
from __future__ import annotations

import json
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor

from lthsteps.checkpoints import load_state_dict
from lthsteps.inspect import layout
from lthsteps.masks import group_of, group_params, load_masks, network_params, zeros_violations
from lthsteps.masks.measure import check_masks_fit

WEIGHTS_SUFFIXES = (".pth", ".pt")
MASK_SUFFIXES = (".npz",)
ACCEPTED = ("a mask file (mask.npz), a weights file (weights.pth, rewind.pth, init.pth), a run folder or a results "
            "tree (a folder holding runs/ or classifiers/)")


class InspectError(ValueError):
    """Input that cannot be inspected: the message names the problem and what to do."""


@dataclass
class MaskSummary:
    path: str
    meta: dict
    tensors: int
    masked: int  # weights the mask covers (the masked parameter count)
    pruned: int
    fraction: float  # pruned / masked
    groups: dict  # group -> {masked, pruned, fraction}
    layers: dict | None = None  # name -> {group, numel, pruned, fraction}, with layers=True
    report: dict | None = None  # the network line of mask.json beside it (params, pruned, sparsity)


@dataclass
class WeightsSummary:
    path: str
    tensors: int
    numel: int  # every element of every tensor (BatchNorm statistics included)
    network: dict  # {params, zeros, sparsity}: zeros among network_params (the reports' network sparsity)
    groups: dict  # group -> {params, zeros, fraction}
    layers: dict | None = None  # name -> {group, numel, zeros, fraction}, with layers=True
    mask: str | None = None  # the mask it was checked against
    violations: dict | None = None  # name -> non-zero weights where the mask prunes; None: not checked
    ok: bool = True


def _ratio(num: int, den: int) -> float:
    return num / den if den else 0.0


def _mask_error(mask_path, weights_path, err: ValueError) -> InspectError:
    return InspectError(f"{mask_path} is not a mask of {weights_path}: {err}")


def read_masks(path: str | os.PathLike) -> tuple[dict[str, Tensor], dict]:
    try:
        return load_masks(path)
    except FileNotFoundError as err:
        raise InspectError(str(err)) from None


def read_weights(path: str | os.PathLike) -> dict[str, Tensor]:
    try:
        return load_state_dict(path)
    except FileNotFoundError as err:
        raise InspectError(str(err)) from None


def read_json(path: Path) -> dict | None:
    """A JSON report, or None when the file is absent; InspectError when it is not JSON."""
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text())
    except ValueError as err:
        raise InspectError(f"{path} is not JSON ({err}): the job that wrote it was interrupted; run it again") from None


def file_kind(path: Path) -> str:
    """``"mask"`` or ``"weights"``, by suffix or (for other names) by the zip entries of the file."""
    if path.suffix in MASK_SUFFIXES:
        return "mask"
    if path.suffix in WEIGHTS_SUFFIXES:
        return "weights"
    try:
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
    except (OSError, zipfile.BadZipFile):
        names = []
    if "__meta__.npy" in names:
        return "mask"
    if any(name.endswith("/data.pkl") for name in names):
        return "weights"
    raise InspectError(f"{path} is neither a mask file nor a weights file: inspect takes {ACCEPTED}")


def summarize_mask(path: str | os.PathLike, layers: bool = False,
                   masks: tuple[dict[str, Tensor], dict] | None = None) -> MaskSummary:
    """Meta, pruned fraction per group (and per layer) and the masked parameter count of a mask file."""
    path = Path(path)
    masks, meta = masks or read_masks(path)
    per_layer = {name: {"group": group_of(name), "numel": m.numel(), "pruned": m.numel() - int(torch.count_nonzero(m))}
                 for name, m in masks.items()}
    for stats in per_layer.values():
        stats["fraction"] = _ratio(stats["pruned"], stats["numel"])
    groups = {}
    for group, names in group_params(masks).items():
        if names:
            masked = sum(per_layer[n]["numel"] for n in names)
            pruned = sum(per_layer[n]["pruned"] for n in names)
            groups[group] = {"masked": masked, "pruned": pruned, "fraction": _ratio(pruned, masked)}
    masked = sum(s["numel"] for s in per_layer.values())
    pruned = sum(s["pruned"] for s in per_layer.values())
    report = read_json(path.parent / layout.MASK_REPORT) if path.name == layout.MASK else None
    network = report.get("network") if isinstance(report, dict) else None
    return MaskSummary(str(path), meta, len(masks), masked, pruned, _ratio(pruned, masked), groups,
                       per_layer if layers else None, network if isinstance(network, dict) else None)


def summarize_weights(path: str | os.PathLike, mask: str | os.PathLike | None = None, layers: bool = False,
                      masks: dict[str, Tensor] | None = None) -> WeightsSummary:
    """Tensors, parameters and zeros of a weights file; with ``mask``, the tensors not zero off it.

    Raises InspectError when the mask does not fit the weights (a mask of another model).
    """
    path = Path(path)
    state = read_weights(path)
    params = network_params(state)
    zeros = {name: t.numel() - int(torch.count_nonzero(t)) for name, t in params.items()}
    groups = {}
    for group, names in group_params(params).items():
        if names:
            n = sum(params[name].numel() for name in names)
            z = sum(zeros[name] for name in names)
            groups[group] = {"params": n, "zeros": z, "fraction": _ratio(z, n)}
    total = sum(t.numel() for t in params.values())
    n_zeros = sum(zeros.values())
    per_layer = {name: {"group": group_of(name), "numel": t.numel(), "zeros": zeros[name],
                        "fraction": _ratio(zeros[name], t.numel())} for name, t in params.items()} if layers else None
    summary = WeightsSummary(str(path), len(state), sum(t.numel() for t in state.values()),
                             {"params": total, "zeros": n_zeros, "sparsity": _ratio(n_zeros, total)}, groups, per_layer)
    if mask is not None:
        masks = masks if masks is not None else read_masks(mask)[0]
        try:
            check_masks_fit(masks, state)
        except ValueError as err:
            raise _mask_error(mask, path, err) from None
        summary.mask = str(mask)
        summary.violations = zeros_violations(state, masks)
        summary.ok = not summary.violations
    return summary
