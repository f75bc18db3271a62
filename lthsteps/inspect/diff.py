"""Two masks or two weights files compared: IoU of the pruned sets, or which tensors differ and by how much."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import Tensor

from lthsteps.inspect.core import InspectError, _ratio, file_kind, read_masks, read_weights
from lthsteps.masks import group_of, group_params


@dataclass
class MaskDiff:
    a: str
    b: str
    iou: float  # intersection over union of the pruned sets, over every comparable tensor
    groups: dict  # group -> {iou, pruned_a, pruned_b, both}
    layers: dict  # name -> {group, iou, pruned_a, pruned_b, both}
    only_a: list  # masked in A only (dense in B: counted so, as the file format defines it)
    only_b: list
    shape_mismatch: dict  # name -> [shape in A, shape in B]
    same_model: bool
    note: str = ""
    kind: str = "masks"


@dataclass
class WeightsDiff:
    a: str
    b: str
    compared: int  # tensors in both with the same shape
    identical: int
    differ: dict  # name -> {numel, differ, fraction, max_abs}
    only_a: list
    only_b: list
    shape_mismatch: dict
    same_model: bool
    note: str = ""
    kind: str = field(default="weights")


def _other_model(a: str, b: str, common: int, mismatch: dict) -> str:
    if mismatch:
        shown = ", ".join(f"{n} {s[0]} vs {s[1]}" for n, s in list(mismatch.items())[:3])
        return (f"{a} and {b} are of different models: {len(mismatch)} tensor(s) differ in shape ({shown}); "
                "compare files of the same model and config")
    if not common:
        return (f"{a} and {b} have no parameter name in common: they are of different models (or name the same "
                "weights differently, as a classifier and a detector do); compare files of the same model")
    return ""


def _layout(a: dict, b: dict) -> tuple[list, list, list, dict]:
    common = [n for n in a if n in b and a[n].shape == b[n].shape]
    mismatch = {n: [list(a[n].shape), list(b[n].shape)] for n in a if n in b and a[n].shape != b[n].shape}
    return common, [n for n in a if n not in b], [n for n in b if n not in a], mismatch


def diff_masks(path_a: str | os.PathLike, path_b: str | os.PathLike) -> MaskDiff:
    """IoU of the pruned sets of two masks per layer, per group and overall. A tensor masked in one
    only is dense in the other; tensors whose shapes differ are left out (and reported)."""
    a, _ = read_masks(path_a)
    b, _ = read_masks(path_b)
    common, only_a, only_b, mismatch = _layout(a, b)
    layers = {}
    for name in common + only_a + only_b:
        pa = ~a[name] if name in a else torch.zeros_like(b[name])
        pb = ~b[name] if name in b else torch.zeros_like(a[name])
        both, union = int((pa & pb).sum()), int((pa | pb).sum())
        layers[name] = {"group": group_of(name), "iou": both / union if union else 1.0, "pruned_a": int(pa.sum()),
                        "pruned_b": int(pb.sum()), "both": both, "union": union}
    groups = {}
    for group, names in group_params(layers).items():
        if names:
            sums = {key: sum(layers[n][key] for n in names) for key in ("pruned_a", "pruned_b", "both", "union")}
            groups[group] = {"iou": sums["both"] / sums["union"] if sums["union"] else 1.0, **sums}
    both = sum(s["both"] for s in layers.values())
    union = sum(s["union"] for s in layers.values())
    note = _other_model(str(path_a), str(path_b), len(common), mismatch)
    return MaskDiff(str(path_a), str(path_b), both / union if union else 1.0, groups, layers, only_a, only_b, mismatch,
                    not note, note)


def _compare(x: Tensor, y: Tensor) -> tuple[int, float]:
    """Elements that differ and the largest absolute difference (NaN equal to NaN)."""
    if x.dtype == torch.bool or y.dtype == torch.bool:
        x, y = x.to(torch.uint8), y.to(torch.uint8)
    x, y = x.double(), y.double()
    differ = (x != y) & ~(x.isnan() & y.isnan())
    n = int(differ.sum())
    return n, float((x - y)[differ].abs().max()) if n else 0.0


def diff_weights(path_a: str | os.PathLike, path_b: str | os.PathLike) -> WeightsDiff:
    """Which tensors of two weights files differ, the largest |difference| and the fraction that differs."""
    a, b = read_weights(path_a), read_weights(path_b)
    common, only_a, only_b, mismatch = _layout(a, b)
    differ = {}
    for name in common:
        n, max_abs = _compare(a[name], b[name])
        if n:
            differ[name] = {"group": group_of(name), "numel": a[name].numel(), "differ": n,
                            "fraction": _ratio(n, a[name].numel()), "max_abs": max_abs}
    note = _other_model(str(path_a), str(path_b), len(common), mismatch)
    return WeightsDiff(str(path_a), str(path_b), len(common), len(common) - len(differ), differ, only_a, only_b,
                       mismatch, not note, note)


def diff_paths(path_a: str | os.PathLike, path_b: str | os.PathLike) -> MaskDiff | WeightsDiff:
    """Two masks or two weights files compared; InspectError for anything else."""
    kinds = []
    for path in (Path(path_a), Path(path_b)):
        if not path.is_file():
            what = "is a folder" if path.is_dir() else "does not exist"
            raise InspectError(f"{path} {what}: diff compares two mask files (mask.npz) or two weights files "
                               "(weights.pth, rewind.pth, init.pth)")
        kinds.append(file_kind(path))
    if kinds[0] != kinds[1]:
        raise InspectError(f"{path_a} is a {kinds[0]} file and {path_b} a {kinds[1]} file: diff compares two masks "
                           f"or two weights files; to check weights against a mask use `inspect WEIGHTS --mask MASK`")
    return diff_masks(path_a, path_b) if kinds[0] == "mask" else diff_weights(path_a, path_b)


__all__ = ["MaskDiff", "WeightsDiff", "diff_masks", "diff_paths", "diff_weights"]
