"""Pruning masks: magnitude pruning, module groups, mask files and sparsity reports.

A mask is a ``dict[str, torch.BoolTensor]`` keyed by the state-dict name of a detector parameter
(e.g. ``backbone.layer1.0.conv1.weight``), with the shape of that parameter: True = kept,
False = pruned. Parameters absent from a mask dict are dense.

Mask file format (the project's interface; readable with numpy alone): a ``.npz`` written by
``np.savez_compressed`` that loads with ``np.load(path, allow_pickle=False)`` and holds

* ``mask/<param name>``: uint8 array, ``np.packbits(mask.flatten(), bitorder="little")``
  (one bit per weight, row-major order; unpack with ``np.unpackbits(a, count=numel,
  bitorder="little")``);
* ``__meta__``: 0-d unicode array holding a JSON object ``{"format": "lthsteps.masks",
  "version": 1, "names": [...], "shapes": {name: [...]}, **meta}`` where ``meta`` is what the
  writer passed (typically sparsity, scope, groups, kinds, round, rounds, source_checkpoint).

Network sparsity (the paper's "Network Sparsity", Table 3) is the number of pruned weights
divided by all parameters of the detector: every floating tensor of its state dict except the
BatchNorm statistics ``*.running_mean``, ``*.running_var`` and ``*.num_batches_tracked``, which
are buffers, not parameters.

Command line: ``python -m lthsteps.masks {groups,prune,report} --help``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from lthsteps.checkpoints import load_state_dict
from lthsteps.files import atomic_write

GROUPS = ("backbone_base", "backbone_top", "neck", "rpn", "box_head", "mask_head", "keypoint_head", "other")
KINDS = ("conv", "linear")
SCOPES = ("global", "groupwise", "layerwise")
BUFFER_SUFFIXES = (".running_mean", ".running_var", ".num_batches_tracked")
FORMAT = "lthsteps.masks"
VERSION = 1

# First matching prefix wins. C4 detectors run the last ResNet stage (layer4) as the shared RoI
# head, FPN detectors keep it in the backbone: both are the paper's "Top" module.
_GROUP_RULES = (
    ("roi_head.shared_head.", "backbone_top"),
    ("backbone.layer4.", "backbone_top"),
    ("backbone.", "backbone_base"),
    ("neck.", "neck"),
    ("rpn_head.", "rpn"),
    ("roi_head.bbox_head.", "box_head"),
    ("roi_head.mask_head.", "mask_head"),
    ("roi_head.keypoint_head.", "keypoint_head"),
    # A torchvision ResNet classifier (lthsteps.classifier): the same modules without a prefix.
    ("layer4.", "backbone_top"),
    *((prefix, "backbone_base") for prefix in ("conv1.", "bn1.", "layer1.", "layer2.", "layer3.")),
)
_RESERVED_META = ("format", "version", "names", "shapes")
_MASK_PREFIX = "mask/"
_META_KEY = "__meta__"
_SHOWN = 5  # names listed in an error message before "and N more"


# ---------------------------------------------------------------------------------------------
# Magnitude pruning


def magnitude_masks(
    weights: Mapping[str, Tensor],
    sparsity: float,
    scope: str = "global",
    previous: Mapping[str, Tensor] | None = None,
) -> dict[str, Tensor]:
    """Masks keeping the largest ``|w|`` so that ``weights`` reach exactly ``sparsity``.

    ``scope="global"`` prunes ``round(sparsity * total numel)`` weights ranked across all
    tensors (small-magnitude layers lose more); ``"groupwise"`` ranks globally within each module
    group (:func:`group_of`: the backbone stages, the box head, ...) and prunes ``round(sparsity *
    group numel)`` of each, so one group's init scale cannot starve another; ``"layerwise"``
    prunes ``round(sparsity * numel)`` of every tensor. Weights pruned in ``previous`` stay pruned
    whatever their value (IMP masks only grow) and count towards the target. Ties are broken by flat index (earlier
    pruned first), so counts are exact even when many magnitudes are equal. Magnitudes are
    compared in fp32; the masks are returned on CPU.
    """
    _check_sparsity(sparsity)
    if scope not in SCOPES:
        raise ValueError(f"unknown pruning scope {scope!r}: use one of {', '.join(SCOPES)}")
    if not weights:
        raise ValueError("no weights to prune: select groups/kinds that contain conv or linear weights")
    if previous is not None:
        _check_previous(previous, weights)
    scores = {name: _scores(name, w) for name, w in weights.items()}
    if previous is not None:
        for name, score in scores.items():
            score[~previous[name].detach().cpu().reshape(-1)] = -math.inf
    if scope == "layerwise":
        return {
            name: _keep_largest(score, round(sparsity * score.numel()), name).reshape(weights[name].shape)
            for name, score in scores.items()
        }
    if scope == "groupwise":
        masks: dict[str, Tensor] = {}
        for group, names in group_params(scores).items():
            if names:
                masks |= _rank_together({n: scores[n] for n in names}, weights, sparsity, f"group {group}")
        return {name: masks[name] for name in scores}
    return _rank_together(scores, weights, sparsity, "the selected weights")


def _rank_together(scores: Mapping[str, Tensor], weights: Mapping[str, Tensor], sparsity: float,
                   what: str) -> dict[str, Tensor]:
    """Masks pruning ``round(sparsity * n)`` of the ``n`` weights of ``scores``, ranked as one pool."""
    flat = torch.cat(list(scores.values()))
    keep = _keep_largest(flat, round(sparsity * flat.numel()), what)
    parts = keep.split([score.numel() for score in scores.values()])
    return {name: part.reshape(weights[name].shape) for name, part in zip(scores, parts, strict=True)}


def iterative_sparsities(target: float, rounds: int) -> list[float]:
    """Cumulative sparsity after each of ``rounds`` rounds of iterative magnitude pruning.

    Every round prunes the same fraction ``q = 1 - (1 - target)^(1/k)`` of the weights that are
    still kept, so after round ``i`` the sparsity is ``1 - (1 - target)^(i/k)`` and after the last
    round exactly ``target``. This is what the paper's "prune p^(1/k)% each round" (Algorithm 1,
    step 4) means: the kept fraction ``1 - p`` is reached as a product of ``k`` equal factors.
    ``rounds=1`` is one-shot pruning: ``[target]``.
    """
    _check_sparsity(target)
    if isinstance(rounds, bool) or not isinstance(rounds, int) or rounds < 1:
        raise ValueError(f"rounds must be an integer >= 1, got {rounds!r}: use 1 for one-shot pruning")
    schedule = [1.0 - (1.0 - target) ** (i / rounds) for i in range(1, rounds)]
    return [*schedule, float(target)]  # the last round exactly, free of rounding error


def _check_sparsity(sparsity: float) -> None:
    if not 0.0 <= sparsity < 1.0:
        raise ValueError(
            f"sparsity must be in [0, 1), got {sparsity!r}: pass the fraction of weights to prune, e.g. 0.8 for 80%"
        )


def _scores(name: str, weight: Tensor) -> Tensor:
    """Flat fp32 CPU copy of ``|weight|``, safe to overwrite."""
    if not weight.is_floating_point():
        raise ValueError(f"weight {name} is {weight.dtype}, not floating point: prune parameters, not buffers")
    score = weight.detach().to("cpu", torch.float32).abs().reshape(-1)
    if torch.isnan(score).any():
        raise ValueError(f"weight {name} contains NaN: the checkpoint is broken (diverged training?); use a finite one")
    return score


def _keep_largest(scores: Tensor, n_prune: int, what: str) -> Tensor:
    """Keep-vector pruning the ``n_prune`` smallest scores; equal scores go in flat-index order.

    Previously pruned entries hold ``-inf`` and so are always among the pruned.
    """
    already = int(torch.isneginf(scores).sum())
    if already > n_prune:
        raise ValueError(
            f"the previous mask already prunes {already} of {scores.numel()} weights of {what}, more than the "
            f"{n_prune} the target sparsity allows: masks only grow, so raise the sparsity or pass an earlier mask"
        )
    keep = torch.ones(scores.numel(), dtype=torch.bool)
    if n_prune == 0:
        return keep
    threshold = torch.kthvalue(scores, n_prune).values
    below = scores < threshold
    keep[below] = False
    ties = torch.nonzero(scores == threshold).reshape(-1)
    keep[ties[: n_prune - int(below.sum())]] = False
    return keep


def _check_previous(previous: Mapping[str, Tensor], weights: Mapping[str, Tensor]) -> None:
    problems = _layout_problems(previous, weights, require_all=True) + _not_bool(previous)
    if problems:
        raise ValueError(
            f"previous mask does not match the weights to prune ({'; '.join(problems)}): pass the previous "
            "round's mask, made from the same model with the same groups and kinds"
        )


# ---------------------------------------------------------------------------------------------
# Module groups and parameter kinds


def group_of(name: str) -> str:
    """The paper's module (Table 3) of a parameter of an MMDetection two-stage detector, or of the
    backbone part of a torchvision ResNet classifier (its ``fc`` is ``other``)."""
    return next((group for prefix, group in _GROUP_RULES if name.startswith(prefix)), "other")


def group_params(names: Iterable[str]) -> dict[str, list[str]]:
    """``names`` split by :func:`group_of`: every group of ``GROUPS`` (in that order, maybe empty)."""
    groups: dict[str, list[str]] = {group: [] for group in GROUPS}
    for name in names:
        groups[group_of(name)].append(name)
    return groups


def kind_of(name: str, tensor: Tensor) -> str | None:
    """``"conv"`` or ``"linear"`` for a prunable weight, None for anything else.

    Decided from the state dict alone: a floating ``*.weight`` with 3-5 dims is a convolution
    kernel, one with 2 dims a fully connected layer. Biases, norm-layer weights (1 dim) and
    buffers are never pruned.
    """
    if not name.endswith(".weight") or not tensor.is_floating_point():
        return None
    if tensor.dim() in (3, 4, 5):
        return "conv"
    if tensor.dim() == 2:
        return "linear"
    return None


def prunable_weights(
    state_dict: Mapping[str, Tensor], groups: Sequence[str], kinds: Sequence[str] = KINDS,
    exclude: Sequence[str] = (),
) -> dict[str, Tensor]:
    r"""The weights of ``state_dict`` in ``groups`` whose kind is in ``kinds``, in state-dict order,
    except those whose name matches (``re.search``) one of the ``exclude`` patterns — e.g.
    ``r"\.downsample\."`` keeps ResNet's 1x1 projection shortcuts dense, as the paper's ImageNet
    tickets do (README, "Tables 1-2")."""
    _check_choices("group", groups, GROUPS)
    _check_choices("kind", kinds, KINDS)
    patterns = _compile_patterns(exclude)
    return {name: t for name, t in state_dict.items() if group_of(name) in groups and kind_of(name, t) in kinds
            and not any(p.search(name) for p in patterns)}


def _compile_patterns(patterns: Sequence[str]) -> list[re.Pattern]:
    if isinstance(patterns, str):
        raise ValueError(f"exclude must be a list of patterns, got the string {patterns!r}: pass [{patterns!r}]")
    compiled = []
    for pattern in patterns:
        try:
            compiled.append(re.compile(pattern))
        except re.error as err:
            raise ValueError(f"exclude pattern {pattern!r} is not a regular expression ({err}): fix it, e.g. "
                             r"'\.downsample\.'") from err
    return compiled


def network_params(state_dict: Mapping[str, Tensor]) -> dict[str, Tensor]:
    """All parameters of the detector: floating tensors except BatchNorm running statistics."""
    return {name: t for name, t in state_dict.items() if t.is_floating_point() and not name.endswith(BUFFER_SUFFIXES)}


def _check_choices(what: str, given: Sequence[str], valid: Sequence[str]) -> None:
    if isinstance(given, str):  # `in "rpn"` would test substrings
        raise ValueError(f"{what}s must be a list of names, got the string {given!r}: pass [{given!r}]")
    unknown = [g for g in given if g not in valid]
    if unknown:
        raise ValueError(f"unknown {what}(s) {', '.join(map(repr, unknown))}: valid {what}s are {', '.join(valid)}")


# ---------------------------------------------------------------------------------------------
# Mask files


def save_masks(path: str | os.PathLike, masks: Mapping[str, Tensor], meta: Mapping) -> None:
    """Write ``masks`` and JSON-serialisable ``meta`` atomically in the format of the module doc."""
    reserved = [key for key in meta if key in _RESERVED_META]
    if reserved:
        raise ValueError(f"meta keys {reserved} are reserved by the mask file format: rename them")
    not_bool = _not_bool(masks)
    if not_bool:
        raise ValueError(f"{not_bool[0]}: masks are bool tensors, True = kept; convert them with .bool()")
    header = {
        "format": FORMAT,
        "version": VERSION,
        "names": list(masks),
        "shapes": {name: list(m.shape) for name, m in masks.items()},
        **meta,
    }
    arrays = {
        _MASK_PREFIX + name: np.packbits(m.detach().cpu().numpy().reshape(-1), bitorder="little")
        for name, m in masks.items()
    }
    arrays[_META_KEY] = np.array(json.dumps(header))

    def write(tmp: str) -> None:
        with open(tmp, "wb") as f:  # a file object: np.savez would append ".npz" to a bare name
            np.savez_compressed(f, **arrays)

    atomic_write(path, write)


def save_masks_and_report(path: str | os.PathLike, report_path: str | os.PathLike, masks: Mapping[str, Tensor],
                          meta: Mapping, state_dict: Mapping[str, Tensor]) -> dict:
    """Write a mask file and its ``mask.json`` (meta + sparsity report of ``state_dict`` under it)."""
    report = {"meta": dict(meta), **sparsity_report(state_dict, masks)}
    text = json.dumps(report, indent=2)
    save_masks(path, masks, meta)
    atomic_write(report_path, lambda tmp: Path(tmp).write_text(text))
    return report


def load_masks(path: str | os.PathLike) -> tuple[dict[str, Tensor], dict]:
    """Masks and the writer's meta (without the format's own keys) of a mask file."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"mask file {path} does not exist: check the path, or run the rule that makes it")
    not_a_mask = f"{path} is not a mask file of this workflow: make one with `python -m lthsteps.masks prune`"
    try:
        npz = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as err:
        raise ValueError(f"{not_a_mask} ({err})") from err
    if not isinstance(npz, np.lib.npyio.NpzFile):
        raise ValueError(f"{not_a_mask} (a single .npy array)")
    with npz:
        header = _header(npz, not_a_mask)
        masks = {}
        for name in header["names"]:
            key = _MASK_PREFIX + name
            if key not in npz.files:
                raise ValueError(f"{path} is corrupt: it lists {name} but holds no {key}; regenerate the mask")
            masks[name] = _unpack(npz[key], header["shapes"][name], f"{path} is corrupt: {key}")
    meta = {key: value for key, value in header.items() if key not in _RESERVED_META}
    return masks, meta


def _header(npz: np.lib.npyio.NpzFile, not_a_mask: str) -> dict:
    """The JSON header of an opened mask file, checked for format and version."""
    if _META_KEY not in npz.files:
        raise ValueError(f"{not_a_mask} (no {_META_KEY} entry)")
    try:
        header = json.loads(str(npz[_META_KEY]))
    except ValueError as err:
        raise ValueError(f"{not_a_mask} ({_META_KEY} is not JSON: {err})") from err
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise ValueError(f"{not_a_mask} (format is not {FORMAT!r})")
    if header.get("version") != VERSION:
        raise ValueError(
            f"{not_a_mask} of version {header.get('version')!r}; this code reads version {VERSION}: "
            "regenerate the mask with this version of the workflow"
        )
    return header


def _unpack(packed: np.ndarray, shape: Sequence[int], where: str) -> Tensor:
    numel = math.prod(shape)
    if packed.dtype != np.uint8 or packed.shape != ((numel + 7) // 8,):
        raise ValueError(f"{where} holds {packed.size} {packed.dtype} values, not the bits of shape {list(shape)}")
    bits = np.unpackbits(packed, count=numel, bitorder="little").astype(bool)
    return torch.from_numpy(bits).reshape(tuple(shape))


# ---------------------------------------------------------------------------------------------
# Applying, checking and measuring masks


def check_masks_fit(masks: Mapping[str, Tensor], state_dict: Mapping[str, Tensor]) -> None:
    """Raise ValueError unless every masked name is in ``state_dict`` with the mask's shape."""
    problems = _layout_problems(masks, state_dict, require_all=False) + _not_bool(masks)
    if problems:
        raise ValueError(
            f"mask does not fit the weights ({'; '.join(problems)}): it was made for another model or config; "
            "regenerate it from this model's weights with `python -m lthsteps.masks prune`"
        )


def apply_masks(state_dict: Mapping[str, Tensor], masks: Mapping[str, Tensor]) -> None:
    """Zero the pruned entries of ``state_dict`` in place (works on ``model.state_dict()``)."""
    check_masks_fit(masks, state_dict)
    with torch.no_grad():
        for name, mask in masks.items():
            tensor = state_dict[name]
            tensor.masked_fill_(~mask.to(tensor.device), 0)


def zeros_violations(state_dict: Mapping[str, Tensor], masks: Mapping[str, Tensor]) -> dict[str, int]:
    """Per name, how many pruned entries are not exactly 0; empty when the masks hold."""
    check_masks_fit(masks, state_dict)
    counts = {
        name: int(((state_dict[name].detach() != 0) & ~mask.to(state_dict[name].device)).sum())
        for name, mask in masks.items()
    }
    return {name: n for name, n in counts.items() if n}


def sparsity_report(state_dict: Mapping[str, Tensor], masks: Mapping[str, Tensor]) -> dict:
    """Pruned counts of the network, of each module group and of each masked layer (JSON-ready).

    ``network.sparsity`` is pruned / all parameters of the detector (see the module doc);
    a group's ``sparsity`` is pruned / its parameters and ``prunable_sparsity`` pruned / the
    weights its masks cover.
    """
    check_masks_fit(masks, state_dict)
    params = network_params(state_dict)
    pruned = {name: int((~mask).sum()) for name, mask in masks.items()}
    groups: dict[str, dict] = {}
    for group, names in group_params(params).items():
        if not names:
            continue
        size = sum(params[name].numel() for name in names)
        prunable = sum(masks[name].numel() for name in names if name in masks)
        n = sum(pruned.get(name, 0) for name in names)
        groups[group] = {
            "params": size,
            "prunable": prunable,
            "pruned": n,
            "sparsity": _ratio(n, size),
            "prunable_sparsity": _ratio(n, prunable),
        }
    total = sum(t.numel() for t in params.values())
    n_pruned = sum(pruned.values())
    layers = {
        name: {
            "group": group_of(name),
            "numel": masks[name].numel(),
            "pruned": pruned[name],
            "sparsity": _ratio(pruned[name], masks[name].numel()),
        }
        for name in masks
    }
    network = {"params": total, "pruned": n_pruned, "sparsity": _ratio(n_pruned, total)}
    return {"network": network, "groups": groups, "layers": layers}


def mask_iou(a: Mapping[str, Tensor], b: Mapping[str, Tensor]) -> float:
    """Intersection over union of the PRUNED sets of two masks (1.0 when neither prunes)."""
    problems = _layout_problems(a, b, require_all=True) + _not_bool(a) + _not_bool(b)
    if problems:
        raise ValueError(
            f"masks cover different weights ({'; '.join(problems)}): compare masks of the same model, groups and kinds"
        )
    inter = sum(int((~a[name] & ~b[name]).sum()) for name in a)
    union = sum(int((~a[name] | ~b[name]).sum()) for name in a)
    return inter / union if union else 1.0


def _layout_problems(masks: Mapping[str, Tensor], ref: Mapping[str, Tensor], require_all: bool) -> list[str]:
    """Human-readable mismatches between ``masks`` and ``ref``: missing names, extra names, shapes."""
    problems = []
    missing = [name for name in masks if name not in ref]
    if missing:
        problems.append(f"not in the weights: {_names(missing)}")
    extra = [name for name in ref if name not in masks] if require_all else []
    if extra:
        problems.append(f"not in the mask: {_names(extra)}")
    shapes = [
        f"{name} {list(m.shape)} vs {list(ref[name].shape)}"
        for name, m in masks.items()
        if name in ref and m.shape != ref[name].shape
    ]
    if shapes:
        problems.append(f"shape mismatch (mask vs weights): {_names(shapes)}")
    return problems


def _not_bool(masks: Mapping[str, Tensor]) -> list[str]:
    wrong = [f"{name} is {m.dtype}" for name, m in masks.items() if m.dtype != torch.bool]
    return [f"not bool masks: {_names(wrong)}"] if wrong else []


def _names(items: Sequence[str]) -> str:
    shown = ", ".join(items[:_SHOWN])
    return shown if len(items) <= _SHOWN else f"{shown} and {len(items) - _SHOWN} more"


def _ratio(num: int, den: int) -> float:
    return num / den if den else 0.0


# ---------------------------------------------------------------------------------------------
# Command line


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; user errors print one line and return 2."""
    args = _parser().parse_args(argv)
    try:
        args.command(args)
    except (ValueError, FileNotFoundError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m lthsteps.masks", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(required=True, metavar="COMMAND")

    groups = sub.add_parser("groups", help="parameter count and prunable weights of each module group of a config")
    groups.add_argument("config", help="MMDetection config file")
    groups.add_argument("--cfg-options", nargs="+", default=[], metavar="KEY=VALUE", help="override config keys")
    groups.set_defaults(command=_cmd_groups)

    prune = sub.add_parser("prune", help="magnitude-prune the weights of a checkpoint into a mask file")
    prune.add_argument("--weights", required=True, help="checkpoint to rank the weights of")
    prune.add_argument("--sparsity", required=True, type=float, help="target sparsity, in [0, 1)")
    prune.add_argument("--scope", choices=SCOPES, default="global",
                       help="one magnitude ranking over all weights, one per module group, or one per tensor")
    prune.add_argument("--groups", required=True, type=_csv, help=f"comma-separated, from {','.join(GROUPS)}")
    prune.add_argument("--kinds", type=_csv, default=list(KINDS), help="comma-separated, from conv,linear")
    prune.add_argument("--exclude", action="append", default=[], metavar="REGEX",
                       help="leave parameters whose name matches dense (repeatable), e.g. '\\.downsample\\.'")
    prune.add_argument("--previous", help="mask of the previous round (required for --round > 1)")
    prune.add_argument("--round", type=int, default=1, help="this round, 1..ROUNDS (default 1)")
    prune.add_argument("--rounds", type=int, default=1, help="rounds to reach --sparsity (default 1: one-shot)")
    prune.add_argument("--out", required=True, help="mask file to write (.npz)")
    prune.add_argument("--report", required=True, help="sparsity report to write (.json)")
    prune.set_defaults(command=_cmd_prune)

    report = sub.add_parser("report", help="sparsity report of a checkpoint under a mask")
    report.add_argument("--weights", required=True)
    report.add_argument("--mask", required=True)
    report.add_argument("--out", required=True, help="report to write (.json)")
    report.set_defaults(command=_cmd_report)
    return parser


def _csv(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]


def _cmd_groups(args: argparse.Namespace) -> None:
    """Print the size of every module group of the detector built from ``args.config``."""
    from mmengine.config import DictAction

    from lthsteps.mm import build_model, load_config

    options = argparse.Namespace(cfg_options=None)
    DictAction(option_strings=[], dest="cfg_options")(None, options, args.cfg_options)
    state_dict = build_model(load_config(args.config, options.cfg_options)).state_dict()
    params = network_params(state_dict)
    total = sum(t.numel() for t in params.values())
    groups = {}
    for group, names in group_params(params).items():
        if names:
            n = sum(params[name].numel() for name in names)
            prunable = {
                kind: sum(t.numel() for t in prunable_weights(params, [group], [kind]).values()) for kind in KINDS
            }
            groups[group] = {"params": n, "share": _ratio(n, total), "prunable": prunable}
    print(json.dumps({"config": args.config, "total_params": total, "groups": groups}, indent=2))


def _cmd_prune(args: argparse.Namespace) -> None:
    """Validate all inputs, compute the round's masks, then write mask and report."""
    schedule = iterative_sparsities(args.sparsity, args.rounds)
    if not 1 <= args.round <= args.rounds:
        raise ValueError(f"--round must be in 1..{args.rounds} (--rounds), got {args.round}")
    if args.round > 1 and args.previous is None:
        raise ValueError(
            f"round {args.round} of {args.rounds} builds on round {args.round - 1}: pass its mask with --previous"
        )
    _check_choices("group", args.groups, GROUPS)
    _check_choices("kind", args.kinds, KINDS)
    _compile_patterns(args.exclude)
    state_dict = load_state_dict(args.weights)
    weights = prunable_weights(state_dict, args.groups, args.kinds, args.exclude)
    previous = load_masks(args.previous)[0] if args.previous else None
    masks = magnitude_masks(weights, schedule[args.round - 1], args.scope, previous)
    meta = {
        "sparsity": args.sparsity,
        "round_sparsity": schedule[args.round - 1],
        "scope": args.scope,
        "groups": args.groups,
        "kinds": args.kinds,
        "exclude": args.exclude,
        "round": args.round,
        "rounds": args.rounds,
        "source_checkpoint": str(args.weights),
        "previous_mask": args.previous,
    }
    save_masks_and_report(args.out, args.report, masks, meta, state_dict)


def _cmd_report(args: argparse.Namespace) -> None:
    """Write the sparsity report of a (trained) checkpoint, with pruned weights that are non-zero."""
    state_dict = load_state_dict(args.weights)
    masks, meta = load_masks(args.mask)
    report = {
        "weights": str(args.weights),
        "mask": str(args.mask),
        "meta": meta,
        **sparsity_report(state_dict, masks),
        "zeros_violations": zeros_violations(state_dict, masks),
    }
    text = json.dumps(report, indent=2)
    atomic_write(args.out, lambda tmp: Path(tmp).write_text(text))


if __name__ == "__main__":
    sys.exit(main())
